/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The pod's gateway (169.254.1.1) exists only here: ARP for it is answered in BPF. */
#ifndef BL_ARP_H
#define BL_ARP_H

#include <linux/if_ether.h>
#include "count.h"
#include "l3.h"
#include "proto.h"

struct arp_eth_ipv4 {
	struct arphdr hdr;
	__u8 sha[ETH_ALEN];
	__be32 spa;
	__u8 tha[ETH_ALEN];
	__be32 tpa;
} __attribute__((packed));

static __always_inline int handle_arp_from_pod(struct __sk_buff *skb)
{
	struct bl_endpoint_key key;
	const struct bl_endpoint *ep;
	struct arp_eth_ipv4 *arp;
	void *data, *data_end;
	struct ethhdr *eth;

	if (pull_headers(skb, sizeof(*eth) + sizeof(*arp)))
		return drop(skb, BL_DROP_TRUNCATED);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	arp = data + sizeof(*eth);
	if ((void *)(arp + 1) > data_end)
		return drop(skb, BL_DROP_TRUNCATED);

	__builtin_memcpy(key.ip, &arp->spa, 4);
	ep = bpf_map_lookup_elem(&endpoints, &key);
	if (!ep || ep->ifindex != skb->ifindex || !mac_equal(arp->sha, ep->pod_mac) ||
	    !mac_equal(eth->h_source, ep->pod_mac))
		return drop(skb, BL_DROP_SPOOF_ARP);

	if (arp->hdr.ar_hrd != bpf_htons(ARPHRD_ETHER) ||
	    arp->hdr.ar_pro != bpf_htons(ETH_P_IP) || arp->hdr.ar_hln != ETH_ALEN ||
	    arp->hdr.ar_pln != 4 || arp->hdr.ar_op != bpf_htons(ARPOP_REQUEST) ||
	    arp->tpa != bpf_htonl(BL_GATEWAY_IP))
		return pass(skb, BL_PASS_ARP);

	/* Turn the request into the reply and send it back out to the pod. */
	arp->hdr.ar_op = bpf_htons(ARPOP_REPLY);
	mac_copy(arp->tha, arp->sha);
	arp->tpa = arp->spa;
	mac_copy(arp->sha, ep->host_mac);
	arp->spa = bpf_htonl(BL_GATEWAY_IP);
	set_macs(eth, ep->pod_mac, ep->host_mac);
	count(skb, BL_ARP_REPLY);
	return bpf_redirect(skb->ifindex, 0);
}

#endif
