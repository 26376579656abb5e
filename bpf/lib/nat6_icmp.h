/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMPv6 errors about translated flows, as nat_icmp.h for IPv4: the quoted
 * packet is translated as well as the error's own header. ICMPv6's
 * checksum covers the pseudo-header, so the outer address is folded in as
 * such and the quoted one as data; the quoted upper-layer checksum is left
 * as quoted. Packet Too Big above all must reach the pod: IPv6 routers
 * never fragment, path MTU discovery is all there is.
 */
#ifndef BL_NAT6_ICMP_H
#define BL_NAT6_ICMP_H

#include <linux/bpf.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "count.h"
#include "csum6.h"
#include "nat6_table.h"
#include "scratch6.h"

#define ICMP6_CSUM_OFF(l4_off) ((l4_off) + offsetof(struct icmp6hdr, icmp6_cksum))

/*
 * The packet an ICMPv6 error at l4_off quotes: its IPv6 header (s->inner)
 * and the tuple of its upper-layer header (s->in; layout for direction dir
 * in *il, at *inner_l4_off). 0, or -1 where the quote is not one NAT66
 * translates.
 */
static __always_inline int icmp6_quote(struct __sk_buff *skb, __u32 l4_off,
				       enum bl_nat_dir dir, struct scratch6 *s,
				       struct l4_layout *il, __u32 *inner_l4_off)
{
	__u32 inner_off = l4_off + sizeof(struct icmp6hdr);
	struct ip6_l4 w;

	__builtin_memset(&s->in, 0, sizeof(s->in));
	if (bpf_skb_load_bytes(skb, inner_off, &s->inner, sizeof(s->inner)) ||
	    s->inner.version != 6 || ip6_walk(skb, inner_off, s->inner.nexthdr, &w) ||
	    w.frag == IP6_FRAG_LATER)
		return -1;
	s->in.proto = w.proto;
	*inner_l4_off = w.off;
	if (l4_layout6(s->in.proto, dir, il) || read_ports6(skb, w.off, &s->in))
		return -1;
	return 0;
}

/*
 * Rewrite the quoted address at addr_off (old -> new) and the quoted port
 * at port_off, both folded into the ICMPv6 checksum at l4_off as data.
 * Ports in network byte order.
 */
static __always_inline int icmp6_quote_rewrite(struct __sk_buff *skb, __u32 l4_off,
					       __u32 addr_off, const void *old,
					       const void *new, __u32 port_off,
					       __be16 old_port, __be16 new_port)
{
	__u32 csum = ICMP6_CSUM_OFF(l4_off);

	if (csum6_fold_addr(skb, csum, old, new, 0, 0) ||
	    bpf_skb_store_bytes(skb, addr_off, new, 16, 0) ||
	    bpf_l4_csum_replace(skb, csum, old_port, new_port, 2) ||
	    bpf_skb_store_bytes(skb, port_off, &new_port, 2, 0))
		return -1;
	return 0;
}

/*
 * An ICMPv6 error arriving for the node's address (outer tuple t, its
 * ICMPv6 header at l4_off) about a packet of a translated flow, quoted as
 * it left: node:NAT port -> remote. Translated back towards the pod:
 * outer destination and quoted source -> the pod's address and port, with
 * pod set. Returns NAT_ICMP_ERROR, NAT_REVERSE_MISS, BL_NOT_MINE or
 * -DROP_NAT_UNSUPPORTED, as icmp_error_to_pod().
 */
static __noinline __attribute__((unused)) int icmp6_error_to_pod(struct __sk_buff *skb,
					      const struct bl_config *cfg,
					      const struct nat6_tuple *t, __u32 l4_off,
					      __u32 *pod)
{
	struct scratch6 *s = scratch6_get();
	struct bl_nat6_entry *e;
	struct l4_layout il;
	__u32 inner_l4_off, inner_off = l4_off + sizeof(struct icmp6hdr);

	if (!s || !icmp6_is_error(t->icmp_type) ||
	    icmp6_quote(skb, l4_off, BL_DIR_EGRESS, s, &il, &inner_l4_off) ||
	    !addr6_eq(&s->inner.saddr, cfg->node_ip6))
		return BL_NOT_MINE;
	/* of ICMPv6, only echo requests leave with a NAT id */
	if (s->in.proto == IPPROTO_ICMPV6 && s->in.icmp_type != ICMP6_ECHO_REQUEST)
		return BL_NOT_MINE;
	if (s->in.sport < cfg->nat_port_min || s->in.sport > cfg->nat_port_max)
		return BL_NOT_MINE;
	key6_from(&s->qk, &s->inner.daddr, &s->inner.saddr, s->in.dport, s->in.sport,
		  s->in.proto, BL_DIR_INGRESS);
	e = bpf_map_lookup_elem(&nat6, &s->qk);
	if (!e)
		return BL_NAT_REVERSE_MISS;
	addr6_copy(pod, e->addr);
	if (csum6_fold_addr(skb, ICMP6_CSUM_OFF(l4_off), t->daddr, pod, 1, 0) ||
	    bpf_skb_store_bytes(skb, IP6_DADDR_OFF, pod, 16, 0) ||
	    icmp6_quote_rewrite(skb, l4_off, inner_off + offsetof(struct ipv6hdr, saddr),
				&s->inner.saddr, pod, inner_l4_off + il.port_off,
				bpf_htons(s->in.sport), bpf_htons(e->e.port)))
		return -BL_DROP_NAT_UNSUPPORTED;
	return BL_NAT_ICMP_ERROR;
}

/*
 * An ICMPv6 error a pod sends about a packet it received, as
 * icmp_error_from_pod(): an inbound flow's leaves as its replies do; one
 * about the pod's own translated flow leaves translated (outer source and
 * quoted destination -> the node's address, quoted port -> the NAT port).
 * Returns NAT_ICMP_ERROR_OUT, the inbound flow's verdict, or a negative
 * drop reason.
 */
static __noinline __attribute__((unused)) int icmp6_error_from_pod(struct __sk_buff *skb,
						const struct bl_config *cfg,
						const struct snat6_pkt *p)
{
	struct scratch6 *s = scratch6_get();
	struct bl_nat6_entry *e;
	struct l4_layout il;
	__u32 inner_l4_off, inner_off = p->l4_off + sizeof(struct icmp6hdr);

	/* the quoted packet came in: the pod's port is its destination port */
	if (!s || icmp6_quote(skb, p->l4_off, BL_DIR_INGRESS, s, &il, &inner_l4_off))
		return -BL_DROP_NAT_UNSUPPORTED;
	if (s->in.proto == IPPROTO_ICMPV6 && s->in.icmp_type != ICMP6_ECHO_REQUEST &&
	    s->in.icmp_type != ICMP6_ECHO_REPLY)
		return -BL_DROP_NAT_UNSUPPORTED;
	key6_from(&s->qk, &s->inner.daddr, &s->inner.saddr, s->in.dport, s->in.sport,
		  s->in.proto, BL_DIR_EGRESS);
	e = bpf_map_lookup_elem(&nat6, &s->qk);
	if (!e)
		return -BL_DROP_NAT_ICMP_NO_FLOW;
	if (e->e.seen & BL_NAT_UNPAIRED)
		return unpaired_verdict(&e->e);
	if (!addr6_eq(&s->inner.daddr, p->t->saddr) ||
	    (s->in.proto == IPPROTO_ICMPV6 && s->in.icmp_type == ICMP6_ECHO_REQUEST))
		return -BL_DROP_NAT_ICMP_NO_FLOW;
	if (csum6_fold_addr(skb, ICMP6_CSUM_OFF(p->l4_off), p->t->saddr, cfg->node_ip6, 1, 0) ||
	    bpf_skb_store_bytes(skb, IP6_SADDR_OFF, cfg->node_ip6, 16, 0) ||
	    icmp6_quote_rewrite(skb, p->l4_off, inner_off + offsetof(struct ipv6hdr, daddr),
				&s->inner.daddr, cfg->node_ip6, inner_l4_off + il.port_off,
				bpf_htons(s->in.dport), bpf_htons(e->e.port)))
		return -BL_DROP_NAT_UNSUPPORTED;
	return BL_NAT_ICMP_ERROR_OUT;
}

#endif
