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

/*
 * Make our routes (proto RTPROT_BRIDGELESS, main table) exactly the other
 * peers' pod CIDRs via their InternalIP out of the uplink, per family (a
 * peer's IPv6 pod CIDRs via its IPv6 InternalIP). p == NULL removes them
 * all. quiet: do not repeat warnings about peers already warned about.
 */
int peers_sync_routes(const struct peers *p, const struct peers_self *self,
		      int quiet, struct route_sync_stats *st);

#endif
