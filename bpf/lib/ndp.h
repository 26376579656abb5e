/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Neighbour discovery on a pod's link. The pod's IPv6 gateway (fe80::1)
 * exists only here, like 169.254.1.1: a neighbour solicitation for it from
 * the pod's own address is answered in BPF with the host end's MAC (the
 * IPv6 twin of the gateway ARP reply). What else a pod sends on its link
 * (solicitations from its link-local address, duplicate address detection,
 * router solicitations, MLD reports, its answers to the host's
 * solicitations) goes to the host stack, where the host end has fe80::1
 * too; router advertisements and redirects from a pod are dropped: a pod
 * is no router.
 */
#ifndef BL_NDP_H
#define BL_NDP_H

#include <linux/bpf.h>
#include <linux/icmpv6.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "count.h"
#include "icmp_reply.h"
#include "parse6.h"

#define ND_ROUTER_SOLICIT 133
#define ND_ROUTER_ADVERT 134
#define ND_NEIGHBOR_SOLICIT 135
#define ND_NEIGHBOR_ADVERT 136
#define ND_REDIRECT 137
#define MLD_QUERY 130
#define MLD_V1_REPORT 131
#define MLD_V1_DONE 132
#define MLD_V2_REPORT 143
#define ND_OPT_TARGET_LL_ADDR 2
#define ND_NA_ROUTER 0x80 /* first byte of the NA flags */
#define ND_NA_SOLICITED 0x40
#define ND_NA_OVERRIDE 0x20

/* The neighbour advertisement, from its ICMPv6 header on. */
struct nd_na {
	struct icmp6hdr icmp; /* flags in the first byte of its data word */
	__u8 target[16];
	__u8 opt_type;
	__u8 opt_len; /* in 8-byte units */
	__u8 opt_mac[ETH_ALEN];
};
_Static_assert(sizeof(struct nd_na) == 32, "nd_na: 32 bytes on the wire");

/*
 * The gateway's address, fe80::1, as the two 64-bit words of an address in
 * memory (no constant array: the static linker keeps an empty .rodata of
 * the objects that do not use it) and as four 32-bit ones, to write.
 */
#define GW6_W0 bpf_cpu_to_be64(0xfe80000000000000ull)
#define GW6_W1 bpf_cpu_to_be64(1ull)

static __always_inline int addr6_is_gateway(const void *a)
{
	return A6W(a, 0) == GW6_W0 && A6W(a, 1) == GW6_W1;
}

static __always_inline void addr6_set_gateway(__u8 *a)
{
	((__u32 *)a)[0] = bpf_htonl(0xfe800000);
	((__u32 *)a)[1] = 0;
	((__u32 *)a)[2] = 0;
	((__u32 *)a)[3] = bpf_htonl(1);
}

/* The IPv6 pseudo-header the ICMPv6 checksum covers. */
struct ip6_pseudo {
	__u8 saddr[16];
	__u8 daddr[16];
	__be32 len;
	__be32 nexthdr;
};

/*
 * 1 if the ICMPv6 message at off is a neighbour solicitation for the
 * gateway, as RFC 4861 says one must look (hop limit 255, code 0).
 */
static __always_inline int ns_for_gateway(struct __sk_buff *skb,
					  const struct ipv6hdr *ip6, __u32 off)
{
	__u64 m[3]; /* aligned: the stack is read in words only there */
	__u8 *b = (__u8 *)m;

	if (ip6->hop_limit != 255 || bpf_skb_load_bytes(skb, off, m, sizeof(m)))
		return 0;
	return b[0] == ND_NEIGHBOR_SOLICIT && b[1] == 0 && addr6_is_gateway(&m[1]);
}

/*
 * Turn the pod's solicitation for the gateway into the advertisement, in
 * place: from fe80::1 and the host end's MAC to the pod's address and MAC,
 * router, solicited and override set, the host end's MAC as target
 * link-layer address. The pod's source address was checked by the caller,
 * so it is a unicast address (solicited: S set, RFC 4861 7.2.4). Sent back
 * out of the interface it came in on; -1 where the packet could not be
 * rewritten (then it must be dropped).
 */
static __always_inline int ndp_answer_gateway(struct __sk_buff *skb,
					      const struct bl_endpoint *ep)
{
	struct ip6_pseudo ph = {};
	struct ipv6hdr ip6 = {};
	struct ethhdr eth;
	struct nd_na na = {};
	__s64 sum;

	/* the pod's address, where the advertisement goes */
	if (bpf_skb_load_bytes(skb, IP6_SADDR_OFF, ph.daddr, 16))
		return -1;
	addr6_set_gateway(ph.saddr);
	ph.len = bpf_htonl(sizeof(na));
	ph.nexthdr = bpf_htonl(IPPROTO_ICMPV6);
	na.icmp.icmp6_type = ND_NEIGHBOR_ADVERT;
	na.icmp.icmp6_dataun.un_data8[0] = ND_NA_ROUTER | ND_NA_SOLICITED | ND_NA_OVERRIDE;
	addr6_set_gateway(na.target);
	na.opt_type = ND_OPT_TARGET_LL_ADDR;
	na.opt_len = 1;
	__builtin_memcpy(na.opt_mac, ep->host_mac, ETH_ALEN);
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	if (sum < 0)
		return -1;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&na, sizeof(na), sum);
	if (sum < 0)
		return -1;
	na.icmp.icmp6_cksum = csum_fold(sum);

	ip6.version = 6;
	ip6.payload_len = bpf_htons(sizeof(na));
	ip6.nexthdr = IPPROTO_ICMPV6;
	ip6.hop_limit = 255;
	__builtin_memcpy(&ip6.saddr, ph.saddr, 16);
	__builtin_memcpy(&ip6.daddr, ph.daddr, 16);
	__builtin_memcpy(eth.h_dest, ep->pod_mac, ETH_ALEN);
	__builtin_memcpy(eth.h_source, ep->host_mac, ETH_ALEN);
	eth.h_proto = bpf_htons(ETH_P_IPV6);
	if (bpf_skb_change_tail(skb, sizeof(eth) + sizeof(ip6) + sizeof(na), 0) ||
	    bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0) ||
	    bpf_skb_store_bytes(skb, IP6_OFF, &ip6, sizeof(ip6), 0) ||
	    bpf_skb_store_bytes(skb, IP6_OFF + sizeof(ip6), &na, sizeof(na), 0))
		return -1;
	return 0;
}

/*
 * What a pod's ICMPv6 message of type t to an on-link destination (or from
 * its link-local address) is: neighbour discovery and MLD go to the host
 * stack (PASS_NDP), router advertisements and redirects are dropped
 * (-DROP_ND_ROUTER); anything else is not neighbour discovery (BL_NOT_MINE).
 */
static __always_inline int ndp_verdict(__u8 t)
{
	switch (t) {
	case ND_ROUTER_SOLICIT:
	case ND_NEIGHBOR_SOLICIT:
	case ND_NEIGHBOR_ADVERT:
	case MLD_QUERY:
	case MLD_V1_REPORT:
	case MLD_V1_DONE:
	case MLD_V2_REPORT:
		return BL_PASS_NDP;
	case ND_ROUTER_ADVERT:
	case ND_REDIRECT:
		return -BL_DROP_ND_ROUTER;
	}
	return BL_NOT_MINE;
}

#endif
