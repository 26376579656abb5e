/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Routing a packet as a router would: TTL and MACs. */
#ifndef BL_L3_H
#define BL_L3_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include "parse.h"

static __always_inline int in_prefix(__be32 addr, __be32 net, __be32 mask)
{
	return (addr & mask) == net;
}

/* Same incremental update as the kernel's ip_decrease_ttl(). */
static __always_inline void ip_decrease_ttl(struct iphdr *ip)
{
	__u32 check = ip->check;

	check += bpf_htons(0x0100);
	ip->check = (__u16)(check + (check >= 0xFFFF));
	ip->ttl--;
}

static __always_inline void set_macs(struct ethhdr *eth, const __u8 *dst,
				     const __u8 *src)
{
	mac_copy(eth->h_dest, dst);
	mac_copy(eth->h_source, src);
}

#endif
