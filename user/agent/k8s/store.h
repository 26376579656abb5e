/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The decoded objects of one resource by key ("namespace/name"), as the
 * agent last heard of them: changed one at a time by watch events, or
 * made to hold exactly a full list (a LIST, a relist after 410 Gone, a
 * file read). A binary tree (glibc's tsearch), so walks are in key order.
 */
#ifndef BL_K8S_STORE_H
#define BL_K8S_STORE_H

#include <stddef.h>

struct k8s_store {
	void *root;
	size_t n;
	void (*free)(void *obj);
	unsigned int gen; /* of the last store_sync */
};

/* One object of a full list. obj NULL: it did not decode; keep the one we have. */
struct store_item {
	char *key;
	void *obj;
};

void store_init(struct k8s_store *s, void (*free_obj)(void *obj));
/* Insert or replace key's object; takes obj (freed on failure too). */
int store_put(struct k8s_store *s, const char *key, void *obj);
/* 1 if there was such an object. */
int store_del(struct k8s_store *s, const char *key);
/*
 * Make the store hold exactly the items (their keys are distinct), taking
 * their objects; an item without one keeps the object the store has.
 * Objects not among the items are dropped.
 */
int store_sync(struct k8s_store *s, struct store_item *items, size_t n);
/* Every object in key order. */
void store_walk(const struct k8s_store *s, void (*fn)(const char *key, void *obj, void *data),
		void *data);
void store_free(struct k8s_store *s);

void store_items_free(struct store_item *items, size_t n, void (*free_obj)(void *obj));

#endif
