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

	/* What is not well-formed IPv4 reaches the pod untouched. */
	if (parse_ipv4(skb, &eth, &ip) < 0)
		return TC_ACT_OK;
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
