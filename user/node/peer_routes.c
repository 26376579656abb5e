// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Native routing between nodes: every other node's pod CIDRs via its
 * InternalIP out of the uplink, as routes of our own protocol
 * (RTPROT_BRIDGELESS), so stale ones are found and removed without
 * touching anybody else's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <linux/rtnetlink.h>
#include "lib/log.h"
#include "netlink/route.h"
#include "node/peer_routes.h"

void peers_free(struct peers *p)
{
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

const struct peer *peers_find_self(const struct peers *p, const char *name,
				   uint32_t node_ip)
{
	size_t i;

	for (i = 0; p && i < p->n; i++)
		if (name && *name && !strcmp(p->v[i].name, name))
			return &p->v[i];
	for (i = 0; p && node_ip && i < p->n; i++)
		if (p->v[i].ip == node_ip)
			return &p->v[i];
	return NULL;
}


struct want {
	struct cidr cidr;
	uint32_t gw;
	const char *node;
	int found; /* a route of ours to it exists already */
};

struct route_set {
	struct route_spec *v;
	size_t n, cap;
};

static int collect_route(const struct route_spec *r, void *data)
{
	struct route_set *s = data;

	if (s->n == s->cap) {
		struct route_spec *nv;

		s->cap = s->cap ? s->cap * 2 : 32;
		nv = realloc(s->v, s->cap * sizeof(*nv));
		if (!nv)
			return errorf(-ENOMEM, "routes");
		s->v = nv;
	}
	s->v[s->n++] = *r;
	return 0;
}

static int overlaps(const struct cidr *a, const struct cidr *b)
{
	const struct cidr *wide = a->len <= b->len ? a : b;
	const struct cidr *narrow = wide == a ? b : a;

	return cidr_contains(wide, narrow->net);
}

static int is_self(const struct peer *p, const struct peers_self *self)
{
	int i;

	if (self->name && *self->name && !strcmp(p->name, self->name))
		return 1;
	if (p->ip && p->ip == self->node_ip)
		return 1;
	for (i = 0; i < p->n_cidrs; i++)
		if (p->cidrs[i].net == self->pod_cidr.net &&
		    p->cidrs[i].len == self->pod_cidr.len)
			return 1;
	return 0;
}

#define say(quiet, ...)                                \
	do {                                           \
		if (quiet)                             \
			pr_debug(__VA_ARGS__);         \
		else                                   \
			pr_warn(__VA_ARGS__);          \
	} while (0)

/* The routes we want: other peers' pod CIDRs via their InternalIP. */
static size_t build_wants(const struct peers *p, const struct peers_self *self,
			  int quiet, struct want *w, size_t max)
{
	char a[20], b[20], ip[16];
	size_t n = 0, i, k;
	int j;

	for (i = 0; p && i < p->n; i++) {
		const struct peer *pe = &p->v[i];

		if (is_self(pe, self))
			continue;
		if (!pe->n_cidrs || !pe->ip) {
			/* Normal while a node joins: no podCIDR assigned yet. */
			if (!quiet)
				pr_info("peers: node %s has %s; no route yet", pe->name,
					pe->n_cidrs ? "no InternalIP" : "no IPv4 podCIDR");
			continue;
		}
		for (j = 0; j < pe->n_cidrs && n < max; j++) {
			const struct cidr *c = &pe->cidrs[j];

			if (overlaps(c, &self->pod_cidr)) {
				say(quiet, "peers: node %s: podCIDR %s overlaps our pod CIDR %s; not routed",
				    pe->name, cidr_str(c, a), cidr_str(&self->pod_cidr, b));
				continue;
			}
			for (k = 0; k < n; k++)
				if (overlaps(&w[k].cidr, c))
					break;
			if (k < n) {
				say(quiet, "peers: node %s: podCIDR %s overlaps node %s's %s; not routed",
				    pe->name, cidr_str(c, a), w[k].node,
				    cidr_str(&w[k].cidr, b));
				continue;
			}
			if (!quiet && !overlaps(c, &self->cluster_cidr))
				pr_warn("peers: node %s: podCIDR %s is outside the cluster CIDR %s: pod traffic to it will be SNATed",
					pe->name, cidr_str(c, a),
					cidr_str(&self->cluster_cidr, b));
			if (!quiet)
				pr_debug("peers: node %s: %s via %s", pe->name,
					 cidr_str(c, a), ip_str(pe->ip, ip));
			w[n++] = (struct want){ *c, pe->ip, pe->name, 0 };
		}
	}
	return n;
}

static void route_name(const struct route_spec *r, char *buf, size_t len)
{
	struct cidr c;
	char a[20], g[16];

	cidr_from(&c, r->dst, r->dst_len);
	snprintf(buf, len, "%s via %s", cidr_str(&c, a), ip_str(r->gateway, g));
}

int peers_sync_routes(const struct peers *p, const struct peers_self *self,
		      int quiet, struct route_sync_stats *st)
{
	struct route_set cur = {};
	struct want *w = NULL;
	struct nl nl = {};
	size_t nw = 0, max, i, k;
	char name[64];
	int err;

	memset(st, 0, sizeof(*st));
	max = p ? p->n * PEER_CIDRS_MAX : 0;
	if (max) {
		w = calloc(max, sizeof(*w));
		if (!w)
			return errorf(-ENOMEM, "peers");
		nw = build_wants(p, self, quiet, w, max);
	}
	err = nl_open(&nl);
	if (!err)
		err = route_foreach(&nl, RTPROT_BRIDGELESS, collect_route, &cur);
	if (err)
		goto out;

	/* Stale first: a CIDR that moved to another node is re-added below. */
	for (i = 0; i < cur.n; i++) {
		struct route_spec *r = &cur.v[i];

		for (k = 0; k < nw; k++)
			if (w[k].cidr.net == r->dst && w[k].cidr.len == r->dst_len)
				break;
		if (k < nw && w[k].gw == r->gateway && r->oif == self->uplink_ifindex) {
			w[k].found = 1;
			continue;
		}
		if (k < nw)
			continue; /* same destination, new gateway: replaced below */
		route_name(r, name, sizeof(name));
		r->protocol = RTPROT_BRIDGELESS;
		err = route_del(&nl, r);
		if (err && err != -ESRCH) {
			pr_warn("peers: remove route %s: %s", name, error_message());
			st->failed++;
		} else {
			pr_info("peers: removed route %s (no such peer any more)", name);
			st->removed++;
		}
	}
	for (k = 0; k < nw; k++) {
		struct route_spec r = { .dst = w[k].cidr.net, .dst_len = w[k].cidr.len,
					.gateway = w[k].gw, .oif = self->uplink_ifindex,
					.scope = RT_SCOPE_UNIVERSE,
					.protocol = RTPROT_BRIDGELESS };
		int ours = 0;

		if (w[k].found)
			continue;
		for (i = 0; i < cur.n; i++)
			if (cur.v[i].dst == r.dst && cur.v[i].dst_len == r.dst_len)
				ours = 1;
		route_name(&r, name, sizeof(name));
		err = ours ? route_replace(&nl, &r) : route_add(&nl, &r);
		if (err == -EEXIST) {
			say(quiet, "peers: node %s: a route to %s exists and is not ours; left alone",
			    w[k].node, name);
			st->failed++;
		} else if (err) {
			say(quiet, "peers: node %s: route %s: %s", w[k].node, name,
			    error_message());
			st->failed++;
		} else {
			pr_info("peers: %s route %s (node %s)", ours ? "replaced" : "added",
				name, w[k].node);
			if (ours)
				st->replaced++;
			else
				st->added++;
		}
	}
	err = 0;
	error_clear();
out:
	nl_close(&nl);
	free(cur.v);
	free(w);
	return err;
}
