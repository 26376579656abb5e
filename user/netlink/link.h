/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Links: each call one netlink request (or dump). */
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

/* Call fn for each link whose name starts with prefix. */
int link_foreach(struct nl *nl, const char *prefix,
		 int (*fn)(const struct link_info *li, void *data), void *data);

#endif
