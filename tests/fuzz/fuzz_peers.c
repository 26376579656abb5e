// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The peers file (a NodeList, or an array of Nodes), and the routes the
 * agent makes of it for a node (the first bytes of the input pick its pod
 * CIDR inside 10.0.0.0/8 and one connected network). Oracles: every route
 * wanted is inside the cluster CIDR and overlaps neither the pod CIDR, the
 * connected network nor another route; syncing an empty table installs
 * them, and a second sync over the result changes nothing.
 */
#include <arpa/inet.h>
#include "agent/peers_file.h"
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

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct peers p;
	struct peers_self self = { .name = "me", .uplink_ifindex = 2 };
	struct cidr conn;
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
	if (peers_from_json(j, "fuzz", &p)) {
		json_decref(j);
		error_clear();
		return 0;
	}
	json_decref(j);
	max = p.n * PEER_CIDRS_MAX;
	w = calloc(max + 1, sizeof(*w));
	acts = calloc(2 * max + 1, sizeof(*acts));
	table = calloc(2 * max + 1, sizeof(*table));
	nw = peers_wanted(&p, &self, &conn, 1, 0, w, max);
	for (i = 0; i < nw; i++) {
		oracle(cidr_inside(&w[i].dst, &self.cluster_cidr), "route outside the cluster");
		oracle(!cidr_overlaps(&w[i].dst, &self.pod_cidr), "route over our pod CIDR");
		oracle(!cidr_overlaps(&w[i].dst, &conn), "route over a connected network");
		oracle(w[i].gw, "route without a gateway");
		for (k = 0; k < i; k++)
			oracle(!cidr_overlaps(&w[i].dst, &w[k].dst), "routes overlap");
	}
	na = peers_route_actions(table, 0, w, nw, self.uplink_ifindex, acts);
	n = apply(table, 0, acts, na);
	oracle(n == nw, "%zu routes wanted, %zu made", nw, n);
	na = peers_route_actions(table, n, w, nw, self.uplink_ifindex, acts);
	oracle(na == 0, "a second sync changes %zu routes", na);
	/* The peers gone: every route of ours goes. */
	na = peers_route_actions(table, n, w, 0, self.uplink_ifindex, acts);
	oracle(apply(table, n, acts, na) == 0, "routes left with no peers");
	free(w);
	free(acts);
	free(table);
	peers_free(&p);
	error_clear();
	return 0;
}
