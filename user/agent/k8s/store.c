// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE /* twalk_r, tdestroy */
#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include "agent/k8s/store.h"
#include "lib/log.h"

struct store_entry {
	char *key;
	void *obj;
	unsigned int gen; /* the last full list that had it */
};

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_entry *)a)->key, ((const struct store_entry *)b)->key);
}

void store_init(struct k8s_store *s, void (*free_obj)(void *obj))
{
	memset(s, 0, sizeof(*s));
	s->free = free_obj;
}

static struct store_entry *entry_new(const char *key, void *obj)
{
	struct store_entry *e = malloc(sizeof(*e));

	if (e && !(e->key = strdup(key))) {
		free(e);
		e = NULL;
	}
	if (e) {
		e->obj = obj;
		e->gen = 0;
	}
	return e;
}

/* Into the tree at *root; a same-keyed entry is replaced. */
static int insert(void **root, size_t *n, struct store_entry *e, void (*free_obj)(void *))
{
	struct store_entry **slot = tsearch(e, root, entry_cmp);

	if (!slot)
		return -ENOMEM;
	if (*slot != e) {
		if (free_obj)
			free_obj((*slot)->obj);
		(*slot)->obj = e->obj;
		free(e->key);
		free(e);
	} else {
		(*n)++;
	}
	return 0;
}

int store_put(struct k8s_store *s, const char *key, void *obj)
{
	struct store_entry *e = entry_new(key, obj);

	if (!e || insert(&s->root, &s->n, e, s->free)) {
		if (e) {
			free(e->key);
			free(e);
		}
		if (s->free)
			s->free(obj);
		return errorf(-ENOMEM, "store %s", key);
	}
	return 0;
}

int store_del(struct k8s_store *s, const char *key)
{
	struct store_entry probe = { .key = (char *)key }, **slot, *e;

	slot = tfind(&probe, &s->root, entry_cmp);
	if (!slot)
		return 0;
	e = *slot;
	tdelete(&probe, &s->root, entry_cmp);
	if (s->free)
		s->free(e->obj);
	free(e->key);
	free(e);
	s->n--;
	return 1;
}

static void entry_free(void *p)
{
	struct store_entry *e = p;

	free(e->key);
	free(e);
}

static void free_obj_of(const void *node, VISIT v, void *closure)
{
	struct store_entry *e = *(struct store_entry *const *)node;
	void (*free_obj)(void *) = (void (*)(void *))closure;

	if (v == postorder || v == leaf)
		free_obj(e->obj);
}

struct sweep {
	unsigned int gen;
	char **stale;
	size_t n, cap;
	int oom;
};

static void collect_stale(const void *node, VISIT v, void *closure)
{
	const struct store_entry *e = *(struct store_entry *const *)node;
	struct sweep *sw = closure;

	if ((v != postorder && v != leaf) || e->gen == sw->gen || sw->oom)
		return;
	if (sw->n == sw->cap) {
		char **nv = realloc(sw->stale, (sw->cap = sw->cap * 2 + 64) * sizeof(*nv));

		if (!nv) {
			sw->oom = 1;
			return;
		}
		sw->stale = nv;
	}
	sw->stale[sw->n++] = e->key;
}

int store_sync(struct k8s_store *s, struct store_item *items, size_t n)
{
	struct sweep sw = { .gen = ++s->gen };
	struct store_entry probe, **slot;
	size_t i;
	int err;

	/* Mark what the list has (new objects replace old ones), then sweep. */
	for (i = 0; i < n; i++) {
		if (items[i].obj) {
			err = store_put(s, items[i].key, items[i].obj);
			items[i].obj = NULL;
			if (err)
				return err; /* nothing swept: no object lost */
		}
		probe.key = items[i].key;
		slot = tfind(&probe, &s->root, entry_cmp);
		if (slot)
			(*slot)->gen = sw.gen;
	}
	twalk_r(s->root, collect_stale, &sw);
	if (sw.oom) {
		free(sw.stale);
		return errorf(-ENOMEM, "store");
	}
	/* The keys are the entries' own, which store_del frees: copy them first. */
	for (i = 0; i < sw.n; i++)
		sw.stale[i] = strdup(sw.stale[i]);
	for (i = 0; i < sw.n; i++) {
		if (sw.stale[i])
			store_del(s, sw.stale[i]);
		free(sw.stale[i]);
	}
	free(sw.stale);
	return 0;
}

struct walk_ctx {
	void (*fn)(const char *key, void *obj, void *data);
	void *data;
};

static void walk_one(const void *node, VISIT v, void *closure)
{
	const struct store_entry *e = *(struct store_entry *const *)node;
	struct walk_ctx *w = closure;

	if (v == postorder || v == leaf)
		w->fn(e->key, e->obj, w->data);
}

void store_walk(const struct k8s_store *s, void (*fn)(const char *key, void *obj, void *data),
		void *data)
{
	struct walk_ctx w = { fn, data };

	twalk_r(s->root, walk_one, &w);
}

void store_free(struct k8s_store *s)
{
	if (s->free)
		twalk_r(s->root, free_obj_of, (void *)s->free);
	tdestroy(s->root, entry_free);
	s->root = NULL;
	s->n = 0;
}

void store_items_free(struct store_item *items, size_t n, void (*free_obj)(void *obj))
{
	size_t i;

	for (i = 0; items && i < n; i++) {
		free(items[i].key);
		if (free_obj && items[i].obj)
			free_obj(items[i].obj);
	}
	free(items);
}
