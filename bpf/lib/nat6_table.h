/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The NAT66 table (nat6): keys from a tuple, mappings made and kept a
 * pair, inbound flows noted, fragments followed. The same algorithms as
 * IPv4's nat_table.h, nat_ports.h, nat_inbound.h and nat_frag.h (which say
 * why), on 16-byte addresses; entries are aged and touched by IPv4's
 * helpers through their embedded IPv4 entry.
 */
#ifndef BL_NAT6_TABLE_H
#define BL_NAT6_TABLE_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include "count.h"
#include "maps.h"
#include "nat_inbound.h"
#include "nat_table.h"
#include "nat6_tuple.h"
#include "scratch6.h"

static __always_inline void key6_from(struct bl_nat6_key *k, const void *saddr,
				      const void *daddr, __u16 sport, __u16 dport,
				      __u8 proto, __u8 dir)
{
	addr6_copy(k->saddr, saddr);
	addr6_copy(k->daddr, daddr);
	k->sport = sport;
	k->dport = dport;
	k->proto = proto;
	k->dir = dir;
	k->pad = 0;
}

/* The egress entry of the pod's tuple t, or NULL. */
static __always_inline struct bl_nat6_entry *nat6_lookup(const struct nat6_tuple *t)
{
	struct bl_nat6_key k;

	key6_from(&k, t->saddr, t->daddr, t->sport, t->dport, t->proto, BL_DIR_EGRESS);
	return bpf_map_lookup_elem(&nat6, &k);
}

/* The ingress key of tuple t's mapping to node port port. */
static __always_inline void ingress6_key(struct bl_nat6_key *k, const struct bl_config *cfg,
					 const struct nat6_tuple *t, __u16 port)
{
	key6_from(k, t->daddr, cfg->node_ip6, t->proto == IPPROTO_ICMPV6 ? 0 : t->dport,
		  port, t->proto, BL_DIR_INGRESS);
}

static __always_inline int ingress6_is_of(const struct bl_nat6_entry *ie,
					  const struct nat6_tuple *t)
{
	return addr6_eq(ie->addr, t->saddr) && ie->e.port == t->sport;
}

/* As ingress_claim(): 1 created, 2 adopted, 0 taken by another flow. */
static __always_inline int ingress6_claim(const struct bl_config *cfg,
					  const struct nat6_tuple *t, __u16 port, __u64 now,
					  struct nat6_kv *kv)
{
	struct bl_nat6_entry *ie;

	__builtin_memset(&kv->v, 0, sizeof(kv->v));
	ingress6_key(&kv->k, cfg, t, port);
	addr6_copy(kv->v.addr, t->saddr);
	kv->v.e.port = t->sport;
	kv->v.e.created_ns = kv->v.e.last_seen_ns = now;
	if (bpf_map_update_elem(&nat6, &kv->k, &kv->v, BPF_NOEXIST) == 0)
		return 1;
	ie = bpf_map_lookup_elem(&nat6, &kv->k);
	return ie && ingress6_is_of(ie, t) ? 2 : 0;
}

/* As nat_create(): the mapping of t, which has none; NULL: no free port. */
static __noinline __attribute__((unused)) struct bl_nat6_entry *
nat6_create(struct __sk_buff *skb, const struct bl_config *cfg,
	    const struct nat6_tuple *t, __u64 now)
{
	struct scratch6 *s = scratch6_get();
	struct nat6_kv *kv;
	__u32 lo = cfg->nat_port_min, size = cfg->nat_port_max - lo + 1, start, i;
	int claim = 0;
	__u16 port;

	if (!s)
		return NULL;
	kv = &s->kv;
	if (size == 0 || size > 65536)
		size = 1;
	if (t->sport >= lo && t->sport <= cfg->nat_port_max)
		start = t->sport - lo;
	else
		start = bpf_get_prandom_u32() % size;
	for (i = 0; i < BL_NAT_PORT_TRIES; i++) {
		if (i >= size)
			break;
		if (size <= BL_NAT_PORT_TRIES)
			port = lo + (start + i) % size;
		else if (i == 0)
			port = lo + start;
		else
			port = lo + bpf_get_prandom_u32() % size;
		claim = ingress6_claim(cfg, t, port, now, kv);
		if (claim)
			goto claimed;
	}
	return NULL;

claimed:
	__builtin_memset(&kv->v, 0, sizeof(kv->v));
	addr6_copy(kv->v.addr, cfg->node_ip6);
	kv->v.e.port = port;
	kv->v.e.created_ns = now;
	kv->v.e.last_seen_ns = now;
	key6_from(&kv->k, t->saddr, t->daddr, t->sport, t->dport, t->proto, BL_DIR_EGRESS);
	if (bpf_map_update_elem(&nat6, &kv->k, &kv->v, BPF_NOEXIST)) {
		/* Another CPU made this flow's mapping meanwhile: use theirs. */
		if (claim == 1) {
			ingress6_key(&kv->k, cfg, t, port);
			bpf_map_delete_elem(&nat6, &kv->k);
			key6_from(&kv->k, t->saddr, t->daddr, t->sport, t->dport, t->proto,
				  BL_DIR_EGRESS);
		}
	} else {
		count(skb, claim == 1 ? BL_NAT_NEW : BL_NAT_HALF_RESTORED);
	}
	return bpf_map_lookup_elem(&nat6, &kv->k);
}

/*
 * As nat_pair_check(): the entry to use for egress entry e; NULL where its
 * stale mapping was removed and the caller makes a new one (nat6_create(),
 * not called from here: the two buffers would pile up).
 */
static __noinline __attribute__((unused)) struct bl_nat6_entry *
nat6_pair_check(struct __sk_buff *skb, const struct bl_config *cfg,
		const struct nat6_tuple *t, struct bl_nat6_entry *e, __u64 now)
{
	struct scratch6 *s = scratch6_get();
	struct bl_nat6_entry *ie;
	struct nat6_kv *kv;

	if ((e->e.seen & BL_NAT_UNPAIRED) || !s)
		return e;
	kv = &s->kv;
	ingress6_key(&kv->k, cfg, t, e->e.port);
	ie = bpf_map_lookup_elem(&nat6, &kv->k);
	if (ie && ingress6_is_of(ie, t))
		return e;
	if (!ie && ingress6_claim(cfg, t, e->e.port, now, kv)) {
		count(skb, BL_NAT_HALF_RESTORED);
		return e;
	}
	key6_from(&kv->k, t->saddr, t->daddr, t->sport, t->dport, t->proto, BL_DIR_EGRESS);
	bpf_map_delete_elem(&nat6, &kv->k);
	count(skb, BL_NAT_STALE_REPLACED);
	return NULL;
}

/*
 * As nat_note_inbound(): a packet from outside the no-masquerade set
 * entering a pod without NAT (how: BL_NAT_INBOUND or BL_NAT_VIA_HOST),
 * so that the pod's replies leave as they came.
 */
static __noinline __attribute__((unused)) void nat6_note_inbound(struct __sk_buff *skb,
								   __u8 how)
{
	struct scratch6 *s = scratch6_get();
	struct bl_nat6_entry *e;
	struct nat6_tuple t = {};
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	struct ip6_l4 w;

	/* a function of its own: it finds the headers itself */
	ip6 = ip6_headers(skb, &eth);
	if (!ip6 || !s)
		return;
	if (ip6_walk(skb, IP6_OFF, ip6->nexthdr, &w) || w.frag == IP6_FRAG_LATER)
		return;
	t.proto = w.proto;
	if (read_ports6(skb, w.off, &t))
		return;
	if (t.proto == IPPROTO_ICMPV6 && t.icmp_type != ICMP6_ECHO_REQUEST)
		return;
	/* the reply's tuple: pod -> remote, ports swapped */
	key6_from(&s->kv.k, &ip6->daddr, &ip6->saddr, t.dport, t.sport, t.proto,
		  BL_DIR_EGRESS);
	e = bpf_map_lookup_elem(&nat6, &s->kv.k);
	if (e) {
		if (e->e.seen & how)
			entry_touch(&e->e, t.tcp_flags, nat_now());
		return;
	}
	__builtin_memset(&s->kv.v, 0, sizeof(s->kv.v));
	addr6_copy(s->kv.v.addr, &ip6->daddr);
	s->kv.v.e.port = t.dport;
	s->kv.v.e.seen = how | tcp_seen(t.tcp_flags);
	s->kv.v.e.created_ns = s->kv.v.e.last_seen_ns = nat_now();
	s->kv.v.e.packets = 1;
	bpf_map_update_elem(&nat6, &s->kv.k, &s->kv.v, BPF_NOEXIST);
}

/* What every fragment of a datagram shares: addresses, id, protocol. */
static __always_inline void frag6_key(struct bl_frag6_key *fk, const struct nat6_tuple *t,
				      __be32 id)
{
	addr6_copy(fk->saddr, t->saddr);
	addr6_copy(fk->daddr, t->daddr);
	fk->id = id;
	fk->proto = t->proto;
	fk->pad[0] = fk->pad[1] = fk->pad[2] = 0;
}

/* The first fragment of a reply translated to pod: the later ones follow. */
static __always_inline void frag6_note_first(const struct nat6_tuple *t, __be32 id,
					     const void *pod, struct scratch6 *s)
{
	frag6_key(&s->fk, t, id);
	addr6_copy(s->fv.pod_ip, pod);
	bpf_map_update_elem(&frags6, &s->fk, &s->fv, BPF_ANY);
}

/*
 * A later fragment for the node's address (tuple t, fragment header at
 * frag_off): to the pod its first fragment went to. It has no upper-layer
 * header, and IPv6 no header checksum: only the address changes. Returns
 * NAT_INGRESS with pod set, BL_NOT_MINE, or -DROP_NAT_UNSUPPORTED.
 */
static __always_inline int frag6_follow_first(struct __sk_buff *skb,
					      const struct nat6_tuple *t, __u32 frag_off,
					      __be32 id, __u32 *pod, struct scratch6 *s)
{
	struct bl_frag6_entry *fe;
	__u8 fh[4];

	frag6_key(&s->fk, t, id);
	fe = bpf_map_lookup_elem(&frags6, &s->fk);
	if (!fe)
		return BL_NOT_MINE;
	addr6_copy(pod, fe->pod_ip);
	/* the last one closes the entry (see frag_follow_first) */
	if (bpf_skb_load_bytes(skb, frag_off, fh, 4) == 0 && !(fh[3] & IP6_FRAG_MORE))
		bpf_map_delete_elem(&frags6, &s->fk);
	if (bpf_skb_store_bytes(skb, IP6_DADDR_OFF, pod, 16, 0))
		return -BL_DROP_NAT_UNSUPPORTED;
	return BL_NAT_INGRESS;
}

#endif
