/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flows that came in from outside to a pod, not translated: an entry of
 * their own so that the pod's replies leave with its own address (as they
 * came) or go back through the host stack that delivered them.
 */
#ifndef BL_NAT_INBOUND_H
#define BL_NAT_INBOUND_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "nat_table.h"
#include "parse.h"
#include "proto.h"

/*
 * What to do with a reply to an inbound flow, by how it came in: the
 * counter of its verdict, NAT_INBOUND_REPLY (sent by the datapath, not
 * translated) or PASS_NAT_VIA_HOST (to the host stack).
 */
static __always_inline int unpaired_verdict(const struct bl_nat_entry *e)
{
	return e->seen & BL_NAT_VIA_HOST ? BL_PASS_NAT_VIA_HOST : BL_NAT_INBOUND_REPLY;
}

/*
 * A packet from outside the no-masquerade set is entering a pod, either
 * straight from the uplink without NAT (how = BL_NAT_INBOUND) or through the
 * host stack (how = BL_NAT_VIA_HOST): remember its flow, so the pod's replies
 * are not SNATed.
 */
static __always_inline void nat_note_inbound(struct __sk_buff *skb,
					     struct iphdr *ip, __u8 how)
{
	struct bl_nat_entry v = {}, *e;
	struct nat_tuple t = {};
	struct bl_nat_key k;

	t.proto = ip->protocol;
	if (ip_later_frag(ip))
		return;
	if (read_ports(skb, IP_OFF + ip->ihl * 4, &t))
		return;
	if (t.proto == IPPROTO_ICMP && t.icmp_type != ICMP_ECHO)
		return;
	/* The reply's tuple: pod -> remote, ports swapped. */
	key_from(&k, ip->daddr, ip->saddr, t.dport, t.sport, t.proto, BL_DIR_EGRESS);
	e = bpf_map_lookup_elem(&nat, &k);
	if (e) {
		if (e->seen & how)
			entry_touch(e, t.tcp_flags, nat_now());
		return;
	}
	__builtin_memcpy(v.addr, &ip->daddr, 4);
	v.port = t.dport;
	v.seen = how | tcp_seen(t.tcp_flags);
	v.created_ns = v.last_seen_ns = nat_now();
	v.packets = 1;
	bpf_map_update_elem(&nat, &k, &v, BPF_NOEXIST);
}

#endif
