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
#include "netlink/address.h"
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

struct cidr_set {
	struct cidr *v;
	size_t n, cap;
};

static int collect_net(int ifindex, uint32_t ip, int prefix_len, void *data)
{
	struct cidr_set *s = data;

	if (prefix_len < 0 || prefix_len > 32)
		return 0;
	if (s->n == s->cap) {
		struct cidr *nv;

		s->cap = s->cap ? s->cap * 2 : 16;
		nv = realloc(s->v, s->cap * sizeof(*nv));
		if (!nv)
			return errorf(-ENOMEM, "addresses");
		s->v = nv;
	}
	cidr_from(&s->v[s->n++], ip, prefix_len);
	return 0;
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

size_t peers_wanted(const struct peers *p, const struct peers_self *self,
		    const struct cidr *connected, size_t n_connected, int quiet,
		    struct peer_route *w, size_t max)
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

			/* A route outside the cluster could take the node's own traffic. */
			if (!cidr_inside(c, &self->cluster_cidr)) {
				say(quiet, "peers: node %s: podCIDR %s is outside the cluster CIDR %s; not routed",
				    pe->name, cidr_str(c, a), cidr_str(&self->cluster_cidr, b));
				continue;
			}
			if (cidr_overlaps(c, &self->pod_cidr)) {
				say(quiet, "peers: node %s: podCIDR %s overlaps our pod CIDR %s; not routed",
				    pe->name, cidr_str(c, a), cidr_str(&self->pod_cidr, b));
				continue;
			}
			for (k = 0; k < n_connected; k++)
				if (cidr_overlaps(c, &connected[k]))
					break;
			if (k < n_connected) {
				say(quiet, "peers: node %s: podCIDR %s overlaps %s, a network of this node; not routed",
				    pe->name, cidr_str(c, a), cidr_str(&connected[k], b));
				continue;
			}
			for (k = 0; k < n; k++)
				if (cidr_overlaps(&w[k].dst, c))
					break;
			if (k < n) {
				say(quiet, "peers: node %s: podCIDR %s overlaps node %s's %s; not routed",
				    pe->name, cidr_str(c, a), w[k].node,
				    cidr_str(&w[k].dst, b));
				continue;
			}
			if (!quiet)
				pr_debug("peers: node %s: %s via %s", pe->name,
					 cidr_str(c, a), ip_str(pe->ip, ip));
			w[n++] = (struct peer_route){ *c, pe->ip, pe->name };
		}
	}
	return n;
}

size_t peers_route_actions(const struct route_spec *cur, size_t n_cur,
			   const struct peer_route *want, size_t n_want, int oif,
			   struct route_action *out)
{
	size_t n = 0, i, k;

	/* Stale first: a CIDR that moved to another node is re-added below. */
	for (i = 0; i < n_cur; i++) {
		for (k = 0; k < n_want; k++)
			if (want[k].dst.net == cur[i].dst && want[k].dst.len == cur[i].dst_len)
				break;
		if (k < n_want)
			continue; /* kept, or replaced below */
		out[n] = (struct route_action){ ROUTE_DEL, cur[i], NULL };
		out[n++].r.protocol = RTPROT_BRIDGELESS;
	}
	for (k = 0; k < n_want; k++) {
		struct route_spec r = { .dst = want[k].dst.net, .dst_len = want[k].dst.len,
					.gateway = want[k].gw, .oif = oif,
					.scope = RT_SCOPE_UNIVERSE,
					.protocol = RTPROT_BRIDGELESS };
		int ours = 0, same = 0;

		for (i = 0; i < n_cur; i++) {
			if (cur[i].dst != r.dst || cur[i].dst_len != r.dst_len)
				continue;
			ours = 1;
			if (cur[i].gateway == r.gateway && cur[i].oif == oif)
				same = 1;
		}
		if (same)
			continue;
		out[n++] = (struct route_action){ ours ? ROUTE_REPLACE : ROUTE_ADD, r,
						  want[k].node };
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
	struct cidr_set nets = {};
	struct peer_route *w = NULL;
	struct route_action *acts = NULL;
	struct nl nl = {};
	size_t nw = 0, max, na, i;
	char name[64];
	int err;

	memset(st, 0, sizeof(*st));
	err = nl_open(&nl);
	if (!err)
		err = route_foreach(&nl, RTPROT_BRIDGELESS, collect_route, &cur);
	if (!err)
		err = addr_foreach(&nl, collect_net, &nets);
	if (err)
		goto out;
	max = p ? p->n * PEER_CIDRS_MAX : 0;
	w = calloc(max + 1, sizeof(*w));
	acts = calloc(cur.n + max + 1, sizeof(*acts));
	if (!w || !acts) {
		err = errorf(-ENOMEM, "peers");
		goto out;
	}
	nw = peers_wanted(p, self, nets.v, nets.n, quiet, w, max);
	na = peers_route_actions(cur.v, cur.n, w, nw, self->uplink_ifindex, acts);
	for (i = 0; i < na; i++) {
		struct route_action *a = &acts[i];

		route_name(&a->r, name, sizeof(name));
		if (a->op == ROUTE_DEL) {
			err = route_del(&nl, &a->r);
			if (err && err != -ESRCH) {
				pr_warn("peers: remove route %s: %s", name, error_message());
				st->failed++;
			} else {
				pr_info("peers: removed route %s (no such peer any more)", name);
				st->removed++;
			}
			continue;
		}
		err = a->op == ROUTE_REPLACE ? route_replace(&nl, &a->r) : route_add(&nl, &a->r);
		if (err == -EEXIST) {
			say(quiet, "peers: node %s: a route to %s exists and is not ours; left alone",
			    a->node, name);
			st->failed++;
		} else if (err) {
			say(quiet, "peers: node %s: route %s: %s", a->node, name,
			    error_message());
			st->failed++;
		} else if (a->op == ROUTE_REPLACE) {
			pr_info("peers: replaced route %s (node %s)", name, a->node);
			st->replaced++;
		} else {
			pr_info("peers: added route %s (node %s)", name, a->node);
			st->added++;
		}
	}
	err = 0;
	error_clear();
out:
	nl_close(&nl);
	free(cur.v);
	free(nets.v);
	free(w);
	free(acts);
	return err;
}
