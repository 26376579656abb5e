/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The NAT table (lib/maps.h): the keys of a mapping's two entries, made
 * from a tuple, and what each packet of a flow writes into its entry (time,
 * count, TCP flags seen) for the collector's timeouts.
 */
#ifndef BL_NAT_TABLE_H
#define BL_NAT_TABLE_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "nat_tuple.h"

/* A NAT table key; ports in host byte order, dir an enum bl_nat_dir. */
static __always_inline void key_from(struct bl_nat_key *k, __be32 saddr,
				     __be32 daddr, __u16 sport, __u16 dport,
				     __u8 proto, __u8 dir)
{
	__builtin_memcpy(k->saddr, &saddr, 4);
	__builtin_memcpy(k->daddr, &daddr, 4);
	k->sport = sport;
	k->dport = dport;
	k->proto = proto;
	k->dir = dir;
	k->pad = 0;
}

/* The egress entry of the pod's tuple t, or NULL. */
static __always_inline struct bl_nat_entry *nat_lookup(const struct nat_tuple *t)
{
	struct bl_nat_key ek;

	key_from(&ek, t->saddr, t->daddr, t->sport, t->dport, t->proto,
		 BL_DIR_EGRESS);
	return bpf_map_lookup_elem(&nat, &ek);
}

/* The ingress key of tuple t's mapping to node port port. */
static __always_inline void ingress_key(struct bl_nat_key *k,
					const struct bl_config *cfg,
					const struct nat_tuple *t, __u16 port)
{
	key_from(k, t->daddr, cfg->node_ip,
		 t->proto == IPPROTO_ICMP ? 0 : t->dport, port, t->proto,
		 BL_DIR_INGRESS);
}

/* 1 if ingress entry ie leads back to tuple t's pod side. */
static __always_inline int ingress_is_of(const struct bl_nat_entry *ie,
					 const struct nat_tuple *t)
{
	return !__builtin_memcmp(ie->addr, &t->saddr, 4) && ie->port == t->sport;
}

/* The BL_NAT_SEEN_* bits of a packet's TCP flags. */
static __always_inline __u8 tcp_seen(__u8 tcp_flags)
{
	__u8 seen = 0;

	if (tcp_flags & BL_TCP_SYN)
		seen |= BL_NAT_SEEN_SYN;
	if (tcp_flags & BL_TCP_FIN)
		seen |= BL_NAT_SEEN_FIN;
	if (tcp_flags & BL_TCP_RST)
		seen |= BL_NAT_SEEN_RST;
	return seen;
}

/*
 * NAT's clock: CLOCK_MONOTONIC at tick resolution. The collector's timeouts
 * are seconds, and the coarse clock costs a load where bpf_ktime_get_ns()
 * reads the clock source (expensive under virtualisation) on every packet.
 */
static __always_inline __u64 nat_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

/* A packet of e's flow at now: what the collector's timeouts read. */
static __always_inline void entry_touch(struct bl_nat_entry *e, __u8 tcp_flags,
					__u64 now)
{
	__u8 seen = tcp_seen(tcp_flags);

	e->last_seen_ns = now;
	e->packets++;
	if ((e->seen | seen) != e->seen)
		e->seen |= seen;
}

#endif
