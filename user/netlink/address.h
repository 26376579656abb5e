/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Addresses of links, each call one netlink request (or dump). */
#ifndef BL_ADDRESS_H
#define BL_ADDRESS_H

#include <stdint.h>
#include "netlink/nl.h"

/* IPv4 only; addresses in network byte order. */
int addr_add(struct nl *nl, int ifindex, uint32_t ip, int prefix_len);
int addr_first_ipv4(struct nl *nl, int ifindex, uint32_t *ip);
/* The interface that has address ip; -EADDRNOTAVAIL if none. */
int addr_find_ifindex(struct nl *nl, uint32_t ip, int *ifindex);

/* Calls fn for every IPv4 address of every link; fn's error ends the walk. */
int addr_foreach(struct nl *nl, int (*fn)(int ifindex, uint32_t ip, int prefix_len,
					  void *data), void *data);
/* 1 if ifindex has ip/prefix_len, 0 if not. */
int addr_exists(struct nl *nl, int ifindex, uint32_t ip, int prefix_len);

/*
 * IPv6: add ip/prefix_len without duplicate address detection (an address
 * the node's IPAM gave out, or the gateway's fe80::1: usable at once); the
 * first global address of ifindex (none that is tentative or failed DAD);
 * the interface with ip; whether ifindex has ip/prefix_len.
 */
/* The same for each IPv6 address (link-local ones too). */
int addr_foreach6(struct nl *nl,
		  int (*fn)(int ifindex, const uint8_t *ip, int prefix_len, void *data),
		  void *data);
int addr_add6(struct nl *nl, int ifindex, const uint8_t *ip, int prefix_len);
int addr_first_ipv6(struct nl *nl, int ifindex, uint8_t *ip);
int addr_find_ifindex6(struct nl *nl, const uint8_t *ip, int *ifindex);
int addr_exists6(struct nl *nl, int ifindex, const uint8_t *ip, int prefix_len);

#endif
