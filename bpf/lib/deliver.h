/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Handing a packet to a pod on this node, from any attach point. */
#ifndef BL_DELIVER_H
#define BL_DELIVER_H

#include "count.h"
#include "l3.h"

/*
 * Route the packet to a local pod: straight into the pod's namespace with
 * bpf_redirect_peer, which skips the host veth's backlog queue. A packet whose
 * TTL would expire goes to the host stack, which sends the ICMP time exceeded.
 */
static __always_inline int deliver_to_pod(struct __sk_buff *skb,
					  struct ethhdr *eth, struct iphdr *ip,
					  const struct bl_endpoint *ep,
					  enum bl_counter reason)
{
	if (ip->ttl <= 1)
		return pass(skb, BL_PASS_TTL);
	ip_decrease_ttl(ip);
	set_macs(eth, ep->pod_mac, ep->host_mac);
	count(skb, reason);
	count_rx(skb, ep->slot);
	trace(skb, reason, ep->ifindex);
	return bpf_redirect_peer(ep->ifindex, 0);
}

#endif
