/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Finding a packet's Ethernet and IPv4 headers: pulled into the linear part
 * when they are not there yet (never passed unread), found again after any
 * helper that may move the packet.
 */
#ifndef BL_PARSE_H
#define BL_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bridgeless.h"

/* The IPv4 header and its fields, as offsets into the frame. */
#define IP_OFF (sizeof(struct ethhdr))
#define IP_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))
#define IP_SADDR_OFF (IP_OFF + offsetof(struct iphdr, saddr))
#define IP_DADDR_OFF (IP_OFF + offsetof(struct iphdr, daddr))
/* frag_off: more fragments, and the fragment offset (host byte order) */
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

/*
 * When a pull is needed at all, this much is pulled (Ethernet, IPv4 and TCP
 * headers without options, as far as the packet goes): one copy then also
 * brings in the transport header, which the receiving stack would otherwise
 * pull in a second round (ip_rcv pulls the IP header, UDP/TCP their own).
 */
#define BL_PULL_AHEAD (ETH_HLEN + 20 + 20)

/*
 * Make the first len bytes of the packet directly readable. Packets from
 * AF_PACKET TX rings or GRO may carry headers in fragments; those are pulled
 * into the linear part, never skipped. Returns 0, or -1 if the packet is
 * shorter than len. Callers must reload skb->data/data_end afterwards.
 */
static __always_inline int pull_headers(struct __sk_buff *skb, __u32 len)
{
	__u32 want = BL_PULL_AHEAD;

	if ((void *)(long)skb->data + len <= (void *)(long)skb->data_end)
		return 0;
	if (skb->len < len)
		return -1;
	if (want < len)
		want = len;
	if (want > skb->len)
		want = skb->len;
	return bpf_skb_pull_data(skb, want) ? -1 : 0;
}

/*
 * The Ethernet header and the IPv4 header behind it, or NULL when the linear
 * part is too short. Call after pull_headers(), and again after any helper
 * that may move the packet (checksum and store helpers).
 */
static __always_inline struct iphdr *ip_headers(struct __sk_buff *skb,
						struct ethhdr **eth)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);

	if ((void *)(ip + 1) > data_end)
		return NULL;
	*eth = data;
	return ip;
}

/*
 * The start of every program: an IPv4 packet's headers, pulled and checked
 * (version 4, a header of at least 20 bytes). Returns 0 with *eth and *ip
 * set, or a negative drop reason: -BL_DROP_UNSUPPORTED_L3 (not IPv4),
 * -BL_DROP_TRUNCATED or -BL_DROP_BAD_IP. What such a packet gets is each
 * program's own decision: a pod's is dropped, the host's passes untouched.
 */
static __always_inline int parse_ipv4(struct __sk_buff *skb,
				      struct ethhdr **eth, struct iphdr **ip)
{
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return -BL_DROP_UNSUPPORTED_L3;
	if (pull_headers(skb, sizeof(struct ethhdr) + sizeof(struct iphdr)))
		return -BL_DROP_TRUNCATED;
	*ip = ip_headers(skb, eth);
	if (!*ip)
		return -BL_DROP_TRUNCATED;
	if ((*ip)->version != 4 || (*ip)->ihl < 5)
		return -BL_DROP_BAD_IP;
	return 0;
}

/* 1 if ip is a later fragment of its datagram: it has no L4 header. */
static __always_inline int ip_later_frag(const struct iphdr *ip)
{
	return !!(ip->frag_off & bpf_htons(IP_OFFSET));
}

static __always_inline int mac_equal(const __u8 *a, const __u8 *b)
{
	return *(const __u32 *)a == *(const __u32 *)b &&
	       *(const __u16 *)(a + 4) == *(const __u16 *)(b + 4);
}

static __always_inline void mac_copy(__u8 *dst, const __u8 *src)
{
	*(__u32 *)dst = *(const __u32 *)src;
	*(__u16 *)(dst + 4) = *(const __u16 *)(src + 4);
}

#endif
