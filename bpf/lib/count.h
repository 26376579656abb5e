/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every verdict goes through here, so every drop is counted with its reason
 * and reported to `bridgeless monitor` as an event; forwarded packets are
 * counted per pod and, while tracing is on, sampled as trace events.
 */
#ifndef BL_COUNT_H
#define BL_COUNT_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "proto.h"

/*
 * What a helper that reaches a verdict returns: a negative drop reason
 * (-BL_DROP_...) for a packet to drop, so that its caller has one check,
 * `if (ret < 0) return drop(skb, -ret);`; otherwise the counter of the
 * verdict reached (0 is one of them: BL_FWD_LOCAL), or BL_NOT_MINE for a
 * packet that is none of the helper's business, a value no counter has.
 */
#define BL_NOT_MINE BL_COUNTER_SLOTS
_Static_assert(BL_NOT_MINE >= BL_COUNTER_MAX, "BL_NOT_MINE is no counter");

static __always_inline void count(struct __sk_buff *skb, enum bl_counter reason)
{
	__u32 key = reason;
	struct bl_counter_val *v = bpf_map_lookup_elem(&counters, &key);

	if (v) {
		v->packets++;
		v->bytes += skb->len;
	}
}

/* A pod's own counters; slot 0 (no slot) counts where nobody looks. */
static __always_inline void count_rx(struct __sk_buff *skb, __u32 slot)
{
	struct bl_ep_stats *s = bpf_map_lookup_elem(&ep_stats, &slot);

	if (s) {
		s->rx_packets++;
		s->rx_bytes += skb->len;
	}
}

static __always_inline void count_tx(struct __sk_buff *skb, __u32 slot)
{
	struct bl_ep_stats *s = bpf_map_lookup_elem(&ep_stats, &slot);

	if (s) {
		s->tx_packets++;
		s->tx_bytes += skb->len;
	}
}

/*
 * Describe the packet in an event: addresses and ports read with
 * bpf_skb_load_bytes, so headers outside the linear part are found too, and
 * nothing is assumed about what the caller has pulled or validated.
 */
static __always_inline void event_fill(struct __sk_buff *skb, struct bl_event *e)
{
	struct iphdr ip;
	__u8 l4[4];

	e->ethertype = bpf_ntohs(skb->protocol);
	if (skb->protocol == bpf_htons(ETH_P_ARP)) {
		struct arphdr arp;

		/* sender and target IPv4 addresses of an Ethernet ARP */
		if (bpf_skb_load_bytes(skb, ETH_HLEN, &arp, sizeof(arp)) == 0)
			e->sport = bpf_ntohs(arp.ar_op);
		bpf_skb_load_bytes(skb, ETH_HLEN + sizeof(arp) + ETH_ALEN, e->saddr, 4);
		bpf_skb_load_bytes(skb, ETH_HLEN + sizeof(arp) + 2 * ETH_ALEN + 4,
				   e->daddr, 4);
		return;
	}
	if (skb->protocol != bpf_htons(ETH_P_IP) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) || ip.version != 4)
		return;
	e->proto = ip.protocol;
	__builtin_memcpy(e->saddr, &ip.saddr, 4);
	__builtin_memcpy(e->daddr, &ip.daddr, 4);
	/* later fragments carry no L4 header */
	if (ip.ihl < 5 || (ip.frag_off & bpf_htons(0x1fff)) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN + ip.ihl * 4, l4, sizeof(l4)))
		return;
	if (ip.protocol == IPPROTO_TCP || ip.protocol == IPPROTO_UDP) {
		e->sport = (l4[0] << 8) | l4[1];
		e->dport = (l4[2] << 8) | l4[3];
	} else if (ip.protocol == IPPROTO_ICMP) {
		e->sport = l4[0];
		e->dport = l4[1];
	}
}

/*
 * Queue one event. Not inlined: drops and sampled traces are rare next to
 * forwarded packets, and one copy of this keeps every drop site small.
 */
static __noinline int emit_event(struct __sk_buff *skb, __u32 reason,
				 __u32 flags, __u32 out_ifindex)
{
	struct bl_event *e;

	/*
	 * A full ring (nobody reading) is seen without taking its lock, so a
	 * flood of drops on every CPU does not contend for it just to fail.
	 */
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >
	    BL_EVENTS_RING_SIZE - 4 * sizeof(*e))
		goto lost;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto lost;
	__builtin_memset(e, 0, sizeof(*e));
	e->time_ns = bpf_ktime_get_ns();
	e->ifindex = skb->ifindex;
	e->out_ifindex = out_ifindex;
	e->len = skb->len;
	e->reason = reason;
	e->flags = flags;
	event_fill(skb, e);
	bpf_ringbuf_submit(e, 0);
	return 0;
lost:
	count(skb, BL_EVENTS_LOST);
	return 0;
}

static __noinline int trace_sampled(struct __sk_buff *skb, __u32 reason,
				    __u32 out_ifindex)
{
	__u32 rate = trace_rate;

	if (rate > 1 && bpf_get_prandom_u32() % rate)
		return 0;
	return emit_event(skb, reason, BL_EVENT_TRACE, out_ifindex);
}

/*
 * A forwarded packet, for `monitor --trace`. While tracing is off this is
 * one load of a global and one branch the CPU predicts, nothing more.
 */
static __always_inline void trace(struct __sk_buff *skb, enum bl_counter reason,
				  __u32 out_ifindex)
{
	if (trace_rate)
		trace_sampled(skb, reason, out_ifindex);
}

static __always_inline int drop(struct __sk_buff *skb, enum bl_counter reason)
{
	count(skb, reason);
	emit_event(skb, reason, BL_EVENT_DROP, 0);
	return TC_ACT_SHOT;
}

static __always_inline int pass(struct __sk_buff *skb, enum bl_counter reason)
{
	count(skb, reason);
	trace(skb, reason, 0);
	return TC_ACT_OK;
}

#endif
