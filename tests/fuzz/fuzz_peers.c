// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Nodes, as the peers file or a LIST answer of the API gives them (a
 * NodeList, an array of Nodes, one Node), through the agent's own path:
 * the Node decoder, the store (a full list), and the routes the agent
 * makes of them for a node (the first bytes of the input pick its pod
 * CIDR inside 10.0.0.0/8 and one connected network). Oracles: every route
 * wanted is inside the cluster CIDR and overlaps neither the pod CIDR, the
 * connected network nor another route; syncing an empty table installs
 * them, a second sync over the result changes nothing, and the same list
 * taken again changes no peer.
 */
#include <arpa/inet.h>
#include "agent/k8s/list_file.h"
#include "node/peer_routes.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

/* What the actions leave in a table of our routes. */
static size_t apply(struct route_spec *t, size_t n, const struct route_action *a, size_t na)
{
	size_t i, k;

	for (i = 0; i < na; i++) {
		for (k = 0; k < n; k++)
			if (t[k].dst == a[i].r.dst && t[k].dst_len == a[i].r.dst_len)
				break;
		if (a[i].op == ROUTE_DEL) {
			oracle(k < n, "deleting a route that is not there");
			t[k] = t[--n];
		} else if (a[i].op == ROUTE_ADD) {
			oracle(k == n, "adding a route that is there");
			t[n++] = a[i].r;
		} else {
			oracle(k < n, "replacing a route that is not there");
			t[k] = a[i].r;
		}
	}
	return n;
}

static void add_peer(const char *key, void *obj, void *data)
{
	struct peers *p = data;

	p->v[p->n++] = *(struct peer *)obj;
}

/* The Nodes of j, as the agent keeps them (store) and hands them to the routes (p). */
static int load_peers(json_t *j, struct k8s_store *store, struct peers *p)
{
	struct k8s_file_items items;
	int err;

	store_init(store, k8s_resources[K8S_NODES].free);
	memset(p, 0, sizeof(*p));
	err = k8s_items_from_json(j, "fuzz", 1u << K8S_NODES, K8S_NODES, &items);
	if (err)
		return err;
	err = store_sync(store, items.v[K8S_NODES], items.n[K8S_NODES]);
	k8s_file_items_free(&items);
	oracle(!err, "store_sync failed: %s", error_message());
	p->v = calloc(store->n + 1, sizeof(*p->v));
	oracle(p->v, "out of memory");
	store_walk(store, add_peer, p);
	oracle(p->n == store->n, "%zu peers from %zu nodes", p->n, store->n);
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct k8s_store store;
	struct peers p;
	struct peers_self self = { .name = "me", .uplink_ifindex = 2 };
	struct cidr conn;
	struct prefix connp, ours;
	struct peer_route *w;
	struct route_action *acts;
	struct route_spec *table;
	size_t nw, na, n, max, i, k;
	json_t *j;

	if (size < 3 || size > 65536)
		return 0;
	cidr_from(&self.cluster_cidr, htonl(10u << 24), 8);
	cidr_from(&self.pod_cidr, htonl(10u << 24 | data[0] << 16), 24);
	cidr_from(&conn, htonl(10u << 24 | data[1] << 16 | data[2] << 8), data[2] % 33);
	self.node_ip = htonl(10u << 24 | data[1] << 16 | data[2] << 8 | 1);
	j = json_loadb((const char *)data + 3, size - 3, 0, NULL);
	if (!j)
		return 0;
	if (load_peers(j, &store, &p)) {
		json_decref(j);
		store_free(&store);
		error_clear();
		return 0;
	}
	/* The same list again (a relist, the file read again): the same peers. */
	{
		struct k8s_store again;
		struct peers q;

		oracle(load_peers(j, &again, &q) == 0, "the same list refused the second time");
		oracle(q.n == p.n && (!p.n || !memcmp(p.v, q.v, p.n * sizeof(*p.v))),
		       "the same list gives other peers");
		free(q.v);
		store_free(&again);
	}
	json_decref(j);
	max = p.n * PEER_CIDRS_MAX;
	w = calloc(max + 1, sizeof(*w));
	acts = calloc(2 * max + 1, sizeof(*acts));
	table = calloc(2 * max + 1, sizeof(*table));
	prefix_from_cidr(&connp, &conn);
	prefix_from_cidr(&ours, &self.pod_cidr);
	nw = peers_wanted(&p, &self, AF_INET, &connp, 1, 0, w, max);
	for (i = 0; i < nw; i++) {
		struct cidr dst;
		uint32_t gw;

		oracle(w[i].dst.family == AF_INET && prefix_to_cidr(&w[i].dst, &dst) == 0,
		       "route not IPv4");
		oracle(cidr_inside(&dst, &self.cluster_cidr), "route outside the cluster");
		oracle(!prefix_overlaps(&w[i].dst, &ours), "route over our pod CIDR");
		oracle(!prefix_overlaps(&w[i].dst, &connp), "route over a connected network");
		memcpy(&gw, w[i].gw, 4);
		oracle(gw, "route without a gateway");
		for (k = 0; k < i; k++)
			oracle(!prefix_overlaps(&w[i].dst, &w[k].dst), "routes overlap");
	}
	na = peers_route_actions(table, 0, w, nw, AF_INET, self.uplink_ifindex, acts);
	n = apply(table, 0, acts, na);
	oracle(n == nw, "%zu routes wanted, %zu made", nw, n);
	na = peers_route_actions(table, n, w, nw, AF_INET, self.uplink_ifindex, acts);
	oracle(na == 0, "a second sync changes %zu routes", na);
	/* The peers gone: every route of ours goes. */
	na = peers_route_actions(table, n, w, 0, AF_INET, self.uplink_ifindex, acts);
	oracle(apply(table, n, acts, na) == 0, "routes left with no peers");
	free(w);
	free(acts);
	free(table);
	free(p.v); /* the peers themselves are the store's */
	store_free(&store);
	error_clear();
	return 0;
}
