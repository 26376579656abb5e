/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Sending a pod's packet out of the node along the host's routing table. */
#ifndef BL_FIB_H
#define BL_FIB_H

#include <linux/ip.h>
#include "count.h"
#include "l3.h"

#ifndef AF_INET
#define AF_INET 2
#endif

/*
 * Look the route up in the kernel FIB and redirect to its device. With a
 * resolved neighbour the MACs are written here; without one,
 * bpf_redirect_neigh resolves it. Anything the FIB will not forward (no route,
 * fragmentation needed, forwarding disabled) goes to the host stack, which
 * answers with the right ICMP error instead of a silent drop.
 */
static __always_inline int forward_by_fib(struct __sk_buff *skb,
					  struct ethhdr *eth, struct iphdr *ip,
					  enum bl_counter reason)
{
	struct bpf_fib_lookup params = {};
	struct bpf_redir_neigh nh = {};
	long rc;

	if (ip->ttl <= 1)
		return pass(skb, BL_PASS_TTL);
	params.family = AF_INET;
	params.tos = ip->tos;
	params.l4_protocol = ip->protocol;
	params.tot_len = bpf_ntohs(ip->tot_len);
	params.ipv4_src = ip->saddr;
	params.ipv4_dst = ip->daddr;
	params.ifindex = skb->ifindex;

	rc = bpf_fib_lookup(skb, &params, sizeof(params), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		ip_decrease_ttl(ip);
		/* params is on the stack with 2-byte-aligned MACs: copy bytewise */
		__builtin_memcpy(eth->h_dest, params.dmac, ETH_ALEN);
		__builtin_memcpy(eth->h_source, params.smac, ETH_ALEN);
		count(skb, reason);
		return bpf_redirect(params.ifindex, 0);
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		ip_decrease_ttl(ip);
		nh.nh_family = AF_INET;
		nh.ipv4_nh = params.ipv4_dst;
		count(skb, reason);
		return bpf_redirect_neigh(params.ifindex, &nh, sizeof(nh), 0);
	}
	return pass(skb, BL_PASS_FIB);
}

#endif
