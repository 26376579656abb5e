/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What NAT reads of a packet before it changes anything: the tuple
 * (addresses, protocol, ports or ICMP echo identifier, TCP flags) and, for
 * a pod's packet, what kind of packet it is to NAT.
 */
#ifndef BL_NAT_TUPLE_H
#define BL_NAT_TUPLE_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "csum.h"
#include "maps.h"
#include "parse.h"
#include "proto.h"

/* The tuple of a packet as NAT sees it, ports in host byte order. */
struct nat_tuple {
	__be32 saddr;
	__be32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 tcp_flags;
	__u8 icmp_type;
};

/*
 * Read the L4 part of the tuple at off. ICMP echo requests and replies put
 * their identifier where the pod side's port goes: sport for a request from
 * the pod, dport for a reply coming back (which mirrors it).
 * Returns 0, or -1 for what NAT cannot translate.
 */
static __always_inline int read_ports(struct __sk_buff *skb, __u32 off,
				      struct nat_tuple *t)
{
	__u8 buf[6];

	switch (t->proto) {
	case IPPROTO_TCP:
		if (bpf_skb_load_bytes(skb, off, buf, 4))
			return -1;
		/* Absent in an ICMP error's quote, which may stop at 8 bytes. */
		if (bpf_skb_load_bytes(skb, off + 13, &t->tcp_flags, 1))
			t->tcp_flags = 0;
		break;
	case IPPROTO_UDP:
		if (bpf_skb_load_bytes(skb, off, buf, 4))
			return -1;
		break;
	case IPPROTO_ICMP:
		if (bpf_skb_load_bytes(skb, off, buf, 6))
			return -1;
		t->icmp_type = buf[0];
		if (buf[0] == ICMP_ECHO) {
			t->sport = (buf[4] << 8) | buf[5];
			t->dport = 0;
		} else if (buf[0] == ICMP_ECHOREPLY) {
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

/* TCP flags as nat_tuple.tcp_flags holds them (byte 13 of the header) */
#define BL_TCP_FIN 0x01
#define BL_TCP_SYN 0x02
#define BL_TCP_RST 0x04

/* What a pod's packet is to NAT, before anything is translated. */
enum snat_kind {
	SNAT_UNSUPPORTED,
	SNAT_LATER_FRAG, /* a later fragment: no ports */
	SNAT_ICMP_ERROR, /* an ICMP error the pod sends */
	SNAT_ECHO_REPLY, /* the pod answers a ping */
	SNAT_FLOW, /* TCP, UDP or an echo request: it has a mapping of its own */
};

struct snat_pkt {
	struct nat_tuple t;
	struct l4_layout l;
	__u32 l4_off;
	__u64 now; /* nat_now() */
	/* SNAT_FLOW, SNAT_ECHO_REPLY: the egress entry, or NULL (not looked up) */
	struct bl_nat_entry *e;
};

/* Read the tuple of a pod's packet (no change to it). Returns a snat_kind. */
static __always_inline int snat_parse(struct __sk_buff *skb, struct iphdr *ip,
				      struct snat_pkt *p)
{
	p->t.saddr = ip->saddr;
	p->t.daddr = ip->daddr;
	p->t.proto = ip->protocol;
	p->l4_off = IP_OFF + ip->ihl * 4;
	if (ip_later_frag(ip))
		return SNAT_LATER_FRAG;
	if (l4_layout(p->t.proto, BL_DIR_EGRESS, &p->l) ||
	    read_ports(skb, p->l4_off, &p->t))
		return SNAT_UNSUPPORTED;
	if (p->t.proto == IPPROTO_ICMP && p->t.icmp_type == ICMP_ECHOREPLY)
		return SNAT_ECHO_REPLY;
	if (p->t.proto == IPPROTO_ICMP && p->t.icmp_type != ICMP_ECHO)
		return SNAT_ICMP_ERROR;
	return SNAT_FLOW;
}

#endif
