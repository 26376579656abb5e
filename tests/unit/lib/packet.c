// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Building frames from their description (packet.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/icmp.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "csum.h"
#include "node.h"
#include "packet.h"

__u32 be32_of(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "test bug: bad address %s\n", s);
		abort();
	}
	return a.s_addr;
}

static const __u8 payload[] = "bridgeless golden";

static __u32 put_eth(__u8 *b, const struct pkt_spec *s, __u16 proto)
{
	struct ethhdr *eth = (struct ethhdr *)b;

	/* a quoted packet has no Ethernet header of its own: any MACs */
	memcpy(eth->h_dest, s->dmac ? s->dmac : zero_mac, ETH_ALEN);
	memcpy(eth->h_source, s->smac ? s->smac : zero_mac, ETH_ALEN);
	eth->h_proto = htons(s->eth_proto ? s->eth_proto : proto);
	return sizeof(*eth);
}

static void build_ipv4(struct pkt *p, const struct pkt_spec *s);

/* What an ICMP error quotes: the IPv4 header and 8 bytes of its payload. */
static __u32 put_quote(__u8 *b, const struct pkt_spec *q)
{
	struct pkt inner;
	const struct iphdr *ip;
	__u32 len;

	memset(&inner, 0, sizeof(inner));
	build_ipv4(&inner, q);
	ip = (const struct iphdr *)(inner.b + ETH_HLEN);
	len = ip->ihl * 4 + (q->quote_l4 ? q->quote_l4 : 8);
	memcpy(b, ip, len);
	return len;
}

static __u32 put_l4(__u8 *b, const struct iphdr *ip, const struct pkt_spec *s)
{
	__u8 proto = s->l4;
	__u32 len;

	switch (proto) {
	case IPPROTO_UDP: {
		struct udphdr *udp = (struct udphdr *)b;

		len = sizeof(*udp) + sizeof(payload);
		udp->source = htons(s->sport ? s->sport : 40000);
		udp->dest = htons(s->dport ? s->dport : 53);
		udp->len = htons(len);
		udp->check = 0;
		memcpy(udp + 1, payload, sizeof(payload));
		if (s->udp_nocsum)
			return len;
		udp->check = csum_fold(pseudo_sum(ip, proto, len) +
				       csum_add(0, b, len));
		if (!udp->check)
			udp->check = 0xffff;
		return len;
	}
	case IPPROTO_TCP: {
		struct tcphdr *tcp = (struct tcphdr *)b;

		len = sizeof(*tcp);
		memset(tcp, 0, len);
		tcp->source = htons(s->sport ? s->sport : 40001);
		tcp->dest = htons(s->dport ? s->dport : 80);
		tcp->seq = htonl(0x12345678);
		if (s->tcp_flags & 0x10)
			tcp->ack_seq = htonl(0x9abcdef0);
		tcp->doff = 5;
		b[13] = s->tcp_flags ? s->tcp_flags : 0x02;
		tcp->window = htons(64240);
		tcp->check = csum_fold(pseudo_sum(ip, proto, len) +
				       csum_add(0, b, len));
		return len;
	}
	case IPPROTO_ICMP: {
		struct icmphdr *icmp = (struct icmphdr *)b;

		memset(icmp, 0, sizeof(*icmp));
		if (s->quote) {
			icmp->type = s->err_type;
			icmp->code = s->err_code;
			icmp->un.frag.mtu = htons(s->err_mtu);
			len = sizeof(*icmp) + put_quote(b + sizeof(*icmp), s->quote);
		} else {
			len = sizeof(*icmp) + sizeof(payload);
			icmp->type = s->echo_reply ? ICMP_ECHOREPLY : ICMP_ECHO;
			icmp->un.echo.id = htons(s->echo_id ? s->echo_id : 0x4242);
			icmp->un.echo.sequence = htons(1);
			memcpy(icmp + 1, payload, sizeof(payload));
		}
		icmp->checksum = csum_fold(csum_add(0, b, len));
		return len;
	}
	}
	fprintf(stderr, "test bug: L4 protocol %u\n", proto);
	abort();
}

/* Where the L4 checksum field is, from the L4 header. */
static __u32 csum_field_off(__u8 proto)
{
	return proto == IPPROTO_TCP ? offsetof(struct tcphdr, check) :
	       proto == IPPROTO_UDP ? offsetof(struct udphdr, check) :
				      offsetof(struct icmphdr, checksum);
}

static void build_ipv4(struct pkt *p, const struct pkt_spec *s)
{
	__u32 off = put_eth(p->b, s, ETH_P_IP);
	struct iphdr *ip = (struct iphdr *)(p->b + off);
	__u8 ihl = s->ihl ? s->ihl : 5;
	__u32 hlen = ihl * 4, l4len;

	memset(ip, 0, hlen > sizeof(*ip) ? hlen : sizeof(*ip));
	ip->version = s->version ? s->version : 4;
	ip->ihl = ihl;
	ip->id = htons(s->ip_id);
	ip->frag_off = htons(s->frag ? s->frag : IPV4_DF);
	ip->ttl = s->ttl;
	ip->protocol = s->l4;
	ip->saddr = be32_of(s->saddr);
	ip->daddr = be32_of(s->daddr);
	/* Options, if any: NOPs, which every parser must step over. */
	if (hlen > sizeof(*ip))
		memset(ip + 1, IPOPT_NOOP, hlen - sizeof(*ip));
	/*
	 * A bad IHL (< 5) still gets a 20-byte header: the point is the
	 * field, not a short frame.
	 */
	if (hlen < sizeof(*ip))
		hlen = sizeof(*ip);
	l4len = put_l4((__u8 *)ip + hlen, ip, s);
	if (s->l4_csum_as) {
		struct pkt other;
		__u32 co = off + hlen + csum_field_off(s->l4);
		const struct iphdr *oip;

		memset(&other, 0, sizeof(other));
		build_ipv4(&other, s->l4_csum_as);
		oip = (const struct iphdr *)(other.b + ETH_HLEN);
		memcpy(p->b + co, other.b + ETH_HLEN + oip->ihl * 4 +
					  csum_field_off(s->l4), 2);
	}
	ip->tot_len = htons(s->tot_len ? s->tot_len : hlen + l4len);
	ip->check = csum_fold(csum_add(0, ip, hlen));
	p->len = off + hlen + l4len;
}

struct arp_eth_ipv4 {
	struct arphdr hdr;
	__u8 sha[ETH_ALEN];
	__be32 spa;
	__u8 tha[ETH_ALEN];
	__be32 tpa;
} __attribute__((packed));

static void build_arp(struct pkt *p, const struct pkt_spec *s)
{
	__u32 off = put_eth(p->b, s, ETH_P_ARP);
	struct arp_eth_ipv4 *arp = (struct arp_eth_ipv4 *)(p->b + off);

	arp->hdr.ar_hrd = htons(ARPHRD_ETHER);
	arp->hdr.ar_pro = htons(ETH_P_IP);
	arp->hdr.ar_hln = ETH_ALEN;
	arp->hdr.ar_pln = 4;
	arp->hdr.ar_op = htons(s->arp_op);
	memcpy(arp->sha, s->sha, ETH_ALEN);
	arp->spa = be32_of(s->saddr);
	memcpy(arp->tha, s->tha, ETH_ALEN);
	arp->tpa = be32_of(s->daddr);
	/* 42 bytes, as the pod's kernel hands it to its veth: no padding. */
	p->len = off + sizeof(*arp);
}

/* A bare IPv6 header (next header "none"): only the ethertype matters. */
static void build_ipv6(struct pkt *p, const struct pkt_spec *s)
{
	static const __u8 ip6[40] = {
		0x60, 0, 0, 0, 0, 0, 59, 64,
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	};
	__u32 off = put_eth(p->b, s, ETH_P_IPV6);

	memcpy(p->b + off, ip6, sizeof(ip6));
	p->len = off + sizeof(ip6);
}

int build(struct pkt *p, const struct pkt_spec *s, char *why, size_t n)
{
	memset(p, 0, sizeof(*p));
	switch (s->kind) {
	case PK_IPV4:
		build_ipv4(p, s);
		break;
	case PK_ARP:
		build_arp(p, s);
		break;
	case PK_IPV6:
		build_ipv6(p, s);
		break;
	default:
		snprintf(why, n, "test bug: frame kind %d", s->kind);
		return -EINVAL;
	}
	if (s->want_csum) {
		const struct iphdr *ip = (const struct iphdr *)(p->b + ETH_HLEN);

		if (ntohs(ip->check) != s->want_csum) {
			snprintf(why, n, "test bug: IPv4 checksum %04x, want %04x",
				 ntohs(ip->check), s->want_csum);
			return -EINVAL;
		}
	}
	if (s->want_l4_csum) {
		const struct iphdr *ip = (const struct iphdr *)(p->b + ETH_HLEN);
		__u16 got;

		memcpy(&got, p->b + ETH_HLEN + ip->ihl * 4 + l4_csum_off(s->l4), 2);
		if (!l4_csum_off(s->l4) || ntohs(got) != s->want_l4_csum) {
			snprintf(why, n, "test bug: L4 checksum %04x, want %04x",
				 ntohs(got), s->want_l4_csum);
			return -EINVAL;
		}
	}
	if (s->trunc) {
		if (s->trunc > p->len) {
			snprintf(why, n, "test bug: truncation %u > length %u",
				 s->trunc, p->len);
			return -EINVAL;
		}
		p->len = s->trunc;
	}
	return 0;
}

__u16 egress_port(const struct pkt *p)
{
	const struct iphdr *ip = (const struct iphdr *)(p->b + ETH_HLEN);
	const __u8 *l4 = p->b + ETH_HLEN + ip->ihl * 4;

	if (ip->protocol == IPPROTO_ICMP)
		return l4[4] << 8 | l4[5];
	return l4[0] << 8 | l4[1];
}
