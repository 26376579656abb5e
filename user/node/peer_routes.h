/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Native routing between nodes: each node owns a pod CIDR, and every other
 * node routes it via that node's InternalIP. The peers come from the agent
 * (a file shaped like a Kubernetes NodeList); the routes carry rtm_protocol
 * RTPROT_BRIDGELESS, so stale ones are found and removed without touching
 * anybody else's.
 */
#ifndef BL_PEER_ROUTES_H
#define BL_PEER_ROUTES_H

#include <stddef.h>
#include <stdint.h>
#include "lib/addr.h"
#include "netlink/route.h"

#define PEER_CIDRS_MAX 4

struct peer {
	char name[254];
	uint32_t ip; /* InternalIP, network byte order; 0 if none */
	struct cidr cidrs[PEER_CIDRS_MAX]; /* IPv4 spec.podCIDR(s) */
	int n_cidrs;
	/* IPv6: its IPv6 InternalIP and spec.podCIDRs, routed the same way */
	int has_ip6;
	uint8_t ip6[16];
	struct prefix cidrs6[PEER_CIDRS_MAX];
	int n_cidrs6;
};

struct peers {
	struct peer *v;
	size_t n;
};

void peers_free(struct peers *p);
/* Our own entry: by name, else by InternalIP. NULL if absent. */
const struct peer *peers_find_self(const struct peers *p, const char *name,
				   uint32_t node_ip);

/* What we route, and who we are (to skip ourselves). */
struct peers_self {
	const char *name;
	uint32_t node_ip;
	struct cidr pod_cidr;
	struct cidr cluster_cidr;
	int uplink_ifindex;
	/* IPv6 (family 0 where the node has none) */
	uint8_t node_ip6[16];
	struct prefix pod_cidr6;
	struct prefix cluster_cidr6;
};

struct route_sync_stats {
	unsigned int added, replaced, removed, failed;
};

/* A route we want: a peer's pod CIDR via its InternalIP, of either family. */
struct peer_route {
	struct prefix dst;
	uint8_t gw[16]; /* IPv4 in the first 4 bytes */
	const char *node; /* the peer's name, borrowed */
};

/*
 * The routes of family the peers ask for (pure, for the sync and its
 * tests): other peers' pod CIDRs of that family via their InternalIP of
 * that family, each inside the cluster CIDR of the family,
 * overlapping neither our pod CIDR, nor a network of this node (connected,
 * the prefixes of its addresses), nor another peer's. Each refused one is
 * one log line (debug where quiet). At most max into out; how many.
 */
size_t peers_wanted(const struct peers *p, const struct peers_self *self, int family,
		    const struct prefix *connected, size_t n_connected, int quiet,
		    struct peer_route *out, size_t max);

enum route_op { ROUTE_DEL, ROUTE_ADD, ROUTE_REPLACE };
struct route_action {
	enum route_op op;
	struct route_spec r;
	const char *node; /* ROUTE_ADD/REPLACE: whose */
};
/*
 * What turns our routes cur of family (protocol RTPROT_BRIDGELESS) into want out of
 * uplink oif (pure): stale ones deleted first, missing ones added, ones to
 * the same destination with another gateway or device replaced. out has
 * room for n_cur + n_want actions; how many.
 */
size_t peers_route_actions(const struct route_spec *cur, size_t n_cur,
			   const struct peer_route *want, size_t n_want, int family,
			   int oif, struct route_action *out);

/*
 * Make our routes (proto RTPROT_BRIDGELESS, main table) exactly the other
 * peers' pod CIDRs via their InternalIP out of the uplink, per family (a
 * peer's IPv6 pod CIDRs via its IPv6 InternalIP). p == NULL removes them
 * all. quiet: do not repeat warnings about peers already warned about.
 */
int peers_sync_routes(const struct peers *p, const struct peers_self *self,
		      int quiet, struct route_sync_stats *st);

#endif
