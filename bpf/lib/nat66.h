/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * NAT66 in BPF (--masquerade6): pod traffic leaving the cluster takes the
 * node's IPv6 address and a port of the NAT range; replies, ICMPv6 errors
 * and fragments about it are translated back. What the programs call is
 * here; it is IPv4's nat.h (which says why each step is as it is) on the
 * IPv6 table, nat6.
 */
#ifndef BL_NAT66_H
#define BL_NAT66_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "count.h"
#include "csum6.h"
#include "maps.h"
#include "nat_fwd_cache.h"
#include "nat6_icmp.h"
#include "nat6_table.h"
#include "nat6_tuple.h"
#include "parse6.h"

/* The IPv6 cluster CIDR and --no-masquerade prefixes: reached without NAT66. */
static __always_inline int no_masquerade6(const void *addr)
{
	struct bl_prefix6_key k = { .prefixlen = 128 };

	addr6_copy(k.ip, addr);
	return bpf_map_lookup_elem(&nomasq6, &k) != NULL;
}

/* The source of a pod's packet -> the node's address and e's port. */
static __always_inline int snat6_rewrite(struct __sk_buff *skb, const struct bl_config *cfg,
					 const struct snat6_pkt *p,
					 const struct bl_nat6_entry *e)
{
	return rewrite6_addr_port(skb, IP6_SADDR_OFF, p->t->saddr, cfg->node_ip6, p->l4_off,
				  &p->l, bpf_htons(p->t->sport), bpf_htons(e->e.port));
}

/*
 * As snat_egress(): translate a pod's packet of kind (snat6_parse) in
 * place, making the mapping if needed and keeping the FIB's answer params
 * in it. Returns a negative drop reason or the counter of the verdict.
 */
static __always_inline int snat6_egress(struct __sk_buff *skb, const struct bl_config *cfg,
					struct snat6_pkt *p, int kind,
					const struct bpf_fib_lookup *params)
{
	struct bl_nat6_entry *e;
	int ret;

	switch (kind) {
	case SNAT_LATER_FRAG:
		/* no upper-layer header, no header checksum: the address only */
		if (bpf_skb_store_bytes(skb, IP6_SADDR_OFF, cfg->node_ip6, 16, 0))
			return -BL_DROP_NAT_UNSUPPORTED;
		return BL_NAT_EGRESS;
	case SNAT_ICMP_ERROR:
		return icmp6_error_from_pod(skb, cfg, p);
	case SNAT_ECHO_REPLY:
		e = p->e ?: nat6_lookup(p->t);
		if (!e)
			return -BL_DROP_NAT_UNSUPPORTED;
		break;
	case SNAT_FLOW:
		e = p->e ? nat6_pair_check(skb, cfg, p->t, p->e, p->now) : NULL;
		if (!e)
			e = nat6_create(skb, cfg, p->t, p->now);
		if (!e)
			return -BL_DROP_NAT_NO_PORT;
		break;
	case SNAT_EXT_HDR:
		return -BL_DROP_EXT_HDR;
	default:
		return -BL_DROP_NAT_UNSUPPORTED;
	}
	entry_touch(&e->e, p->t->tcp_flags, p->now);
	if (e->e.seen & BL_NAT_UNPAIRED) {
		ret = unpaired_verdict(&e->e);
		if (ret == BL_NAT_INBOUND_REPLY)
			fwd_cache_fill(&e->e, cfg, params, p->now);
		return ret;
	}
	fwd_cache_fill(&e->e, cfg, params, p->now);
	if (snat6_rewrite(skb, cfg, p, e))
		return -BL_DROP_NAT_UNSUPPORTED;
	return BL_NAT_EGRESS;
}

/*
 * As snat_ingress(): a reply, ICMPv6 error or fragment arriving for the
 * node's address; if it belongs to a mapping it is rewritten towards the
 * pod, whose address goes to pod (four words). Returns NAT_INGRESS, NAT_ICMP_ERROR or
 * NAT_REVERSE_MISS, BL_NOT_MINE, or a negative drop reason.
 */
static __noinline __attribute__((unused)) int snat6_ingress(struct __sk_buff *skb,
							     const struct bl_config *cfg,
							     __u32 *pod)
{
	struct scratch6 *s = scratch6_get();
	struct bl_nat6_entry *e;
	struct nat6_tuple *t;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	struct l4_layout l;
	struct ip6_l4 w;

	/* a function of its own: it finds the headers itself */
	ip6 = ip6_headers(skb, &eth);
	if (!ip6 || !s || ip6_walk(skb, IP6_OFF, ip6->nexthdr, &w))
		return BL_NOT_MINE;
	t = &s->t; /* the tuple and key in scratch (scratch6.h), for the stack */
	__builtin_memset(t, 0, sizeof(*t));
	addr6_copy(t->saddr, &ip6->saddr);
	addr6_copy(t->daddr, &ip6->daddr);
	t->proto = w.proto;
	if (w.frag == IP6_FRAG_LATER)
		return frag6_follow_first(skb, t, w.off, w.frag_id, pod, s);
	if (l4_layout6(t->proto, BL_DIR_INGRESS, &l) || read_ports6(skb, w.off, t))
		return BL_NOT_MINE;
	if (t->proto == IPPROTO_ICMPV6 && t->icmp_type != ICMP6_ECHO_REPLY)
		return icmp6_error_to_pod(skb, cfg, t, w.off, pod);
	if (t->dport < cfg->nat_port_min || t->dport > cfg->nat_port_max)
		return BL_NOT_MINE;
	key6_from(&s->tk, t->saddr, t->daddr, t->sport, t->dport, t->proto, BL_DIR_INGRESS);
	e = bpf_map_lookup_elem(&nat6, &s->tk);
	if (!e)
		return BL_NAT_REVERSE_MISS;
	entry_touch(&e->e, t->tcp_flags, nat_now());
	addr6_copy(pod, e->addr);
	if (w.frag == IP6_FRAG_FIRST)
		frag6_note_first(t, w.frag_id, pod, s);
	if (rewrite6_addr_port(skb, IP6_DADDR_OFF, t->daddr, pod, w.off, &l,
			       bpf_htons(t->dport), bpf_htons(e->e.port)))
		return -BL_DROP_NAT_UNSUPPORTED;
	return BL_NAT_INGRESS;
}

#endif
