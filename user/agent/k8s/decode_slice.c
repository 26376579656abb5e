// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * An EndpointSlice (discovery.k8s.io/v1): the Service it belongs to (label
 * kubernetes.io/service-name), its ports and its endpoints with their
 * conditions and node. Conditions follow the API's reading: ready and
 * serving unset mean true, terminating unset means false. Of an endpoint's
 * addresses the first is used, as kube-proxy does. Slices of FQDN
 * addresses or without a Service are not ours.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "agent/k8s/decode_port.h"
#include "agent/k8s/objects.h"
#include "lib/log.h"
#include "node/services.h"

#define SERVICE_NAME_LABEL "kubernetes.io/service-name"

static int condition(json_t *conds, const char *name, int unset, const char *field,
		     uint8_t *out)
{
	json_t *v = json_object_get(conds, name);

	if (!v || json_is_null(v)) {
		*out = unset;
		return 0;
	}
	if (!json_is_boolean(v))
		return errorf_raw(-EINVAL, "%s.conditions.%s: want true or false", field, name);
	*out = json_is_true(v);
	return 0;
}

static int endpoint(json_t *j, const char *field, int family, struct svc_backend *b)
{
	json_t *addrs = json_object_get(j, "addresses"), *conds = json_object_get(j, "conditions");
	const char *a, *node;

	memset(b, 0, sizeof(*b));
	a = json_string_value(json_array_get(addrs, 0));
	if (!a)
		return errorf_raw(-EINVAL, "%s.addresses: want at least one address", field);
	if (ipaddr_parse(a, &b->addr) || b->addr.family != family)
		return errorf_raw(-EINVAL, "%s.addresses[0] \"%s\": not an %s address", field, a,
				  family == AF_INET ? "IPv4" : "IPv6");
	if (conds && !json_is_null(conds) && !json_is_object(conds))
		return errorf_raw(-EINVAL, "%s.conditions: want an object", field);
	if (condition(conds, "ready", 1, field, &b->ready) ||
	    condition(conds, "serving", 1, field, &b->serving) ||
	    condition(conds, "terminating", 0, field, &b->terminating))
		return -EINVAL;
	if (k8s_opt_str(j, "nodeName", &node))
		return error_prefix(-EINVAL, "%s", field);
	if (node && !(b->node_name = strdup(node)))
		return errorf(-ENOMEM, "%s", field);
	return 0;
}

static int endpoints(json_t *obj, int family, struct svc_slice *s)
{
	json_t *arr = json_object_get(obj, "endpoints"), *v;
	char field[48];
	size_t i;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return errorf_raw(-EINVAL, "endpoints: want an array");
	s->eps = calloc(json_array_size(arr) ?: 1, sizeof(*s->eps));
	if (!s->eps)
		return errorf(-ENOMEM, "endpoints");
	json_array_foreach(arr, i, v) {
		snprintf(field, sizeof(field), "endpoints[%zu]", i);
		s->n_eps = i + 1; /* freed with the slice, also half-filled */
		if (!json_is_object(v))
			return errorf_raw(-EINVAL, "%s: want an object", field);
		if (endpoint(v, field, family, &s->eps[i]))
			return -EINVAL;
	}
	return 0;
}

int k8s_decode_slice(json_t *obj, void **out)
{
	json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
	const char *ns = k8s_meta_str(obj, "namespace"), *name = k8s_meta_str(obj, "name");
	const char *svc, *type;
	struct svc_slice *s;
	int family, err;

	*out = NULL;
	if (!name || !*name || !ns || !*ns)
		return errorf_raw(-EINVAL, "no metadata.%s", name && *name ? "namespace" : "name");
	svc = json_string_value(json_object_get(labels, SERVICE_NAME_LABEL));
	if (!svc || !*svc)
		return K8S_NOT_OURS; /* not a Service's (a custom controller's) */
	if (k8s_opt_str(obj, "addressType", &type) || !type)
		return errorf_raw(-EINVAL, "addressType: want IPv4, IPv6 or FQDN");
	if (!strcmp(type, "FQDN"))
		return K8S_NOT_OURS;
	if (!strcmp(type, "IPv4"))
		family = AF_INET;
	else if (!strcmp(type, "IPv6"))
		family = AF_INET6;
	else
		return errorf_raw(-EINVAL, "addressType \"%s\": want IPv4, IPv6 or FQDN", type);
	s = calloc(1, sizeof(*s));
	if (!s)
		return errorf(-ENOMEM, "endpointslice");
	s->ns = strdup(ns);
	s->name = strdup(name);
	s->service = strdup(svc);
	err = !s->ns || !s->name || !s->service ? errorf(-ENOMEM, "endpointslice") : 0;
	if (!err)
		err = k8s_decode_ports(obj, "ports", 0, &s->ports, &s->n_ports);
	if (!err)
		err = endpoints(obj, family, s);
	if (err) {
		svc_slice_free(s);
		return err;
	}
	*out = s;
	return K8S_DECODED;
}
