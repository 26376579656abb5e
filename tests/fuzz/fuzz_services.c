// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Services and EndpointSlices, as the services file or a LIST answer of
 * the API gives them (a List, an array of objects, one object), through
 * the agent's own path: the decoders, the stores (a full list each), the
 * service table. Oracles: the table is in order (namespace, name) with no
 * service twice and each port's backends in order with none twice; the
 * same objects in the opposite order give the same table; the table,
 * written as services.json and read back, is the same table and writes
 * the same text again; the same list taken again changes nothing.
 */
#include "agent/k8s/list_file.h"
#include "node/services.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

struct objs {
	void **v;
	size_t n;
};

static void add_obj(const char *key, void *obj, void *data)
{
	struct objs *o = data;

	o->v[o->n++] = obj;
}

static void collect(const struct k8s_store *s, struct objs *o, int reverse)
{
	size_t i;
	void *t;

	o->n = 0;
	o->v = calloc(s->n + 1, sizeof(*o->v));
	oracle(o->v, "out of memory");
	store_walk(s, add_obj, o);
	for (i = 0; reverse && i < o->n / 2; i++) {
		t = o->v[i];
		o->v[i] = o->v[o->n - 1 - i];
		o->v[o->n - 1 - i] = t;
	}
}

static int build(struct k8s_store *st, int reverse, struct svc_table *t)
{
	struct objs specs, slices;
	int err;

	collect(&st[K8S_SERVICES], &specs, reverse);
	collect(&st[K8S_SLICES], &slices, reverse);
	err = svc_table_build((struct svc_spec *const *)specs.v, specs.n,
			      (struct svc_slice *const *)slices.v, slices.n, t);
	free(specs.v);
	free(slices.v);
	return err;
}

static void check_order(const struct svc_table *t)
{
	size_t i, k, b;
	int r;

	for (i = 0; i < t->n; i++) {
		const struct service *s = &t->v[i];

		if (i) {
			r = strcmp(t->v[i - 1].ns, s->ns);
			oracle(r < 0 || (!r && strcmp(t->v[i - 1].name, s->name) < 0),
			       "services out of order or twice: %s/%s after %s/%s", s->ns,
			       s->name, t->v[i - 1].ns, t->v[i - 1].name);
		}
		oracle(s->n_ips >= 1 && s->n_ips <= SVC_IPS_MAX, "%s/%s: %d cluster IPs",
		       s->ns, s->name, s->n_ips);
		for (k = 0; k < s->n_ports; k++) {
			const struct svc_port *p = &s->ports[k];

			oracle(p->def.port, "%s/%s: port 0", s->ns, s->name);
			for (b = 1; b < p->n_backends; b++) {
				r = ipaddr_cmp(&p->backends[b - 1].addr, &p->backends[b].addr);
				oracle(r < 0 || (!r && p->backends[b - 1].port < p->backends[b].port),
				       "%s/%s: backends out of order or twice", s->ns, s->name);
			}
		}
	}
}

static void changed(const struct service *old, const struct service *new, void *data)
{
}

static void same(const struct svc_table *a, const struct svc_table *b, const char *what)
{
	size_t i;

	oracle(a->n == b->n, "%s: %zu services, then %zu", what, a->n, b->n);
	for (i = 0; i < a->n; i++)
		oracle(service_equal(&a->v[i], &b->v[i]), "%s: %s/%s differs", what,
		       a->v[i].ns, a->v[i].name);
	oracle(svc_table_diff(a, b, changed, NULL) == 0, "%s: the diff sees a change", what);
}

static void check_json(const struct svc_table *t)
{
	json_t *a, *b;
	struct svc_table back;
	char *sa, *sb;

	a = svc_table_to_json(t);
	oracle(a, "table not written");
	oracle(svc_table_from_json(a, &back) == 0, "written table refused: %s",
	       error_message());
	same(t, &back, "services.json read back");
	b = svc_table_to_json(&back);
	sa = json_dumps(a, JSON_SORT_KEYS);
	sb = json_dumps(b, JSON_SORT_KEYS);
	oracle(sa && sb && !strcmp(sa, sb), "services.json written otherwise the second time");
	free(sa);
	free(sb);
	json_decref(a);
	json_decref(b);
	svc_table_free(&back);
}

static int load(json_t *j, struct k8s_store *st)
{
	struct k8s_file_items items;
	int r, err;

	for (r = 0; r < K8S_RES_MAX; r++)
		store_init(&st[r], k8s_resources[r].free);
	err = k8s_items_from_json(j, "fuzz", 1u << K8S_SERVICES | 1u << K8S_SLICES,
				  K8S_SERVICES, &items);
	if (err)
		return err;
	for (r = 0; r < K8S_RES_MAX; r++)
		oracle(store_sync(&st[r], items.v[r], items.n[r]) == 0, "store_sync failed");
	k8s_file_items_free(&items);
	return 0;
}

static void free_stores(struct k8s_store *st)
{
	int r;

	for (r = 0; r < K8S_RES_MAX; r++)
		store_free(&st[r]);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct k8s_store st[K8S_RES_MAX], again[K8S_RES_MAX];
	struct svc_table t, rev, t2;
	json_t *j;

	if (size > 65536)
		return 0;
	j = json_loadb((const char *)data, size, 0, NULL);
	if (!j)
		return 0;
	if (load(j, st)) {
		free_stores(st);
		json_decref(j);
		error_clear();
		return 0;
	}
	oracle(build(st, 0, &t) == 0, "table not built: %s", error_message());
	check_order(&t);
	oracle(build(st, 1, &rev) == 0, "table not built: %s", error_message());
	same(&t, &rev, "the objects in the opposite order");
	check_json(&t);
	oracle(load(j, again) == 0, "the same list refused the second time");
	oracle(build(again, 0, &t2) == 0, "table not built: %s", error_message());
	same(&t, &t2, "the same list again");
	svc_table_free(&t);
	svc_table_free(&rev);
	svc_table_free(&t2);
	free_stores(st);
	free_stores(again);
	json_decref(j);
	error_clear();
	return 0;
}
