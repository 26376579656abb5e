/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What NAT66 reads of an IPv6 packet before it changes anything: the tuple
 * behind the extension headers, and what kind of packet a pod's is to NAT.
 * The kinds are IPv4's (nat_tuple.h).
 */
#ifndef BL_NAT6_TUPLE_H
#define BL_NAT6_TUPLE_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include "csum6.h"
#include "nat_tuple.h"
#include "parse6.h"

#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ICMP6_DEST_UNREACH 1
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_PARAMPROB 4

/* The tuple of an IPv6 packet as NAT66 sees it, ports in host byte order. */
struct nat6_tuple {
	__u32 saddr[4]; /* network byte order; words for 4-byte alignment */
	__u32 daddr[4];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 tcp_flags;
	__u8 icmp_type;
} __attribute__((aligned(8))); /* addresses compared as 64-bit words */

/* The ICMPv6 errors NAT66 translates: they quote the packet they are about. */
static __always_inline int icmp6_is_error(__u8 type)
{
	return type >= ICMP6_DEST_UNREACH && type <= ICMP6_PARAMPROB;
}

/*
 * Read the upper-layer part of the tuple at off, as read_ports() for IPv4:
 * an echo request's identifier is the pod side's sport, an echo reply's
 * its dport. Returns 0, or -1 for what NAT66 cannot translate.
 */
static __always_inline int read_ports6(struct __sk_buff *skb, __u32 off,
				       struct nat6_tuple *t)
{
	__u8 buf[6];

	switch (t->proto) {
	case IPPROTO_TCP:
		if (bpf_skb_load_bytes(skb, off, buf, 4))
			return -1;
		if (bpf_skb_load_bytes(skb, off + 13, &t->tcp_flags, 1))
			t->tcp_flags = 0;
		break;
	case IPPROTO_UDP:
		if (bpf_skb_load_bytes(skb, off, buf, 4))
			return -1;
		break;
	case IPPROTO_ICMPV6:
		if (bpf_skb_load_bytes(skb, off, buf, 6))
			return -1;
		t->icmp_type = buf[0];
		if (buf[0] == ICMP6_ECHO_REQUEST) {
			t->sport = (buf[4] << 8) | buf[5];
			t->dport = 0;
		} else if (buf[0] == ICMP6_ECHO_REPLY) {
			t->sport = 0;
			t->dport = (buf[4] << 8) | buf[5];
		}
		return 0;
	default:
		return -1;
	}
	t->sport = (buf[0] << 8) | buf[1];
	t->dport = (buf[2] << 8) | buf[3];
	return 0;
}

struct snat6_pkt {
	struct nat6_tuple *t; /* in scratch (scratch6.h): the stack is short */
	struct l4_layout l;
	__u32 l4_off;
	__u64 now; /* nat_now() */
	struct bl_nat6_entry *e; /* FLOW, ECHO_REPLY: the egress entry or NULL */
};

/*
 * Read the tuple of a pod's IPv6 packet (no change to it). Returns a
 * snat_kind: SNAT_EXT_HDR where the extension headers were not walked to
 * the end.
 */
static __always_inline int snat6_parse(struct __sk_buff *skb, const struct ipv6hdr *ip6,
				       struct snat6_pkt *p)
{
	struct ip6_l4 w;

	__builtin_memset(p->t, 0, sizeof(*p->t));
	addr6_copy(p->t->saddr, &ip6->saddr);
	addr6_copy(p->t->daddr, &ip6->daddr);
	if (ip6_walk(skb, IP6_OFF, ip6->nexthdr, &w))
		return SNAT_EXT_HDR;
	p->t->proto = w.proto;
	p->l4_off = w.off;
	if (w.frag == IP6_FRAG_LATER)
		return SNAT_LATER_FRAG;
	if (l4_layout6(p->t->proto, BL_DIR_EGRESS, &p->l) || read_ports6(skb, p->l4_off, p->t))
		return SNAT_UNSUPPORTED;
	if (p->t->proto != IPPROTO_ICMPV6 || p->t->icmp_type == ICMP6_ECHO_REQUEST)
		return SNAT_FLOW;
	if (p->t->icmp_type == ICMP6_ECHO_REPLY)
		return SNAT_ECHO_REPLY;
	return icmp6_is_error(p->t->icmp_type) ? SNAT_ICMP_ERROR : SNAT_UNSUPPORTED;
}

#endif
