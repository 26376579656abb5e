// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc ingress of the node's uplink. Traffic for a local pod (from other nodes)
 * goes straight into the pod; replies to SNAT mappings are translated back and
 * go into the pod too; everything else is the host's own traffic and passes
 * untouched and uncounted. IPv6 alike, in from_uplink6().
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
#include "lib/deliver6.h"
#include "lib/nat66.h"
#include "lib/svc6.h"

/*
 * The IPv4 program's steps for an IPv6 packet: NAT66 replies to the node's
 * address, other nodes' and the outside's packets to a local pod; the
 * rest is the host's, untouched.
 */
static __noinline int from_uplink6(struct __sk_buff *skb)
{
	/* an endpoints6 key, in words: addr6_copy() and snat6_ingress() write it */
	__u32 key[4], zero = 0;
	const struct bl_endpoint *ep;
	const struct bl_config *cfg;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	int ret;

	if (parse_ipv6(skb, &eth, &ip6) < 0 || eth->h_proto != bpf_htons(ETH_P_IPV6))
		return TC_ACT_OK;
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || !(cfg->flags & BL_CFG_IPV6))
		return TC_ACT_OK;
	if (addr6_eq(&ip6->daddr, cfg->node_ip6))
		goto node_ip;
	if (!in_prefix6(&ip6->daddr, cfg->pod_cidr6, cfg->pod_mask6))
		return TC_ACT_OK;
	addr6_copy(key, &ip6->daddr);
	ep = bpf_map_lookup_elem(&endpoints6, key);
	if (!ep)
		return TC_ACT_OK;
	if (ep->flags & (BL_EP_RX_TRACKED | BL_EP_HOST_NAT)) {
		ret = svc6_tracked_rx(skb, ep->flags, 1);
		if (ret < 0)
			return drop(skb, -ret);
		if (ret == BL_PASS_HOST_NAT)
			return pass(skb, ret);
		ip6 = ip6_headers(skb, &eth);
		if (!ip6)
			return drop(skb, BL_DROP_TRUNCATED);
		if (ret != BL_NOT_MINE)
			return deliver6_to_pod(skb, eth, ip6, ep, ret);
	}
	if ((cfg->flags & BL_CFG_MASQUERADE6) && !no_masquerade6(&ip6->saddr))
		nat6_note_inbound(skb, BL_NAT_INBOUND);
	return deliver6_to_pod(skb, eth, ip6, ep, BL_FWD_FROM_UPLINK);

node_ip:
	ret = snat6_ingress(skb, cfg, key);
	switch (ret) {
	case BL_NOT_MINE:
		return TC_ACT_OK;
	case BL_NAT_REVERSE_MISS:
		return pass(skb, ret);
	}
	if (ret < 0)
		return drop(skb, -ret);
	ip6 = ip6_headers(skb, &eth);
	if (!ip6)
		return drop(skb, BL_DROP_TRUNCATED);
	ep = bpf_map_lookup_elem(&endpoints6, key);
	if (!ep)
		return drop(skb, BL_DROP_NO_ENDPOINT);
	return deliver6_to_pod(skb, eth, ip6, ep, ret);
}

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
	if (parse_ipv4(skb, &eth, &ip) < 0 || eth->h_proto != bpf_htons(ETH_P_IP)) {
		if (skb->protocol == bpf_htons(ETH_P_IPV6))
			return from_uplink6(skb);
		return TC_ACT_OK;
	}

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
