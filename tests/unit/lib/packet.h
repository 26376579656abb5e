/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Frames described field by field (struct pkt_spec) and built from that
 * description with every checksum computed from scratch: the IPv4 header,
 * TCP/UDP with the pseudo-header, ICMP, and the header an ICMP error quotes.
 * An expected frame is built the same way as an input frame and never
 * borrows a byte from the program's output.
 */
#ifndef UNIT_PACKET_H
#define UNIT_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h> /* IPPROTO_ICMPV6 */
#include <linux/types.h>

#define PKT_MAX 512
#define IPV4_DF 0x4000 /* linux/ip.h has only the kernel-internal IP_DF */

struct pkt {
	/*
	 * Two bytes first, as the kernel's NET_IP_ALIGN: the IP header after
	 * the 14-byte Ethernet header lands 4-byte aligned, so reading it as
	 * struct iphdr is defined behaviour (UBSan, make SANITIZE=1).
	 */
	__u8 pad_[2];
	__u8 b[PKT_MAX];
	__u32 len;
};

enum pkt_kind {
	PK_NONE, /* as an expected frame: the input, unchanged */
	PK_IPV4,
	PK_ARP,
	PK_IPV6, /* without saddr: a bare header, next header "none" */
};

/*
 * One frame, field by field. Zero means "the usual value" for eth_proto
 * (the kind's own), ihl (5) and version (4); ttl is always explicit so TTL 0
 * can be tested.
 */
struct pkt_spec {
	enum pkt_kind kind;
	const __u8 *dmac, *smac;
	__u16 eth_proto;
	const char *saddr, *daddr; /* IPv4 (IPv6) addresses, or ARP spa/tpa */
	__u8 ttl; /* IPv6: the hop limit */
	__u8 l4; /* IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMP or (IPv6) IPPROTO_ICMPV6 */
	__u8 ihl;
	__u8 version;
	__u16 ip_id;
	__u16 want_csum; /* nonzero: the IPv4 checksum the frame must get */
	__u16 arp_op;
	const __u8 *sha, *tha;
	__u16 trunc; /* nonzero: cut the frame to this many bytes */
	/* L4 details, for NAT; zero means the protocol's usual values */
	__u16 sport, dport; /* TCP/UDP ports (40000/40001 -> 53/80) */
	__u16 echo_id; /* ICMP echo identifier (0x4242) */
	bool echo_reply; /* ICMP echo reply instead of request */
	__u8 tcp_flags; /* SYN */
	bool udp_nocsum; /* UDP without a checksum: the field stays 0 */
	__u16 frag; /* the IPv4 frag_off field (DF) */
	__u16 tot_len; /* the IPv4 total length field (computed), for quotes */
	__u8 quote_l4; /* as a quote: L4 bytes quoted (8, the RFC 792 minimum) */
	/* ICMP error (type, code, next-hop MTU) quoting this packet */
	const struct pkt_spec *quote;
	__u8 err_type, err_code;
	__u16 err_mtu;
	/*
	 * Take the TCP/UDP checksum field from this frame instead: what NAT
	 * deliberately leaves alone (a later fragment, a quoted header).
	 */
	const struct pkt_spec *l4_csum_as;
	__u16 want_l4_csum; /* nonzero: the L4 checksum the frame must get */
	/*
	 * IPv6: extension headers before the upper-layer one, in this order:
	 * ext_hbh hop-by-hop and ext_dst destination options headers (8 bytes
	 * of padding each), then a fragment header where frag6 is set.
	 */
	__u8 ext_hbh, ext_dst;
	bool frag6;
	__u16 frag6_off; /* in 8-byte units; nonzero: a later fragment */
	bool frag6_more;
	__u32 frag6_id;
	/*
	 * IPv6 neighbour discovery and MLD (l4 IPPROTO_ICMPV6): nd_type 133
	 * (router solicitation), 135 (neighbour solicitation for nd_target),
	 * 136 (advertisement of nd_target, nd_flags its first byte), 134
	 * (router advertisement) or 143 (MLDv2 report); nd_lladdr, if set,
	 * the source or target link-layer address option.
	 */
	__u8 nd_type;
	const char *nd_target;
	__u8 nd_flags;
	const __u8 *nd_lladdr;
	/* IPv6 errors: the 32-bit MTU (Packet Too Big) instead of err_mtu */
	__u32 err_mtu6;
};

/* An IPv6 address; a bad one is a bug of the test. */
void be6_of(const char *s, __u8 *out);

/* An IPv4 address in network byte order; a bad one is a bug of the test. */
__u32 be32_of(const char *s);

/* Returns 0, or -EINVAL with why filled in when the description is inconsistent. */
int build(struct pkt *p, const struct pkt_spec *s, char *why, size_t n);

/* The pod side's port of a frame NAT sent out: TCP/UDP source port, echo id. */
__u16 egress_port(const struct pkt *p);

#endif
