// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc ingress of the node's uplink. Traffic for a local pod (from other nodes)
 * goes straight into the pod; replies to SNAT mappings are translated back and
 * go into the pod too; everything else is the host's own traffic and passes
 * untouched and uncounted.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "lib/maps.h"
#include "lib/deliver.h"
#include "lib/nat.h"
#include "lib/svc.h"

SEC("tc")
int BL_PROG_FROM_UPLINK(struct __sk_buff *skb)
{
	struct bl_endpoint_key key;
	const struct bl_endpoint *ep;
	const struct bl_config *cfg;
	struct ethhdr *eth;
	struct iphdr *ip;
	__be32 pod_ip;
	__u32 zero = 0;
	int ret;

	/*
	 * Not IPv4 or not well formed: the host's business, untouched. Here
	 * the frame's own EtherType must say IPv4 too, not only
	 * skb->protocol (the device's view of it).
	 */
	if (parse_ipv4(skb, &eth, &ip) < 0 || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;

	/* An array entry always exists; before node init it is all zeroes. */
	cfg = bpf_map_lookup_elem(&config, &zero);
	/*
	 * The node's own address first: replies to translated flows and the
	 * node's own traffic, the bulk of what the uplink receives, then need
	 * no endpoint lookup.
	 */
	if (cfg && cfg->node_ip) {
		if (ip->daddr == cfg->node_ip)
			goto node_ip;
		/* endpoints all lie in the pod CIDR */
		if (!in_prefix(ip->daddr, cfg->pod_cidr, cfg->pod_mask))
			return TC_ACT_OK;
	}
	__builtin_memcpy(key.ip, &ip->daddr, 4);
	ep = bpf_map_lookup_elem(&endpoints, &key);
	if (!ep)
		return TC_ACT_OK;
	/*
	 * The client of service flows to other nodes' backends, or of what
	 * netfilter translated here: replies take the service address, or go
	 * through the host (svc_tracked_rx). Others pay one flag test.
	 */
	if (ep->flags & (BL_EP_RX_TRACKED | BL_EP_HOST_NAT)) {
		ret = svc_tracked_rx(skb, ep->flags, 1);
		if (ret < 0)
			return drop(skb, -ret);
		if (ret == BL_PASS_HOST_NAT)
			return pass(skb, ret);
		/* whatever it did, the packet may have moved */
		ip = ip_headers(skb, &eth);
		if (!ip)
			return drop(skb, BL_DROP_TRUNCATED);
		if (ret != BL_NOT_MINE)
			return deliver_to_pod(skb, eth, ip, ep, ret);
	}
	if (cfg && cfg->node_ip && (cfg->flags & BL_CFG_MASQUERADE) &&
	    !no_masquerade(ip->saddr)) {
		nat_note_inbound(skb, ip, BL_NAT_INBOUND);
		/* bpf_map_update_elem() leaves packet pointers valid */
	}
	return deliver_to_pod(skb, eth, ip, ep, BL_FWD_FROM_UPLINK);

node_ip:
	ret = snat_ingress(skb, cfg, ip, &pod_ip);
	/*
	 * The verdicts that deliver nothing, then the drops: in this order
	 * the reply path compiles to the fewest instructions.
	 */
	switch (ret) {
	case BL_NOT_MINE: /* to no NAT port: the node's own traffic */
		return TC_ACT_OK;
	case BL_NAT_REVERSE_MISS:
		return pass(skb, ret);
	}
	if (ret < 0)
		return drop(skb, -ret);

	/* The packet was rewritten: find the headers again. */
	ip = ip_headers(skb, &eth);
	if (!ip)
		return drop(skb, BL_DROP_TRUNCATED);
	__builtin_memcpy(key.ip, &pod_ip, 4);
	ep = bpf_map_lookup_elem(&endpoints, &key);
	if (!ep)
		return drop(skb, BL_DROP_NO_ENDPOINT);
	return deliver_to_pod(skb, eth, ip, ep, ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
