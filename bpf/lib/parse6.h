/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Finding a packet's IPv6 header, its upper-layer header behind the
 * extension headers (a bounded walk: what lies beyond it is not guessed at),
 * and comparing 16-byte addresses as two 64-bit words.
 */
#ifndef BL_PARSE6_H
#define BL_PARSE6_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bridgeless.h"
#include "parse.h"

/* The IPv6 header and its fields, as offsets into the frame. */
#define IP6_OFF (sizeof(struct ethhdr))
#define IP6_SADDR_OFF (IP6_OFF + offsetof(struct ipv6hdr, saddr))
#define IP6_DADDR_OFF (IP6_OFF + offsetof(struct ipv6hdr, daddr))
#define IP6_HLEN 40

#ifndef IPPROTO_ICMPV6
#define IPPROTO_ICMPV6 58
#endif
#define IP6_NEXTHDR_HOP 0
#define IP6_NEXTHDR_ROUTING 43
#define IP6_NEXTHDR_FRAGMENT 44
#define IP6_NEXTHDR_AUTH 51
#define IP6_NEXTHDR_NONE 59
#define IP6_NEXTHDR_DEST 60
/*
 * Extension headers walked before giving up (hop-by-hop, routing,
 * destination options and a fragment header make four).
 */
#define IP6_EXT_MAX 4

/* The fragment header's frag_off field: offset (8-byte units) and M. */
#define IP6_FRAG_OFFSET 0xfff8
#define IP6_FRAG_MORE 0x0001

/*
 * The two words of an address: of the packet or of a map value (any
 * alignment will do), or of the stack where 8-byte aligned.
 */
#define A6W(p, i) (((const __u64 *)(p))[i])

static __always_inline int addr6_eq(const void *a, const void *b)
{
	return A6W(a, 0) == A6W(b, 0) && A6W(a, 1) == A6W(b, 1);
}

static __always_inline int addr6_is_zero(const void *a)
{
	return !(A6W(a, 0) | A6W(a, 1));
}

/* addr & mask == net, all three 16 bytes */
static __always_inline int in_prefix6(const void *addr, const void *net,
				      const void *mask)
{
	return (A6W(addr, 0) & A6W(mask, 0)) == A6W(net, 0) &&
	       (A6W(addr, 1) & A6W(mask, 1)) == A6W(net, 1);
}

/* fe80::/10 or :: (unspecified): a source only neighbour discovery uses. */
static __always_inline int addr6_link_scope(const __u8 *a)
{
	return (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || addr6_is_zero(a);
}

/* Link-local (fe80::/10) or multicast (ff00::/8): never routed on. */
static __always_inline int addr6_on_link(const __u8 *a)
{
	return a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}

/*
 * Copy an address in 32-bit words: structs on the stack (a FIB lookup's
 * parameters, a NAT key) are only 4-byte aligned, and the verifier wants
 * stack accesses aligned.
 */
static __always_inline void addr6_copy(void *dst, const void *src)
{
	((__u32 *)dst)[0] = ((const __u32 *)src)[0];
	((__u32 *)dst)[1] = ((const __u32 *)src)[1];
	((__u32 *)dst)[2] = ((const __u32 *)src)[2];
	((__u32 *)dst)[3] = ((const __u32 *)src)[3];
}

/*
 * The Ethernet header and the IPv6 header behind it, or NULL when the
 * linear part is too short. Call again after any helper that may move the
 * packet.
 */
static __always_inline struct ipv6hdr *ip6_headers(struct __sk_buff *skb,
						   struct ethhdr **eth)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);

	if ((void *)(ip6 + 1) > data_end)
		return NULL;
	*eth = data;
	return ip6;
}

/*
 * An IPv6 packet's headers, pulled and checked (version 6). Returns 0 with
 * *eth and *ip6 set, or a negative drop reason: -BL_DROP_UNSUPPORTED_L3
 * (not IPv6), -BL_DROP_TRUNCATED or -BL_DROP_BAD_IP.
 */
static __always_inline int parse_ipv6(struct __sk_buff *skb, struct ethhdr **eth,
				      struct ipv6hdr **ip6)
{
	if (skb->protocol != bpf_htons(ETH_P_IPV6))
		return -BL_DROP_UNSUPPORTED_L3;
	if (pull_headers(skb, sizeof(struct ethhdr) + IP6_HLEN))
		return -BL_DROP_TRUNCATED;
	*ip6 = ip6_headers(skb, eth);
	if (!*ip6)
		return -BL_DROP_TRUNCATED;
	if ((*ip6)->version != 6)
		return -BL_DROP_BAD_IP;
	return 0;
}

/* What lies behind the extension headers. */
struct ip6_l4 {
	__u32 off; /* of the upper-layer header (of the fragment header: LATER) */
	__u8 proto; /* the upper-layer protocol */
	__u8 frag; /* IP6_FRAG_NONE, _FIRST or _LATER */
	__be32 frag_id; /* a fragment's identification */
};
#define IP6_FRAG_NONE 0
#define IP6_FRAG_FIRST 1 /* offset 0: the upper-layer header is in it */
#define IP6_FRAG_LATER 2 /* no upper-layer header */

/*
 * Walk the extension headers of the IPv6 header at ip_off whose next
 * header is nexthdr: hop-by-hop, routing and destination options by their
 * length, a fragment header by its offset (a later fragment ends the walk:
 * it carries no upper-layer header). Returns 0 with *r filled, or -1: more
 * than IP6_EXT_MAX extension headers, an authentication header (whose data
 * NAT would invalidate anyway), no next header, or a truncated one. A
 * function of its own (a bounded loop), called from every path that needs
 * the upper-layer header, never from the plain forwarding paths.
 */
static __noinline __attribute__((unused)) int ip6_walk(struct __sk_buff *skb, __u32 ip_off,
				    __u8 nexthdr, struct ip6_l4 *r)
{
	__u32 off = ip_off + IP6_HLEN;
	__u8 h[8];
	int i;

	r->frag = IP6_FRAG_NONE;
	r->frag_id = 0;
	for (i = 0; i < IP6_EXT_MAX + 1; i++) {
		switch (nexthdr) {
		case IP6_NEXTHDR_HOP:
		case IP6_NEXTHDR_ROUTING:
		case IP6_NEXTHDR_DEST:
			if (i == IP6_EXT_MAX || bpf_skb_load_bytes(skb, off, h, 2))
				return -1;
			nexthdr = h[0];
			off += (h[1] + 1) * 8;
			break;
		case IP6_NEXTHDR_FRAGMENT:
			if (i == IP6_EXT_MAX || bpf_skb_load_bytes(skb, off, h, 8))
				return -1;
			__builtin_memcpy(&r->frag_id, h + 4, 4);
			if (((h[2] << 8) | h[3]) & IP6_FRAG_OFFSET) {
				r->frag = IP6_FRAG_LATER;
				r->proto = h[0];
				r->off = off;
				return 0;
			}
			r->frag = IP6_FRAG_FIRST;
			nexthdr = h[0];
			off += 8;
			break;
		case IP6_NEXTHDR_AUTH:
		case IP6_NEXTHDR_NONE:
			return -1;
		default:
			r->proto = nexthdr;
			r->off = off;
			return 0;
		}
	}
	return -1;
}

#endif
