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

/* The prefixes of this node's addresses of family: networks it reaches directly. */
struct prefix_set {
	struct prefix *v;
	size_t n, cap;
};

static int prefix_set_add(struct prefix_set *s, int family, const uint8_t *ip, int len)
{
	if (s->n == s->cap) {
		struct prefix *nv;

		s->cap = s->cap ? s->cap * 2 : 16;
		nv = realloc(s->v, s->cap * sizeof(*nv));
		if (!nv)
			return errorf(-ENOMEM, "addresses");
		s->v = nv;
	}
	prefix_from(&s->v[s->n++], family, ip, len);
	return 0;
}

static int collect_net(int ifindex, uint32_t ip, int prefix_len, void *data)
{
	if (prefix_len < 0 || prefix_len > 32)
		return 0;
	return prefix_set_add(data, AF_INET, (const uint8_t *)&ip, prefix_len);
}

static int collect_net6(int ifindex, const uint8_t *ip, int prefix_len, void *data)
{
	if (prefix_len < 0 || prefix_len > 128)
		return 0;
	return prefix_set_add(data, AF_INET6, ip, prefix_len);
}

/* inner lies wholly inside outer (same family). */
static int prefix_inside(const struct prefix *inner, const struct prefix *outer)
{
	return inner->family == outer->family && inner->len >= outer->len &&
	       prefix_contains(outer, inner->net);
}

size_t peers_wanted(const struct peers *p, const struct peers_self *self, int family,
		    const struct prefix *connected, size_t n_connected, int quiet,
		    struct peer_route *w, size_t max)
{
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN], ip[IPADDR_STRLEN];
	struct prefix ours = {}, cluster = {}, c;
	size_t n = 0, i, k;
	int j, v6 = family == AF_INET6;

	if (v6) {
		ours = self->pod_cidr6;
		cluster = self->cluster_cidr6;
	} else if (self->pod_cidr.len) {
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
			/* A route outside the cluster could take the node's own traffic. */
			if (cluster.family && !prefix_inside(&c, &cluster)) {
				say(quiet, "peers: node %s: podCIDR %s is outside the cluster CIDR %s; not routed",
				    pe->name, prefix_str(&c, a), prefix_str(&cluster, b));
				continue;
			}
			if (ours.family && prefix_overlaps(&c, &ours)) {
				say(quiet, "peers: node %s: podCIDR %s overlaps our pod CIDR %s; not routed",
				    pe->name, prefix_str(&c, a), prefix_str(&ours, b));
				continue;
			}
			for (k = 0; k < n_connected; k++)
				if (connected[k].family == c.family &&
				    prefix_overlaps(&c, &connected[k]))
					break;
			if (k < n_connected) {
				say(quiet, "peers: node %s: podCIDR %s overlaps %s, a network of this node; not routed",
				    pe->name, prefix_str(&c, a), prefix_str(&connected[k], b));
				continue;
			}
			for (k = 0; k < n; k++)
				if (prefix_overlaps(&w[k].dst, &c))
					break;
			if (k < n) {
				say(quiet, "peers: node %s: podCIDR %s overlaps node %s's %s; not routed",
				    pe->name, prefix_str(&c, a), w[k].node,
				    prefix_str(&w[k].dst, b));
				continue;
			}
			w[n] = (struct peer_route){ .dst = c, .node = pe->name };
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

static void want_route(const struct peer_route *w, int family, int oif, struct route_spec *r)
{
	*r = (struct route_spec){ .dst_len = w->dst.len, .oif = oif,
				  .scope = RT_SCOPE_UNIVERSE, .protocol = RTPROT_BRIDGELESS };
	if (family == AF_INET6) {
		r->family = AF_INET6;
		memcpy(r->dst6, w->dst.net, 16);
		memcpy(r->gateway6, w->gw, 16);
	} else {
		memcpy(&r->dst, w->dst.net, 4);
		memcpy(&r->gateway, w->gw, 4);
	}
}

size_t peers_route_actions(const struct route_spec *cur, size_t n_cur,
			   const struct peer_route *want, size_t n_want, int family,
			   int oif, struct route_action *out)
{
	struct prefix d;
	uint8_t gw[16];
	size_t n = 0, i, k;

	/* Stale first: a CIDR that moved to another node is re-added below. */
	for (i = 0; i < n_cur; i++) {
		route_dst(&cur[i], family, &d, gw);
		for (k = 0; k < n_want; k++)
			if (prefix_equal(&want[k].dst, &d))
				break;
		if (k < n_want)
			continue; /* kept, or replaced below */
		out[n] = (struct route_action){ ROUTE_DEL, cur[i], NULL };
		out[n++].r.protocol = RTPROT_BRIDGELESS;
	}
	for (k = 0; k < n_want; k++) {
		struct route_spec r;
		int ours = 0, same = 0;

		want_route(&want[k], family, oif, &r);
		for (i = 0; i < n_cur; i++) {
			route_dst(&cur[i], family, &d, gw);
			if (!prefix_equal(&d, &want[k].dst))
				continue;
			ours = 1;
			if (!memcmp(gw, want[k].gw, 16) && cur[i].oif == oif)
				same = 1;
		}
		if (same)
			continue;
		out[n++] = (struct route_action){ ours ? ROUTE_REPLACE : ROUTE_ADD, r,
						  want[k].node };
	}
	return n;
}

static void route_name(const struct route_spec *r, int family, char *buf, size_t len)
{
	char a[PREFIX_STRLEN], g[IPADDR_STRLEN];
	struct prefix d;
	uint8_t gw[16];

	route_dst(r, family, &d, gw);
	snprintf(buf, len, "%s via %s", prefix_str(&d, a), gw_str(family, gw, g));
}

/* Our routes of family made exactly what the peers ask for. */
static int sync_family(struct nl *nl, int family, const struct peers *p,
		       const struct peers_self *self, int quiet,
		       struct route_sync_stats *st)
{
	char name[PREFIX_STRLEN + IPADDR_STRLEN + 8];
	struct route_set cur = {};
	struct prefix_set nets = {};
	struct peer_route *w = NULL;
	struct route_action *acts = NULL;
	size_t nw, max, na, i;
	int err;

	err = route_foreach_family(nl, family, RTPROT_BRIDGELESS, collect_route, &cur);
	if (!err)
		err = family == AF_INET6 ? addr_foreach6(nl, collect_net6, &nets) :
					   addr_foreach(nl, collect_net, &nets);
	if (err)
		goto out;
	max = p ? p->n * PEER_CIDRS_MAX : 0;
	w = calloc(max + 1, sizeof(*w));
	acts = calloc(cur.n + max + 1, sizeof(*acts));
	if (!w || !acts) {
		err = errorf(-ENOMEM, "peers");
		goto out;
	}
	nw = peers_wanted(p, self, family, nets.v, nets.n, quiet, w, max);
	na = peers_route_actions(cur.v, cur.n, w, nw, family, self->uplink_ifindex, acts);
	for (i = 0; i < na; i++) {
		struct route_action *a = &acts[i];

		route_name(&a->r, family, name, sizeof(name));
		if (a->op == ROUTE_DEL) {
			err = route_del(nl, &a->r);
			if (err && err != -ESRCH) {
				pr_warn("peers: remove route %s: %s", name, error_message());
				st->failed++;
			} else {
				pr_info("peers: removed route %s (no such peer any more)", name);
				st->removed++;
			}
			continue;
		}
		err = a->op == ROUTE_REPLACE ? route_replace(nl, &a->r) : route_add(nl, &a->r);
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
	free(cur.v);
	free(nets.v);
	free(w);
	free(acts);
	return err;
}

int peers_sync_routes(const struct peers *p, const struct peers_self *self,
		      int quiet, struct route_sync_stats *st)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct nl nl = {};
	size_t f;
	int err;

	memset(st, 0, sizeof(*st));
	err = nl_open(&nl);
	for (f = 0; !err && f < sizeof(families) / sizeof(families[0]); f++)
		err = sync_family(&nl, families[f], p, self, quiet, st);
	nl_close(&nl);
	return err;
}
