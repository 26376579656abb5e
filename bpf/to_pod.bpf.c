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
#include "lib/parse.h"

SEC("tc")
int BL_PROG_TO_POD(struct __sk_buff *skb)
{
	const struct bl_endpoint *ep;
	struct bl_endpoint_key key;
	const struct bl_config *cfg;
	struct ethhdr *eth;
	struct iphdr *ip;
	__u32 zero = 0;

	/* What is not well-formed IPv4 reaches the pod untouched. */
	if (parse_ipv4(skb, &eth, &ip) < 0)
		return TC_ACT_OK;
	__builtin_memcpy(key.ip, &ip->daddr, 4);
	ep = bpf_map_lookup_elem(&endpoints, &key);
	if (ep && ep->ifindex == skb->ifindex)
		count_rx(skb, ep->slot);
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || !(cfg->flags & BL_CFG_MASQUERADE))
		return TC_ACT_OK;
	/* Replies to the node itself or to the cluster are never translated. */
	if (ip->saddr == cfg->node_ip || no_masquerade(ip->saddr))
		return TC_ACT_OK;
	nat_note_inbound(skb, ip, BL_NAT_VIA_HOST);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
