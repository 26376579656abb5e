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


/* A route we want: a peer's pod CIDR via its InternalIP, of either family. */
struct want {
	struct prefix cidr;
	uint8_t gw[16]; /* IPv4 in the first 4 bytes */
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

static int is_self(const struct peer *p, const struct peers_self *self)
{
	int i;

	if (self->name && *self->name && !strcmp(p->name, self->name))
		return 1;
	if (p->ip && p->ip == self->node_ip)
		return 1;
	if (p->has_ip6 && self->pod_cidr6.family == AF_INET6 &&
	    !memcmp(p->ip6, self->node_ip6, 16))
		return 1;
	for (i = 0; i < p->n_cidrs; i++)
		if (self->pod_cidr.len && p->cidrs[i].net == self->pod_cidr.net &&
		    p->cidrs[i].len == self->pod_cidr.len)
			return 1;
	for (i = 0; i < p->n_cidrs6; i++)
		if (prefix_equal(&p->cidrs6[i], &self->pod_cidr6))
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

static const char *gw_str(int family, const uint8_t *gw, char *buf)
{
	uint32_t ip;

	if (family == AF_INET6)
		return ip6_str(gw, buf);
	memcpy(&ip, gw, 4);
	return ip_str(ip, buf);
}

/* The routes we want of family: other peers' pod CIDRs via their InternalIP. */
static size_t build_wants(const struct peers *p, const struct peers_self *self,
			  int family, int quiet, struct want *w, size_t max)
{
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN], ip[IPADDR_STRLEN];
	struct prefix ours, cluster, c;
	size_t n = 0, i, k;
	int j, v6 = family == AF_INET6;

	if (v6) {
		ours = self->pod_cidr6;
		cluster = self->cluster_cidr6;
	} else {
		prefix_from_cidr(&ours, &self->pod_cidr);
		prefix_from_cidr(&cluster, &self->cluster_cidr);
	}
	for (i = 0; p && i < p->n; i++) {
		const struct peer *pe = &p->v[i];
		int ncidrs = v6 ? pe->n_cidrs6 : pe->n_cidrs, has_ip = v6 ? pe->has_ip6 : !!pe->ip;

		if (is_self(pe, self))
			continue;
		if (!ncidrs || !has_ip) {
			/* Normal while a node joins: no podCIDR assigned yet. */
			if (!quiet && (!v6 || ncidrs || pe->has_ip6))
				pr_info("peers: node %s has %s; no %sroute yet", pe->name,
					ncidrs ? (v6 ? "no IPv6 InternalIP" : "no InternalIP") :
						 (v6 ? "no IPv6 podCIDR" : "no IPv4 podCIDR"),
					v6 ? "IPv6 " : "");
			continue;
		}
		for (j = 0; j < ncidrs && n < max; j++) {
			if (v6)
				c = pe->cidrs6[j];
			else
				prefix_from_cidr(&c, &pe->cidrs[j]);
			if (ours.family && prefix_overlaps(&c, &ours)) {
				say(quiet, "peers: node %s: podCIDR %s overlaps our pod CIDR %s; not routed",
				    pe->name, prefix_str(&c, a), prefix_str(&ours, b));
				continue;
			}
			for (k = 0; k < n; k++)
				if (prefix_overlaps(&w[k].cidr, &c))
					break;
			if (k < n) {
				say(quiet, "peers: node %s: podCIDR %s overlaps node %s's %s; not routed",
				    pe->name, prefix_str(&c, a), w[k].node,
				    prefix_str(&w[k].cidr, b));
				continue;
			}
			if (!quiet && cluster.family && !prefix_overlaps(&c, &cluster))
				pr_warn("peers: node %s: podCIDR %s is outside the cluster CIDR %s: pod traffic to it will be SNATed",
					pe->name, prefix_str(&c, a), prefix_str(&cluster, b));
			w[n] = (struct want){ .cidr = c, .node = pe->name };
			if (v6)
				memcpy(w[n].gw, pe->ip6, 16);
			else
				memcpy(w[n].gw, &pe->ip, 4);
			if (!quiet)
				pr_debug("peers: node %s: %s via %s", pe->name, prefix_str(&c, a),
					 gw_str(family, w[n].gw, ip));
			n++;
		}
	}
	return n;
}

/* A route of ours as want-shaped destination and gateway. */
static void route_dst(const struct route_spec *r, int family, struct prefix *d, uint8_t *gw)
{
	memset(gw, 0, 16);
	if (family == AF_INET6) {
		prefix_from(d, AF_INET6, r->dst6, r->dst_len);
		memcpy(gw, r->gateway6, 16);
	} else {
		prefix_from(d, AF_INET, (const uint8_t *)&r->dst, r->dst_len);
		memcpy(gw, &r->gateway, 4);
	}
}

static void want_route(const struct want *w, int family, int oif, struct route_spec *r)
{
	*r = (struct route_spec){ .dst_len = w->cidr.len, .oif = oif,
				  .scope = RT_SCOPE_UNIVERSE, .protocol = RTPROT_BRIDGELESS };
	if (family == AF_INET6) {
		r->family = AF_INET6;
		memcpy(r->dst6, w->cidr.net, 16);
		memcpy(r->gateway6, w->gw, 16);
	} else {
		memcpy(&r->dst, w->cidr.net, 4);
		memcpy(&r->gateway, w->gw, 4);
	}
}

static void route_name(const struct route_spec *r, int family, char *buf, size_t len)
{
	char a[PREFIX_STRLEN], g[IPADDR_STRLEN];
	struct prefix d;
	uint8_t gw[16];

	route_dst(r, family, &d, gw);
	snprintf(buf, len, "%s via %s", prefix_str(&d, a), gw_str(family, gw, g));
}

/* Our routes of family made exactly w[0..nw-1]. */
static int sync_family(struct nl *nl, int family, struct want *w, size_t nw,
		       const struct peers_self *self, int quiet,
		       struct route_sync_stats *st)
{
	struct route_set cur = {};
	char name[PREFIX_STRLEN + IPADDR_STRLEN + 8];
	struct prefix d;
	uint8_t gw[16];
	size_t i, k;
	int err;

	err = route_foreach_family(nl, family, RTPROT_BRIDGELESS, collect_route, &cur);
	if (err) {
		free(cur.v);
		return err;
	}
	/* Stale first: a CIDR that moved to another node is re-added below. */
	for (i = 0; i < cur.n; i++) {
		struct route_spec *r = &cur.v[i];

		route_dst(r, family, &d, gw);
		for (k = 0; k < nw; k++)
			if (prefix_equal(&w[k].cidr, &d))
				break;
		if (k < nw && !memcmp(w[k].gw, gw, 16) && r->oif == self->uplink_ifindex) {
			w[k].found = 1;
			continue;
		}
		if (k < nw)
			continue; /* same destination, new gateway: replaced below */
		route_name(r, family, name, sizeof(name));
		r->protocol = RTPROT_BRIDGELESS;
		err = route_del(nl, r);
		if (err && err != -ESRCH) {
			pr_warn("peers: remove route %s: %s", name, error_message());
			st->failed++;
		} else {
			pr_info("peers: removed route %s (no such peer any more)", name);
			st->removed++;
		}
	}
	for (k = 0; k < nw; k++) {
		struct route_spec r;
		int ours = 0;

		if (w[k].found)
			continue;
		want_route(&w[k], family, self->uplink_ifindex, &r);
		for (i = 0; i < cur.n; i++) {
			route_dst(&cur.v[i], family, &d, gw);
			if (prefix_equal(&d, &w[k].cidr))
				ours = 1;
		}
		route_name(&r, family, name, sizeof(name));
		err = ours ? route_replace(nl, &r) : route_add(nl, &r);
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
	error_clear();
	free(cur.v);
	return 0;
}

int peers_sync_routes(const struct peers *p, const struct peers_self *self,
		      int quiet, struct route_sync_stats *st)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct want *w = NULL;
	struct nl nl = {};
	size_t nw = 0, max, f;
	int err;

	memset(st, 0, sizeof(*st));
	max = p ? p->n * PEER_CIDRS_MAX : 0;
	if (max) {
		w = calloc(max, sizeof(*w));
		if (!w)
			return errorf(-ENOMEM, "peers");
	}
	err = nl_open(&nl);
	for (f = 0; !err && f < sizeof(families) / sizeof(families[0]); f++) {
		nw = max ? build_wants(p, self, families[f], quiet, w, max) : 0;
		err = sync_family(&nl, families[f], w, nw, self, quiet, st);
	}
	nl_close(&nl);
	free(w);
	return err;
}
