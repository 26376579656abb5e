/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Sending a pod's IPv6 packet out of the node along the host's routing table. */
#ifndef BL_FIB6_H
#define BL_FIB6_H

#include <linux/ipv6.h>
#include "count.h"
#include "fib.h"
#include "parse6.h"

#ifndef AF_INET6
#define AF_INET6 10
#endif

/*
 * 1 if the kernel FIB will forward to ip6's destination from src (result
 * in params), as fib_route() for IPv4. The kernel checks forwarding on the
 * pod's host veth (net.ipv6.conf.all.forwarding, which node init turns on).
 */
static __always_inline int fib_route6(struct __sk_buff *skb, const struct ipv6hdr *ip6,
				      const __u8 *src, __u8 l4_proto,
				      struct bpf_fib_lookup *params)
{
	long rc;

	__builtin_memset(params, 0, sizeof(*params));
	params->family = AF_INET6;
	/* traffic class and flow label, as the kernel's own route lookup keys them */
	params->flowinfo = *(const __be32 *)ip6 & bpf_htonl(0x0fffffff);
	params->l4_protocol = l4_proto;
	params->tot_len = 0; /* the kernel checks the MTU against the skb (GSO) */
	addr6_copy(params->ipv6_src, src);
	addr6_copy(params->ipv6_dst, &ip6->daddr);
	params->ifindex = skb->ifindex;
	rc = bpf_fib_lookup(skb, params, sizeof(*params), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS)
		return 1;
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		params->dmac[0] = 0x01; /* see fib_route() */
		return 1;
	}
	return 0;
}

/* Count and trace an IPv6 packet routed out of ifindex, one hop less. */
static __always_inline void routed6(struct __sk_buff *skb, struct ipv6hdr *ip6,
				    enum bl_counter reason, __u32 ifindex)
{
	ip6->hop_limit--;
	count(skb, reason);
	trace(skb, reason, ifindex);
}

/* Route out of ifindex to a next hop whose MAC is known. */
static __always_inline int send6_l2(struct __sk_buff *skb, struct ethhdr *eth,
				    struct ipv6hdr *ip6, enum bl_counter reason,
				    __u32 ifindex, const __u8 *dmac, const __u8 *smac)
{
	routed6(skb, ip6, reason, ifindex);
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	return bpf_redirect(ifindex, 0);
}

/* As fib_send(): the MACs here, or bpf_redirect_neigh resolves them. */
static __always_inline int fib6_send(struct __sk_buff *skb, struct ethhdr *eth,
				     struct ipv6hdr *ip6,
				     const struct bpf_fib_lookup *params,
				     enum bl_counter reason)
{
	struct bpf_redir_neigh nh = {};

	if (params->dmac[0] & 0x01) {
		routed6(skb, ip6, reason, params->ifindex);
		nh.nh_family = AF_INET6;
		addr6_copy(nh.ipv6_nh, params->ipv6_dst);
		return bpf_redirect_neigh(params->ifindex, &nh, sizeof(nh), 0);
	}
	return send6_l2(skb, eth, ip6, reason, params->ifindex, params->dmac,
			params->smac);
}

/*
 * Route without translation; what the FIB will not forward (no route,
 * packet too big, forwarding off) goes to the host stack, which answers
 * with the right ICMPv6 error (Packet Too Big above all: IPv6 routers
 * never fragment).
 */
static __noinline __attribute__((unused)) int forward6_by_fib(struct __sk_buff *skb,
							       enum bl_counter reason)
{
	struct bpf_fib_lookup params;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;

	/* a function of its own: it finds the headers itself */
	ip6 = ip6_headers(skb, &eth);
	if (!ip6)
		return drop(skb, BL_DROP_TRUNCATED);
	if (ip6->hop_limit <= 1)
		return pass(skb, BL_PASS_TTL);
	if (!fib_route6(skb, ip6, (const __u8 *)&ip6->saddr, ip6->nexthdr, &params))
		return pass(skb, BL_PASS_FIB);
	return fib6_send(skb, eth, ip6, &params, reason);
}

#endif
