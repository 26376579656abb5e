// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc egress of a pod's host veth. Packets the datapath delivers never pass
 * here (bpf_redirect_peer goes straight to the pod), so this sees only what
 * the host stack sends to the pod: kubelet probes, and connections the host
 * rewrote on their way in (hostPort/NodePort DNAT by iptables). The pod's
 * replies to those must go back through the host stack, which undoes its
 * rewrite; SNATing them in BPF would break them. Record such flows so
 * from_pod hands their replies to the host. What passes here is also
 * counted as received by the pod (ep_stats rx), like what the datapath
 * delivers itself.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "lib/maps.h"
#include "lib/nat.h"
#include "lib/svc.h"
#include "lib/parse.h"
#include "lib/nat66.h"
#include "lib/svc6.h"

/* The IPv4 program's steps for an IPv6 packet the host sends to a pod. */
static __noinline int to_pod6(struct __sk_buff *skb)
{
	struct bl_endpoint6_key key;
	struct bl_endpoint *ep;
	const struct bl_config *cfg;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	__u32 zero = 0;
	int ret;

	if (parse_ipv6(skb, &eth, &ip6) < 0)
		return TC_ACT_OK;
	addr6_copy(key.ip, &ip6->daddr);
	ep = bpf_map_lookup_elem(&endpoints6, &key);
	if (!ep || ep->ifindex != skb->ifindex)
		return TC_ACT_OK;
	count_rx(skb, ep->slot);
	if (ep->flags & BL_EP_RX_TRACKED) {
		ret = svc6_tracked_rx(skb, ep->flags, 0);
		if (ret >= 0 && ret != BL_NOT_MINE) {
			count(skb, ret);
			return TC_ACT_OK;
		}
		ip6 = ip6_headers(skb, &eth);
		if (!ip6)
			return TC_ACT_OK;
	}
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || !(cfg->flags & BL_CFG_IPV6) || addr6_eq(&ip6->saddr, cfg->node_ip6) ||
	    addr6_on_link(ip6->saddr.s6_addr))
		return TC_ACT_OK;
	if (no_masquerade6(&ip6->saddr)) {
		svc6_note_host_nat(skb, ip6, ep);
		return TC_ACT_OK;
	}
	if (cfg->flags & BL_CFG_MASQUERADE6)
		nat6_note_inbound(skb, BL_NAT_VIA_HOST);
	return TC_ACT_OK;
}

SEC("tc")
int BL_PROG_TO_POD(struct __sk_buff *skb)
{
	struct bl_endpoint *ep;
	struct bl_endpoint_key key;
	const struct bl_config *cfg;
	struct ethhdr *eth;
	struct iphdr *ip;
	__u32 zero = 0;
	int ret;

	/* What is not well-formed IPv4 (or IPv6) reaches the pod untouched. */
	if (parse_ipv4(skb, &eth, &ip) < 0) {
		if (skb->protocol == bpf_htons(ETH_P_IPV6))
			return to_pod6(skb);
		return TC_ACT_OK;
	}
	__builtin_memcpy(key.ip, &ip->daddr, 4);
	ep = bpf_map_lookup_elem(&endpoints, &key);
	if (!ep || ep->ifindex != skb->ifindex)
		return TC_ACT_OK;
	count_rx(skb, ep->slot);
	/* A backend the host serves (hostNetwork) answers a service flow. */
	if (ep->flags & BL_EP_RX_TRACKED) {
		ret = svc_tracked_rx(skb, ep->flags, 0);
		if (ret >= 0 && ret != BL_NOT_MINE) {
			count(skb, ret);
			return TC_ACT_OK;
		}
		ip = ip_headers(skb, &eth);
		if (!ip)
			return TC_ACT_OK;
	}
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || ip->saddr == cfg->node_ip)
		return TC_ACT_OK;
	/*
	 * From the cluster: the replies are never SNATed, but those of what
	 * netfilter translated on the way in (kube-proxy's service DNAT)
	 * must go back through it.
	 */
	if (no_masquerade(ip->saddr)) {
		svc_note_host_nat(skb, ip, ep);
		return TC_ACT_OK;
	}
	if (cfg->flags & BL_CFG_MASQUERADE)
		nat_note_inbound(skb, ip, BL_NAT_VIA_HOST);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
