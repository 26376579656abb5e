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

/* 1 if the kernel FIB will forward to daddr from src (result in params). */
static __always_inline int fib_route(struct __sk_buff *skb, struct iphdr *ip,
				     __be32 src, struct bpf_fib_lookup *params)
{
	long rc;

	__builtin_memset(params, 0, sizeof(*params));
	params->family = AF_INET;
	params->tos = ip->tos;
	params->l4_protocol = ip->protocol;
	/*
	 * tot_len 0: the kernel checks the MTU against the skb itself, which
	 * knows GSO packets are cut to size later; a GSO packet's tot_len
	 * alone would read as too big.
	 */
	params->tot_len = 0;
	params->ipv4_src = src;
	params->ipv4_dst = ip->daddr;
	params->ifindex = skb->ifindex;
	rc = bpf_fib_lookup(skb, params, sizeof(*params), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS)
		return 1;
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		/* Tell fib_send to let bpf_redirect_neigh resolve it. */
		params->dmac[0] = 0x01; /* multicast bit: never a resolved MAC */
		return 1;
	}
	return 0;
}

/* Count and trace a packet routed out of ifindex, and age it by one hop. */
static __always_inline void routed(struct __sk_buff *skb, struct iphdr *ip,
				   enum bl_counter reason, __u32 ifindex)
{
	ip_decrease_ttl(ip);
	count(skb, reason);
	trace(skb, reason, ifindex);
}

/* Route out of ifindex to a next hop whose MAC is known. */
static __always_inline int send_l2(struct __sk_buff *skb, struct ethhdr *eth,
				   struct iphdr *ip, enum bl_counter reason,
				   __u32 ifindex, const __u8 *dmac, const __u8 *smac)
{
	routed(skb, ip, reason, ifindex);
	/* MACs of a bpf_fib_lookup on the stack are 2-byte aligned: bytewise */
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	return bpf_redirect(ifindex, 0);
}

/*
 * Redirect along a route fib_route found. With a resolved neighbour the MACs
 * are written here; without one, bpf_redirect_neigh resolves it.
 */
static __always_inline int fib_send(struct __sk_buff *skb, struct ethhdr *eth,
				    struct iphdr *ip,
				    const struct bpf_fib_lookup *params,
				    enum bl_counter reason)
{
	struct bpf_redir_neigh nh = {};

	if (params->dmac[0] & 0x01) {
		routed(skb, ip, reason, params->ifindex);
		nh.nh_family = AF_INET;
		nh.ipv4_nh = params->ipv4_dst;
		return bpf_redirect_neigh(params->ifindex, &nh, sizeof(nh), 0);
	}
	return send_l2(skb, eth, ip, reason, params->ifindex, params->dmac,
		       params->smac);
}

/*
 * Route without translation. Anything the FIB will not forward (no route,
 * fragmentation needed, forwarding disabled) goes to the host stack, which
 * answers with the right ICMP error instead of a silent drop.
 */
static __noinline __attribute__((unused)) int forward_by_fib(struct __sk_buff *skb,
					  struct ethhdr *eth, struct iphdr *ip,
					  enum bl_counter reason)
{
	struct bpf_fib_lookup params;

	if (ip->ttl <= 1)
		return pass(skb, BL_PASS_TTL);
	if (!fib_route(skb, ip, ip->saddr, &params))
		return pass(skb, BL_PASS_FIB);
	return fib_send(skb, eth, ip, &params, reason);
}

#endif
