// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The resources the agent follows, and what all their decoders share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent/k8s/objects.h"
#include "agent/k8s/store.h"
#include "lib/log.h"
#include "node/peer_routes.h"
#include "node/services.h"

static void free_peer(void *p)
{
	free(p);
}

static void free_spec(void *p)
{
	svc_spec_free(p);
}

static void free_slice(void *p)
{
	svc_slice_free(p);
}

const struct k8s_resource k8s_resources[K8S_RES_MAX] = {
	[K8S_NODES] = { "nodes", "Node", "/api/v1/nodes", k8s_decode_node, free_peer },
	[K8S_SERVICES] = { "services", "Service", "/api/v1/services", k8s_decode_service,
			   free_spec },
	[K8S_SLICES] = { "endpointslices", "EndpointSlice",
			 "/apis/discovery.k8s.io/v1/endpointslices", k8s_decode_slice,
			 free_slice },
};

int k8s_res_of_kind(const char *kind)
{
	int i;

	for (i = 0; kind && i < K8S_RES_MAX; i++)
		if (!strcmp(kind, k8s_resources[i].kind))
			return i;
	return -1;
}

const char *k8s_meta_str(json_t *obj, const char *field)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

int k8s_object_key(json_t *obj, char *buf, size_t len)
{
	const char *name = k8s_meta_str(obj, "name"), *ns = k8s_meta_str(obj, "namespace");

	if (!name || !*name) {
		snprintf(buf, len, "?");
		return errorf_raw(-EINVAL, "no metadata.name");
	}
	if (ns && *ns)
		snprintf(buf, len, "%s/%s", ns, name);
	else
		snprintf(buf, len, "%s", name);
	return 0;
}

const char *k8s_object_rv(json_t *obj)
{
	return k8s_meta_str(obj, "resourceVersion");
}

int k8s_opt_str(json_t *obj, const char *field, const char **out)
{
	json_t *v = json_object_get(obj, field);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return errorf_raw(-EINVAL, "%s: want a string", field);
	*out = json_string_value(v);
	return 0;
}

char *k8s_strdup(const char *s)
{
	return strdup(s ? s : "");
}

int k8s_decode_item(enum k8s_res r, json_t *obj, const char *where, struct store_item *item)
{
	const struct k8s_resource *res = &k8s_resources[r];
	char key[512];
	int err;

	item->key = NULL;
	item->obj = NULL;
	if (k8s_object_key(obj, key, sizeof(key))) {
		pr_warn("%s: %s: an object without metadata.name; ignored", where, res->name);
		error_clear();
		return -EINVAL;
	}
	err = res->decode(obj, &item->obj);
	if (err == K8S_NOT_OURS)
		return K8S_NOT_OURS;
	if (err) {
		pr_warn("%s: %s %s: %s; ignored, keeping its last good state", where, res->name,
			key, error_message());
		error_clear();
		item->obj = NULL;
	}
	item->key = strdup(key);
	if (!item->key) {
		if (item->obj)
			res->free(item->obj);
		item->obj = NULL;
		return -ENOMEM;
	}
	return 0;
}
