/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP errors about translated flows: an error quotes the header of the
 * packet it is about, so the quote is translated as well as the error's own
 * header, with the checksums that cover both.
 */
#ifndef BL_NAT_ICMP_H
#define BL_NAT_ICMP_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "count.h"
#include "csum.h"
#include "maps.h"
#include "nat_inbound.h"
#include "nat_table.h"
#include "proto.h"

/* The ICMP errors NAT translates: they quote the packet they are about. */
static __always_inline int icmp_is_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB;
}

/*
 * Translate the header an ICMP error quotes, in both directions: the quoted
 * address at addr_off (old_addr -> new_addr), the quoted IP header's checksum
 * (old_check, at inner_off + 10) and the quoted port at port_off. The ICMP
 * checksum of the error at l4_off covers the quote, so every quoted change
 * (address, its IP checksum, port) is folded into it. The quoted L4 checksum
 * is left as it is: a stack matches an error to its socket by addresses and
 * ports only. Ports in network byte order.
 */
static __always_inline int icmp_quote_rewrite(struct __sk_buff *skb,
					      __u32 l4_off, __u32 inner_off,
					      __u16 old_check, __u32 addr_off,
					      __be32 old_addr, __be32 new_addr,
					      __u32 port_off, __be16 old_port,
					      __be16 new_port)
{
	__u32 icmp_csum = l4_off + offsetof(struct icmphdr, checksum);
	__u32 in_csum_off = inner_off + offsetof(struct iphdr, check);
	__u16 new_check = csum_update4(old_check, old_addr, new_addr);

	if (bpf_l4_csum_replace(skb, icmp_csum, old_addr, new_addr, 4) ||
	    bpf_l4_csum_replace(skb, icmp_csum, old_check, new_check, 2) ||
	    bpf_skb_store_bytes(skb, in_csum_off, &new_check, 2, 0) ||
	    bpf_skb_store_bytes(skb, addr_off, &new_addr, 4, 0))
		return -1;
	if (bpf_l4_csum_replace(skb, icmp_csum, old_port, new_port, 2) ||
	    bpf_skb_store_bytes(skb, port_off, &new_port, 2, 0))
		return -1;
	return 0;
}

/*
 * An ICMP error from a pod about a packet it received (port unreachable for
 * a datagram, say). The quoted packet went remote -> pod, so the flow it
 * belongs to is the one whose packets go pod -> remote with the quoted
 * ports swapped. An inbound flow's error leaves the way its replies do
 * (unpaired_verdict). An error about one of the pod's own translated flows
 * is translated as the flow's packets are: outer source -> node IP, and the
 * quote's destination -> node IP and the flow's NAT port (an echo reply's
 * id), as Linux conntrack does. Returns NAT_ICMP_ERROR_OUT, the verdict of
 * the inbound flow, or a negative drop reason: -DROP_NAT_ICMP_NO_FLOW for an
 * error about no flow of this pod's.
 */
static __always_inline int icmp_error_from_pod(struct __sk_buff *skb,
					       const struct bl_config *cfg,
					       const struct snat_pkt *p)
{
	__u32 inner_off = p->l4_off + sizeof(struct icmphdr), inner_l4_off;
	struct nat_tuple in = {};
	struct bl_nat_entry *e;
	struct l4_layout il;
	struct bl_nat_key k;
	struct iphdr inner;

	if (!icmp_is_error(p->t.icmp_type))
		return -BL_DROP_NAT_UNSUPPORTED;
	if (bpf_skb_load_bytes(skb, inner_off, &inner, sizeof(inner)) ||
	    inner.ihl < 5)
		return -BL_DROP_NAT_UNSUPPORTED;
	inner_l4_off = inner_off + inner.ihl * 4;
	in.proto = inner.protocol;
	/* the quoted packet came in: the pod's port is its destination port */
	if (l4_layout(in.proto, BL_DIR_INGRESS, &il) ||
	    read_ports(skb, inner_l4_off, &in))
		return -BL_DROP_NAT_UNSUPPORTED;
	if (in.proto == IPPROTO_ICMP && in.icmp_type != ICMP_ECHO &&
	    in.icmp_type != ICMP_ECHOREPLY)
		return -BL_DROP_NAT_UNSUPPORTED;
	key_from(&k, inner.daddr, inner.saddr, in.dport, in.sport, in.proto,
		 BL_DIR_EGRESS);
	e = bpf_map_lookup_elem(&nat, &k);
	if (!e)
		return -BL_DROP_NAT_ICMP_NO_FLOW;
	if (e->seen & BL_NAT_UNPAIRED)
		return unpaired_verdict(e);
	/*
	 * A translated flow: only the pod's own, and only about what came
	 * back to it (an echo request of a translated flow only leaves).
	 */
	if (inner.daddr != p->t.saddr ||
	    (in.proto == IPPROTO_ICMP && in.icmp_type == ICMP_ECHO))
		return -BL_DROP_NAT_ICMP_NO_FLOW;
	if (ip_addr_set(skb, IP_SADDR_OFF, p->t.saddr, cfg->node_ip) ||
	    icmp_quote_rewrite(skb, p->l4_off, inner_off, inner.check,
			       inner_off + offsetof(struct iphdr, daddr),
			       inner.daddr, cfg->node_ip,
			       inner_l4_off + il.port_off, bpf_htons(in.dport),
			       bpf_htons(e->port)))
		return -BL_DROP_NAT_UNSUPPORTED;
	return BL_NAT_ICMP_ERROR_OUT;
}

/*
 * An ICMP error arriving for the node IP (outer tuple t, its ICMP header at
 * l4_off) about a packet of a translated flow: the quote is that packet as it
 * left, node IP:NAT port -> remote (an echo request's id for its port).
 * Translated back towards the pod: outer destination -> pod, quoted source
 * -> the pod's address and port, with *pod_ip set. Returns NAT_ICMP_ERROR,
 * NAT_REVERSE_MISS for a NAT port with no mapping, BL_NOT_MINE for an error
 * about nothing NAT sent, or -DROP_NAT_UNSUPPORTED.
 */
static __always_inline int icmp_error_to_pod(struct __sk_buff *skb,
					     const struct bl_config *cfg,
					     const struct nat_tuple *t,
					     __u32 l4_off, __be32 *pod_ip)
{
	__u32 inner_off = l4_off + sizeof(struct icmphdr), inner_l4_off;
	struct nat_tuple in = {};
	struct bl_nat_entry *e;
	struct l4_layout il;
	struct bl_nat_key k;
	struct iphdr inner;
	__be32 pod;

	if (!icmp_is_error(t->icmp_type))
		return BL_NOT_MINE;
	if (bpf_skb_load_bytes(skb, inner_off, &inner, sizeof(inner)) ||
	    inner.saddr != cfg->node_ip || inner.ihl < 5)
		return BL_NOT_MINE;
	inner_l4_off = inner_off + inner.ihl * 4;
	in.proto = inner.protocol;
	/* the quoted packet went out: its NAT port is its source port */
	if (l4_layout(in.proto, BL_DIR_EGRESS, &il) ||
	    read_ports(skb, inner_l4_off, &in))
		return BL_NOT_MINE;
	/* of ICMP, only echo requests leave with a NAT id (dport 0) */
	if (in.proto == IPPROTO_ICMP && in.icmp_type != ICMP_ECHO)
		return BL_NOT_MINE;
	if (in.sport < cfg->nat_port_min || in.sport > cfg->nat_port_max)
		return BL_NOT_MINE;
	key_from(&k, inner.daddr, inner.saddr, in.dport, in.sport, in.proto,
		 BL_DIR_INGRESS);
	e = bpf_map_lookup_elem(&nat, &k);
	if (!e)
		return BL_NAT_REVERSE_MISS;
	__builtin_memcpy(&pod, e->addr, 4);
	/* outer destination, then the quoted source address and port */
	if (ip_addr_set(skb, IP_DADDR_OFF, t->daddr, pod) ||
	    icmp_quote_rewrite(skb, l4_off, inner_off, inner.check,
			       inner_off + offsetof(struct iphdr, saddr),
			       inner.saddr, pod, inner_l4_off + il.port_off,
			       bpf_htons(in.sport), bpf_htons(e->port)))
		return -BL_DROP_NAT_UNSUPPORTED;
	*pod_ip = pod;
	return BL_NAT_ICMP_ERROR;
}

#endif
