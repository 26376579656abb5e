/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Handing an IPv6 packet to a pod on this node, from any attach point. */
#ifndef BL_DELIVER6_H
#define BL_DELIVER6_H

#include <linux/ipv6.h>
#include "count.h"
#include "l3.h"

/*
 * As deliver_to_pod() for IPv4: one hop less (IPv6 has no header checksum
 * to mend), the pod's MACs, bpf_redirect_peer; a hop limit that would
 * expire goes to the host stack, which sends the ICMPv6 time exceeded.
 */
static __always_inline int deliver6_to_pod(struct __sk_buff *skb, struct ethhdr *eth,
					   struct ipv6hdr *ip6,
					   const struct bl_endpoint *ep,
					   enum bl_counter reason)
{
	if (ip6->hop_limit <= 1)
		return pass(skb, BL_PASS_TTL);
	ip6->hop_limit--;
	set_macs(eth, ep->pod_mac, ep->host_mac);
	count(skb, reason);
	count_rx(skb, ep->slot);
	trace(skb, reason, ep->ifindex);
	return bpf_redirect_peer(ep->ifindex, 0);
}

#endif
