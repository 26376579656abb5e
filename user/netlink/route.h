/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Routes of the main table (IPv4, and IPv6), each call one netlink request (or dump). */
#ifndef BL_ROUTE_H
#define BL_ROUTE_H

#include <stdint.h>
#include "netlink/nl.h"

/*
 * rtm_protocol of the routes the agent installs for other nodes' pod CIDRs,
 * so it can find its own routes again (`ip route show proto 199`) and remove
 * stale ones without touching anybody else's. Unused by iproute2's
 * rt_protos and by the routing daemons we know of (bird, frr use 12, 186-192).
 */
#define RTPROT_BRIDGELESS 199

struct route_spec {
	uint32_t dst; /* network byte order */
	int dst_len;
	uint32_t gateway; /* 0: none */
	int oif;
	unsigned char scope; /* RT_SCOPE_* */
	unsigned char protocol; /* RTPROT_*; 0: RTPROT_BOOT */
	/* IPv6: family AF_INET6, and dst6/gateway6 instead of dst/gateway */
	unsigned char family; /* 0 or AF_INET: IPv4 */
	uint8_t dst6[16];
	uint8_t gateway6[16]; /* all zero: none */
};
int route_add(struct nl *nl, const struct route_spec *r);
/* Add, or replace the route to the same destination in the main table. */
int route_replace(struct nl *nl, const struct route_spec *r);
int route_del(struct nl *nl, const struct route_spec *r);
/* Call fn for each IPv4 unicast route of the main table with rtm_protocol
 * protocol (0: any). */
int route_foreach(struct nl *nl, unsigned char protocol,
		  int (*fn)(const struct route_spec *r, void *data), void *data);
/* The same for the routes of family (AF_INET or AF_INET6). */
int route_foreach_family(struct nl *nl, unsigned char family, unsigned char protocol,
			 int (*fn)(const struct route_spec *r, void *data), void *data);

/* 1 if the main table has this route (family, dst, length, gateway, oif), 0 if not. */
int route_exists(struct nl *nl, const struct route_spec *r);

#endif
