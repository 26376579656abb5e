/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Kubernetes objects the agent follows and their one decoder each,
 * used alike for the API's LIST and WATCH answers and for the files
 * (--peers, --services): Nodes become struct peer (node/peer_routes.h),
 * Services struct svc_spec and EndpointSlices struct svc_slice
 * (node/services.h).
 */
#ifndef BL_K8S_OBJECTS_H
#define BL_K8S_OBJECTS_H

#include <stddef.h>
#include <jansson.h>

enum k8s_res { K8S_NODES, K8S_SERVICES, K8S_SLICES, K8S_RES_MAX };

/* What a decoder says of an object. */
enum {
	K8S_DECODED = 0, /* *out holds it */
	K8S_NOT_OURS = 1, /* a valid object the agent does not follow (headless...) */
	/* -EINVAL: malformed, the current error says why */
};

struct k8s_resource {
	const char *name; /* "endpointslices": in logs and metric labels */
	const char *kind; /* "EndpointSlice": in a List */
	const char *path; /* "/apis/discovery.k8s.io/v1/endpointslices" */
	int (*decode)(json_t *obj, void **out);
	void (*free)(void *obj);
};

extern const struct k8s_resource k8s_resources[K8S_RES_MAX];

/* The resource a List item of this kind belongs to; -1 if none of ours. */
int k8s_res_of_kind(const char *kind);

/* "namespace/name" (or "name" for a cluster-wide object) into buf. -EINVAL if unnamed. */
int k8s_object_key(json_t *obj, char *buf, size_t len);
/* metadata.resourceVersion; NULL if missing. */
const char *k8s_object_rv(json_t *obj);

int k8s_decode_node(json_t *obj, void **out);
int k8s_decode_service(json_t *obj, void **out);
int k8s_decode_slice(json_t *obj, void **out);

struct store_item;
/*
 * Decode obj as a resource r into item (key and object). A malformed
 * object is logged as one line naming where, the resource, the object and
 * the cause, and gives an item without an object (the store keeps the last
 * good one). K8S_NOT_OURS: no item, the object is not followed; -EINVAL
 * (logged): not even a name.
 */
int k8s_decode_item(enum k8s_res r, json_t *obj, const char *where, struct store_item *item);

/* Helpers for the decoders. */
const char *k8s_meta_str(json_t *obj, const char *field);
/* An optional string field: NULL if absent or null, -EINVAL if not a string. */
int k8s_opt_str(json_t *obj, const char *field, const char **out);
/* A copy of s, "" for NULL; NULL only when out of memory. */
char *k8s_strdup(const char *s);

#endif
