/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kubernetes objects from a JSON file, as kubectl writes them: a List
 * (`kubectl get services,endpointslices -A -o json`), a NodeList
 * (`kubectl get nodes -o json`), a bare array of objects, or one object.
 * Each item goes through the same decoder as the API's objects.
 */
#ifndef BL_K8S_LIST_FILE_H
#define BL_K8S_LIST_FILE_H

#include "agent/k8s/objects.h"
#include "agent/k8s/store.h"

/* The file's items by resource: a full list of each. */
struct k8s_file_items {
	struct store_item *v[K8S_RES_MAX];
	size_t n[K8S_RES_MAX];
	size_t cap[K8S_RES_MAX];
};

/*
 * Read path, keeping the items of the resources in want (a bit per enum
 * k8s_res); an item without a kind is taken for def. Malformed items are
 * logged (naming the file) and kept without an object. Errors name the
 * file (and line for bad JSON); -ENOENT when it is missing.
 */
int k8s_file_load(const char *path, unsigned int want, enum k8s_res def,
		  struct k8s_file_items *out);
/* The same from the file's parsed JSON; where names it in log lines ("file PATH"). */
int k8s_items_from_json(json_t *root, const char *where, unsigned int want,
			enum k8s_res def, struct k8s_file_items *out);
void k8s_file_items_free(struct k8s_file_items *f);

#endif
