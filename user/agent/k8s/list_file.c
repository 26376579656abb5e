// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "agent/k8s/list_file.h"
#include "lib/log.h"

static int add(struct k8s_file_items *f, enum k8s_res r, json_t *obj, const char *where)
{
	struct store_item it, *nv;

	if (k8s_decode_item(r, obj, where, &it))
		return 0; /* not ours, or logged */
	if (f->n[r] == f->cap[r]) {
		f->cap[r] = f->cap[r] * 2 + 16;
		nv = realloc(f->v[r], f->cap[r] * sizeof(*nv));
	} else {
		nv = f->v[r];
	}
	if (!nv) {
		free(it.key);
		if (it.obj)
			k8s_resources[r].free(it.obj);
		return -ENOMEM;
	}
	f->v[r] = nv;
	f->v[r][f->n[r]++] = it;
	return 0;
}

int k8s_file_load(const char *path, unsigned int want, enum k8s_res def,
		  struct k8s_file_items *out)
{
	json_error_t jerr;
	json_t *root;
	char where[512];
	int err;

	memset(out, 0, sizeof(*out));
	root = json_load_file(path, 0, &jerr);
	if (!root) {
		FILE *f = fopen(path, "re");

		if (!f)
			return errorf(-errno, "%s", path);
		fclose(f);
		return errorf_raw(-EINVAL, "%s: line %d: %s", path, jerr.line, jerr.text);
	}
	snprintf(where, sizeof(where), "file %s", path);
	err = k8s_items_from_json(root, where, want, def, out);
	json_decref(root);
	return err ? error_prefix(err, "%s", path) : 0;
}

int k8s_items_from_json(json_t *root, const char *where, unsigned int want,
			enum k8s_res def, struct k8s_file_items *out)
{
	json_t *items, *obj;
	size_t i;
	int r, err = 0;

	memset(out, 0, sizeof(*out));
	if (json_is_array(root))
		items = root;
	else if (json_is_array(json_object_get(root, "items")))
		items = json_object_get(root, "items");
	else if (json_is_object(root) && (json_object_get(root, "metadata") ||
					  json_object_get(root, "spec")))
		items = NULL; /* a single object */
	else
		return errorf_raw(-EINVAL,
				  "want a List ({\"items\": [...]}), an array of objects or one object");
	for (i = 0; !err && i < (items ? json_array_size(items) : 1); i++) {
		obj = items ? json_array_get(items, i) : root;
		if (!json_is_object(obj))
			continue;
		r = json_object_get(obj, "kind") ?
			    k8s_res_of_kind(json_string_value(json_object_get(obj, "kind"))) :
			    (int)def;
		if (r < 0 || !(want & (1u << r)))
			continue;
		err = add(out, r, obj, where);
	}
	if (err) {
		k8s_file_items_free(out);
		return errorf(err, "items");
	}
	return 0;
}

void k8s_file_items_free(struct k8s_file_items *f)
{
	int r;

	for (r = 0; r < K8S_RES_MAX; r++) {
		store_items_free(f->v[r], f->n[r], k8s_resources[r].free);
		f->v[r] = NULL;
		f->n[r] = f->cap[r] = 0;
	}
}
