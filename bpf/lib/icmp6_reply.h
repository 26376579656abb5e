/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Refusing a pod's IPv6 packet as icmp_reply.h does for IPv4: an ICMPv6
 * destination unreachable, port unreachable (RFC 4443: type 1, code 4),
 * from the address the pod asked for, straight back to the pod. The quote
 * is the IPv6 header and the first 8 bytes behind it, enough for the pod's
 * stack to find its socket; the checksum covers the pseudo-header.
 */
#ifndef BL_ICMP6_REPLY_H
#define BL_ICMP6_REPLY_H

#include <linux/bpf.h>
#include <linux/icmpv6.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "icmp_reply.h"
#include "ndp.h"
#include "parse6.h"
#include "scratch6.h"

#define ICMP6_PORT_UNREACH 4
#define ICMP6_QUOTE_LEN (IP6_HLEN + 8)

struct icmp6_unreach {
	struct ip6_pseudo ph; /* for the checksum; its addresses are the reply's */
	struct icmp6hdr icmp;
	__u8 quote[ICMP6_QUOTE_LEN];
};
_Static_assert(sizeof(struct icmp6_unreach) <= sizeof(((struct scratch6 *)0)->msg),
	       "icmp6_unreach fits the scratch message");

/*
 * Turn the pod's IPv6 packet into a port unreachable from its destination
 * to its source, MACs swapped. Returns 0, ready to be sent back out of the
 * interface it came in on, or -1 (the packet must then be dropped).
 */
static __noinline __attribute__((unused)) int icmp6_port_unreachable(struct __sk_buff *skb)
{
	struct scratch6 *s = scratch6_get();
	struct icmp6_unreach *r;
	struct ipv6hdr ip6 = {};
	struct ethhdr eth;
	__u8 mac[ETH_ALEN];
	__u32 msg_len = sizeof(r->icmp) + sizeof(r->quote);
	__s64 sum;

	if (!s)
		return -1;
	r = (struct icmp6_unreach *)s->msg;
	__builtin_memset(r, 0, sizeof(*r));
	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) ||
	    bpf_skb_load_bytes(skb, IP6_OFF, r->quote, sizeof(r->quote)))
		return -1;
	__builtin_memcpy(mac, eth.h_dest, ETH_ALEN);
	__builtin_memcpy(eth.h_dest, eth.h_source, ETH_ALEN);
	__builtin_memcpy(eth.h_source, mac, ETH_ALEN);
	/* from the address the pod sent to, to the pod */
	addr6_copy(r->ph.saddr, r->quote + offsetof(struct ipv6hdr, daddr));
	addr6_copy(r->ph.daddr, r->quote + offsetof(struct ipv6hdr, saddr));
	r->ph.len = bpf_htonl(msg_len);
	r->ph.nexthdr = bpf_htonl(IPPROTO_ICMPV6);
	r->icmp.icmp6_type = ICMPV6_DEST_UNREACH;
	r->icmp.icmp6_code = ICMP6_PORT_UNREACH;
	/* pseudo-header, ICMPv6 header and quote lie one after the other */
	sum = bpf_csum_diff(NULL, 0, (__be32 *)r, sizeof(*r), 0);
	if (sum < 0)
		return -1;
	r->icmp.icmp6_cksum = csum_fold(sum);
	ip6.version = 6;
	ip6.payload_len = bpf_htons(msg_len);
	ip6.nexthdr = IPPROTO_ICMPV6;
	ip6.hop_limit = 64;
	addr6_copy(&ip6.saddr, r->ph.saddr);
	addr6_copy(&ip6.daddr, r->ph.daddr);
	if (bpf_skb_change_tail(skb, sizeof(eth) + sizeof(ip6) + msg_len, 0) ||
	    bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0) ||
	    bpf_skb_store_bytes(skb, IP6_OFF, &ip6, sizeof(ip6), 0) ||
	    bpf_skb_store_bytes(skb, IP6_OFF + sizeof(ip6), &r->icmp, msg_len, 0))
		return -1;
	return 0;
}

#endif
