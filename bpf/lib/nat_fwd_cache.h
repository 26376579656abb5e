/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The FIB's answer kept in a flow's egress entry, so that an established
 * flow's packets are sent without a FIB lookup (see struct bl_nat_entry).
 */
#ifndef BL_NAT_FWD_CACHE_H
#define BL_NAT_FWD_CACHE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include "maps.h"

/*
 * Keep the FIB's answer for the flow of egress entry e (see bl_nat_entry).
 * An unresolved neighbour is not kept: the next packet looks up again.
 */
static __always_inline void fwd_cache_fill(struct bl_nat_entry *e,
					   const struct bl_config *cfg,
					   const struct bpf_fib_lookup *params,
					   __u64 now)
{
	if (params->dmac[0] & 0x01) {
		e->fwd_ns = 0;
		return;
	}
	e->fwd_ifindex = params->ifindex;
	/* a __u16: a device MTU of 65536 (lo) reads as 0 */
	e->fwd_mtu = params->mtu_result ?: 0xffff;
	__builtin_memcpy(e->fwd_dmac, params->dmac, ETH_ALEN);
	__builtin_memcpy(e->fwd_smac, params->smac, ETH_ALEN);
	e->fwd_gen = cfg->fwd_gen;
	e->fwd_ns = now ?: 1;
}

/*
 * 1 if the packet may go where e's cache says without a FIB lookup: same
 * generation, not too old, and it fits the device the way the kernel's
 * is_skb_forwardable() checks it (GSO packets are cut to size later).
 */
static __always_inline int fwd_cache_ok(const struct bl_nat_entry *e,
					const struct bl_config *cfg,
					struct __sk_buff *skb, __u64 now)
{
	return e->fwd_ns && e->fwd_gen == cfg->fwd_gen &&
	       now - e->fwd_ns < BL_NAT_FWD_MAX_AGE_NS &&
	       (skb->len <= (__u32)e->fwd_mtu + ETH_HLEN + 4 /* VLAN */ ||
		skb->gso_size);
}

#endif
