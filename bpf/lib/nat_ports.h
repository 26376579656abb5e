/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A flow's mapping: a node port of the NAT range claimed towards its remote
 * (never two flows on one port towards one remote), and its two entries
 * kept a pair while the LRU evicts them one by one.
 */
#ifndef BL_NAT_PORTS_H
#define BL_NAT_PORTS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "count.h"
#include "maps.h"
#include "nat_table.h"

/*
 * Claim node port port towards t's remote for tuple t: create the ingress
 * entry (BPF_NOEXIST), or adopt one that already leads back to t (the half
 * of t's own mapping whose egress half the LRU evicted). Returns 1 when
 * created, 2 when adopted, 0 when another flow owns the port.
 */
static __always_inline int ingress_claim(const struct bl_config *cfg,
					 const struct nat_tuple *t, __u16 port,
					 __u64 now)
{
	struct bl_nat_entry iv = {}, *ie;
	struct bl_nat_key ik;

	ingress_key(&ik, cfg, t, port);
	__builtin_memcpy(iv.addr, &t->saddr, 4);
	iv.port = t->sport;
	iv.created_ns = iv.last_seen_ns = now;
	if (bpf_map_update_elem(&nat, &ik, &iv, BPF_NOEXIST) == 0)
		return 1;
	ie = bpf_map_lookup_elem(&nat, &ik);
	return ie && ingress_is_of(ie, t) ? 2 : 0;
}

/*
 * Make the mapping of tuple t, which has none. A new mapping keeps the pod's
 * port when it lies in the NAT range and is free towards this remote;
 * otherwise random ports of the range are tried, a bounded number of times.
 * Random, not the next ones: a pod's connections to one server come with
 * consecutive ports, and stepping one port on from a taken one would make
 * each new mapping collide with the last (a range of at most
 * BL_NAT_PORT_TRIES ports is walked in full instead). The ingress entry is
 * claimed first (BPF_NOEXIST), so two flows can never own one node port
 * towards one remote. Returns the egress entry, or NULL: no free port.
 */
static __always_inline struct bl_nat_entry *
nat_create(struct __sk_buff *skb, const struct bl_config *cfg,
	   const struct nat_tuple *t, __u64 now)
{
	struct bl_nat_entry ev = {};
	struct bl_nat_key ek, ik;
	__u32 lo = cfg->nat_port_min, size = cfg->nat_port_max - lo + 1, start, i;
	int claim = 0;
	__u16 port;

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
		claim = ingress_claim(cfg, t, port, now);
		if (claim)
			goto claimed;
	}
	return NULL;

claimed:
	key_from(&ek, t->saddr, t->daddr, t->sport, t->dport, t->proto,
		 BL_DIR_EGRESS);
	__builtin_memcpy(ev.addr, &cfg->node_ip, 4);
	ev.port = port;
	ev.created_ns = now;
	ev.last_seen_ns = now;
	if (bpf_map_update_elem(&nat, &ek, &ev, BPF_NOEXIST)) {
		/* Another CPU made this flow's mapping meanwhile: use theirs. */
		if (claim == 1) {
			ingress_key(&ik, cfg, t, port);
			bpf_map_delete_elem(&nat, &ik);
		}
	} else {
		count(skb, claim == 1 ? BL_NAT_NEW : BL_NAT_HALF_RESTORED);
	}
	return bpf_map_lookup_elem(&nat, &ek);
}

/*
 * The LRU evicts the two entries of a mapping independently. An egress
 * entry whose ingress entry is gone would send packets whose replies find
 * no way back, or, once another flow has taken the port towards the same
 * remote, reach that flow. So whenever a flow leaves the fast path (each
 * TCP SYN, and at least once a second through the FIB cache's age), its
 * egress entry e is checked: a missing ingress entry is put back; a port
 * another flow owns now replaces the mapping (counted: the remote sees a
 * new port). Entries of inbound flows have no pair and are returned as
 * they are. Returns the entry to use, or NULL: no free port for the
 * replacement.
 */
static __always_inline struct bl_nat_entry *
nat_pair_check(struct __sk_buff *skb, const struct bl_config *cfg,
	       const struct nat_tuple *t, struct bl_nat_entry *e, __u64 now)
{
	struct bl_nat_entry *ie;
	struct bl_nat_key k;

	if (e->seen & BL_NAT_UNPAIRED) /* an inbound flow's: no pair */
		return e;
	ingress_key(&k, cfg, t, e->port);
	ie = bpf_map_lookup_elem(&nat, &k);
	if (ie && ingress_is_of(ie, t))
		return e;
	if (!ie && ingress_claim(cfg, t, e->port, now)) {
		count(skb, BL_NAT_HALF_RESTORED);
		return e;
	}
	key_from(&k, t->saddr, t->daddr, t->sport, t->dport, t->proto,
		 BL_DIR_EGRESS);
	bpf_map_delete_elem(&nat, &k);
	count(skb, BL_NAT_STALE_REPLACED);
	return nat_create(skb, cfg, t, now);
}

#endif
