/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Refusing a pod's packet the way kube-proxy's REJECT rule does for a
 * service without endpoints: an ICMP destination unreachable, port
 * unreachable, from the address the pod asked for, sent straight back to
 * the pod. Its TCP connect() fails at once with ECONNREFUSED, a UDP socket
 * sees the error on its next call; nothing waits for a timeout.
 *
 * The packet is turned into the error in place: the IP header and the first
 * 8 bytes behind it (all RFC 792 asks to quote) are copied out, the packet
 * is cut (or grown) to Ethernet + IP + ICMP + quote, and the new headers
 * are written over it with their checksums computed here.
 */
#ifndef BL_ICMP_REPLY_H
#define BL_ICMP_REPLY_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parse.h"
#include "proto.h"

#define ICMP_PORT_UNREACH 3
#define ICMP_QUOTE_LEN (sizeof(struct iphdr) + 8)

struct icmp_unreach {
	struct icmphdr icmp;
	__u8 quote[ICMP_QUOTE_LEN];
};

static __always_inline __u16 csum_fold(__s64 sum)
{
	__u32 s = sum;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return ~s;
}

/*
 * Turn the pod's IPv4 packet (headers at IP_OFF, an IP header without
 * options) into a port unreachable from its destination to its source,
 * MACs swapped. Returns 0, with the packet ready to be sent back out of the
 * interface it came in on, or -1 (the packet is then in an undefined state
 * and must be dropped).
 */
static __always_inline int icmp_port_unreachable(struct __sk_buff *skb)
{
	struct icmp_unreach r = {};
	struct iphdr ip = {};
	struct ethhdr eth;
	__u8 mac[ETH_ALEN];
	__s64 sum;

	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) ||
	    bpf_skb_load_bytes(skb, IP_OFF, r.quote, sizeof(r.quote)))
		return -1;
	/* The quote is the IP header as sent: 20 bytes, then 8 of its payload. */
	if ((r.quote[0] & 0x0f) != 5)
		return -1;
	__builtin_memcpy(mac, eth.h_dest, ETH_ALEN);
	__builtin_memcpy(eth.h_dest, eth.h_source, ETH_ALEN);
	__builtin_memcpy(eth.h_source, mac, ETH_ALEN);
	ip.version = 4;
	ip.ihl = 5;
	ip.tot_len = bpf_htons(sizeof(ip) + sizeof(r));
	ip.frag_off = bpf_htons(0x4000); /* DF: 56 bytes never need fragments */
	ip.ttl = 64;
	ip.protocol = IPPROTO_ICMP;
	/* from the address the pod sent to, to the pod */
	__builtin_memcpy(&ip.saddr, r.quote + offsetof(struct iphdr, daddr), 4);
	__builtin_memcpy(&ip.daddr, r.quote + offsetof(struct iphdr, saddr), 4);
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&ip, sizeof(ip), 0);
	if (sum < 0)
		return -1;
	ip.check = csum_fold(sum);
	r.icmp.type = ICMP_DEST_UNREACH;
	r.icmp.code = ICMP_PORT_UNREACH;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&r, sizeof(r), 0);
	if (sum < 0)
		return -1;
	r.icmp.checksum = csum_fold(sum);

	if (bpf_skb_change_tail(skb, sizeof(eth) + sizeof(ip) + sizeof(r), 0) ||
	    bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0) ||
	    bpf_skb_store_bytes(skb, IP_OFF, &ip, sizeof(ip), 0) ||
	    bpf_skb_store_bytes(skb, IP_OFF + sizeof(ip), &r, sizeof(r), 0))
		return -1;
	return 0;
}

#endif
