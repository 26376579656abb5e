/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SNAT in BPF: pod traffic leaving the cluster takes the node IP and a port
 * of the NAT range; replies and ICMP errors about it are translated back.
 * No conntrack, no netfilter. What the programs call is here; the parts
 * are in the nat_*.h headers and csum.h.
 */
#ifndef BL_NAT_H
#define BL_NAT_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "count.h"
#include "csum.h"
#include "maps.h"
#include "nat_frag.h"
#include "nat_fwd_cache.h"
#include "nat_icmp.h"
#include "nat_inbound.h"
#include "nat_ports.h"
#include "nat_table.h"
#include "nat_tuple.h"
#include "parse.h"
#include "proto.h"

/* The cluster CIDR and --no-masquerade prefixes: reached without SNAT. */
static __always_inline int no_masquerade(__be32 addr)
{
	struct bl_prefix_key k = { .prefixlen = 32 };

	__builtin_memcpy(k.ip, &addr, 4);
	return bpf_map_lookup_elem(&nomasq, &k) != NULL;
}

/* The source of a pod's packet -> the node IP and e's port. */
static __always_inline int snat_rewrite(struct __sk_buff *skb,
					const struct bl_config *cfg,
					const struct snat_pkt *p,
					const struct bl_nat_entry *e)
{
	return rewrite_addr_port(skb, IP_SADDR_OFF, p->t.saddr, cfg->node_ip,
				 p->l4_off, &p->l, bpf_htons(p->t.sport),
				 bpf_htons(e->port));
}

/*
 * Translate a pod's packet of kind (snat_parse) to the outside in place:
 * source -> node IP and a NAT port, making the mapping if needed and keeping
 * the FIB's answer params in it for the flow's next packets. Returns a
 * negative drop reason, or the counter of the verdict: NAT_EGRESS
 * (translated); NAT_ICMP_ERROR_OUT for the pod's ICMP error about a
 * translated flow (translated, to send like the flow's packets); for replies
 * to inbound flows NAT_INBOUND_REPLY (to send) or PASS_NAT_VIA_HOST (to the
 * host stack), the packet untouched.
 */
static __always_inline int snat_egress(struct __sk_buff *skb,
				       const struct bl_config *cfg,
				       struct snat_pkt *p, int kind,
				       const struct bpf_fib_lookup *params)
{
	struct bl_nat_entry *e;
	__be32 node_ip = cfg->node_ip;
	int ret;

	switch (kind) {
	case SNAT_LATER_FRAG:
		if (frag_snat(skb, p->t.saddr, node_ip))
			return -BL_DROP_NAT_UNSUPPORTED;
		return BL_NAT_EGRESS;
	case SNAT_ICMP_ERROR:
		return icmp_error_from_pod(skb, cfg, p);
	case SNAT_ECHO_REPLY:
		/* Only as the answer to a ping that came in from outside. */
		e = p->e ?: nat_lookup(&p->t);
		if (!e)
			return -BL_DROP_NAT_UNSUPPORTED;
		break;
	case SNAT_FLOW:
		/* snat_and_forward() has looked for it already */
		e = p->e ? nat_pair_check(skb, cfg, &p->t, p->e, p->now) :
			   nat_create(skb, cfg, &p->t, p->now);
		if (!e)
			return -BL_DROP_NAT_NO_PORT;
		break;
	default:
		return -BL_DROP_NAT_UNSUPPORTED;
	}
	entry_touch(e, p->t.tcp_flags, p->now);
	if (e->seen & BL_NAT_UNPAIRED) {
		ret = unpaired_verdict(e);
		/* replies sent by the datapath keep the FIB's answer too */
		if (ret == BL_NAT_INBOUND_REPLY)
			fwd_cache_fill(e, cfg, params, p->now);
		return ret;
	}
	fwd_cache_fill(e, cfg, params, p->now);
	if (snat_rewrite(skb, cfg, p, e))
		return -BL_DROP_NAT_UNSUPPORTED;
	return BL_NAT_EGRESS;
}

/*
 * A reply or ICMP error arriving on the uplink for the node IP: if it belongs
 * to a mapping, rewrite it towards the pod and return the pod's address in
 * *pod_ip (set only then). Returns the counter of the verdict,
 * NAT_INGRESS or NAT_ICMP_ERROR (rewritten, to deliver) or NAT_REVERSE_MISS
 * (a NAT port with no mapping, untouched); BL_NOT_MINE for a packet to no
 * NAT port at all; or a negative drop reason.
 */
static __always_inline int snat_ingress(struct __sk_buff *skb,
					const struct bl_config *cfg,
					struct iphdr *ip, __be32 *pod_ip)
{
	__u32 l4_off = IP_OFF + ip->ihl * 4;
	struct nat_tuple t = {};
	struct bl_nat_entry *e;
	struct l4_layout l;
	struct bl_nat_key k;
	__be32 pod;

	/* no ports: it goes where its first fragment went, if that was ours */
	if (ip_later_frag(ip))
		return frag_follow_first(skb, ip, pod_ip);
	t.saddr = ip->saddr;
	t.daddr = ip->daddr;
	t.proto = ip->protocol;
	if (l4_layout(t.proto, BL_DIR_INGRESS, &l) || read_ports(skb, l4_off, &t))
		return BL_NOT_MINE;
	if (t.proto == IPPROTO_ICMP && t.icmp_type != ICMP_ECHOREPLY)
		return icmp_error_to_pod(skb, cfg, &t, l4_off, pod_ip);

	if (t.dport < cfg->nat_port_min || t.dport > cfg->nat_port_max)
		return BL_NOT_MINE;
	key_from(&k, t.saddr, t.daddr, t.sport, t.dport, t.proto, BL_DIR_INGRESS);
	e = bpf_map_lookup_elem(&nat, &k);
	if (!e)
		return BL_NAT_REVERSE_MISS;
	entry_touch(e, t.tcp_flags, nat_now());
	__builtin_memcpy(&pod, e->addr, 4);
	frag_note_first(ip, pod);
	if (rewrite_addr_port(skb, IP_DADDR_OFF, t.daddr, pod, l4_off, &l,
			      bpf_htons(t.dport), bpf_htons(e->port)))
		return -BL_DROP_NAT_UNSUPPORTED;
	*pod_ip = pod;
	return BL_NAT_INGRESS;
}

#endif
