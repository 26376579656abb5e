/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Links, addresses and routes, each one netlink request. */
#ifndef BL_LINK_H
#define BL_LINK_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include "netlink/nl.h"

struct link_info {
	int ifindex;
	unsigned int mtu;
	uint8_t mac[6];
	char name[IF_NAMESIZE];
	char kind[16];
};

/* -ENODEV if there is no such link. */
int link_get(struct nl *nl, const char *name, int ifindex, struct link_info *li);

struct veth_spec {
	const char *host_name;
	const uint8_t *host_mac;
	const char *peer_name;
	const uint8_t *peer_mac;
	int peer_netns_fd;
	unsigned int mtu;
};
int link_add_veth(struct nl *nl, const struct veth_spec *spec);
int link_del(struct nl *nl, int ifindex);
int link_set_up(struct nl *nl, int ifindex);
/*
 * No IPv6 link-local address: the datapath is IPv4-only for now, and router
 * solicitations and MLD reports from pods would only show up as drops.
 * -EAFNOSUPPORT where IPv6 is disabled, which callers may ignore.
 */
int link_no_ipv6_addrgen(struct nl *nl, int ifindex);

/* IPv4 only; addresses in network byte order. */
int addr_add(struct nl *nl, int ifindex, uint32_t ip, int prefix_len);
int addr_first_ipv4(struct nl *nl, int ifindex, uint32_t *ip);
/* The interface that has address ip; -EADDRNOTAVAIL if none. */
int addr_find_ifindex(struct nl *nl, uint32_t ip, int *ifindex);

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
};
int route_add(struct nl *nl, const struct route_spec *r);
/* Add, or replace the route to the same destination in the main table. */
int route_replace(struct nl *nl, const struct route_spec *r);
int route_del(struct nl *nl, const struct route_spec *r);
/* Call fn for each IPv4 unicast route of the main table with rtm_protocol
 * protocol (0: any). */
int route_foreach(struct nl *nl, unsigned char protocol,
		  int (*fn)(const struct route_spec *r, void *data), void *data);

/* 1 if the main table has this route (dst, length, gateway, oif), 0 if not. */
int route_exists(struct nl *nl, const struct route_spec *r);
/* 1 if ifindex has ip/prefix_len, 0 if not. */
int addr_exists(struct nl *nl, int ifindex, uint32_t ip, int prefix_len);

/* Add the number of tc filters under parent (e.g. clsact ingress) of ifindex to *count. */
int tc_filter_count(struct nl *nl, int ifindex, uint32_t parent, int *count);

/* Call fn for each link whose name starts with prefix. */
int link_foreach(struct nl *nl, const char *prefix,
		 int (*fn)(const struct link_info *li, void *data), void *data);

#endif
