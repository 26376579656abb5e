// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Comparing a program's output with what a case expects (compare.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/icmp.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>

#include "compare.h"
#include "csum.h"

#define BL_NAME_ENTRY(name, is_drop, text) #name,
static const char *const counter_names[BL_COUNTER_MAX] = {
	BL_COUNTERS(BL_NAME_ENTRY)
};
#undef BL_NAME_ENTRY

const char *verdict_name(int v)
{
	switch (v) {
	case TC_ACT_OK:
		return "TC_ACT_OK";
	case TC_ACT_SHOT:
		return "TC_ACT_SHOT";
	case TC_ACT_REDIRECT:
		return "TC_ACT_REDIRECT";
	}
	return "?";
}

static void lower(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && src[i]; i++)
		dst[i] = tolower((unsigned char)src[i]);
	dst[i] = 0;
}

/* The name of the byte at l3 past the IPv4 header's start, in its L4 part. */
static const char *l4_field_at(const struct pkt *p, __u32 l3)
{
	const __u8 *ip = p->b + ETH_HLEN;
	__u32 hlen = (ip[0] & 0x0f) * 4, o, qh;

	if (l3 < hlen)
		return "ip options";
	o = l3 - hlen;
	switch (ip[9]) {
	case IPPROTO_TCP:
		return o < 2 ? "tcp sport" : o < 4 ? "tcp dport" : o < 12 ? "tcp seq/ack" :
		       o < 16 ? "tcp flags/window" : o < 18 ? "tcp checksum" : "tcp";
	case IPPROTO_UDP:
		return o < 2 ? "udp sport" : o < 4 ? "udp dport" : o < 6 ? "udp length" :
		       o < 8 ? "udp checksum" : "udp payload";
	case IPPROTO_ICMP:
		if (o < 2)
			return "icmp type/code";
		if (o < 4)
			return "icmp checksum";
		if (o < 8)
			return "icmp id/seq/mtu";
		if (ip[hlen] == ICMP_ECHO || ip[hlen] == ICMP_ECHOREPLY)
			return "icmp payload";
		/* an error: the quoted header follows */
		o -= 8;
		qh = ETH_HLEN + hlen + 8 < p->len ?
			     (p->b[ETH_HLEN + hlen + 8] & 0x0f) * 4 : 20;
		if (o < 10)
			return "quoted ip ver/len/id/frag/ttl/proto";
		if (o < 12)
			return "quoted ip checksum";
		if (o < 16)
			return "quoted ip saddr";
		if (o < 20)
			return "quoted ip daddr";
		if (o < qh)
			return "quoted ip options";
		o -= qh;
		return o < 2 ? "quoted sport/type" : o < 4 ? "quoted dport/csum" :
		       o < 6 ? "quoted len/seq/id" : o < 8 ? "quoted udp checksum/seq" :
				 "quoted l4";
	}
	return "l4";
}

/* Where a byte sits, so a diff reads "ip ttl", not "offset 22". */
static const char *field_at(const struct pkt *p, __u32 off)
{
	__u16 proto = p->len >= ETH_HLEN ? (p->b[12] << 8 | p->b[13]) : 0;
	__u32 l3 = off - ETH_HLEN;

	if (off < 6)
		return "eth dst";
	if (off < 12)
		return "eth src";
	if (off < ETH_HLEN)
		return "ethertype";
	if (proto == ETH_P_IP) {
		if (l3 < 8)
			return "ip ver/ihl/tos/len/id/frag";
		if (l3 == 8)
			return "ip ttl";
		if (l3 == 9)
			return "ip protocol";
		if (l3 < 12)
			return "ip checksum";
		if (l3 < 16)
			return "ip saddr";
		if (l3 < 20)
			return "ip daddr";
		return l4_field_at(p, l3);
	}
	if (proto == ETH_P_ARP) {
		if (l3 < 6)
			return "arp hrd/pro/hln/pln";
		if (l3 < 8)
			return "arp op";
		if (l3 < 14)
			return "arp sha";
		if (l3 < 18)
			return "arp spa";
		if (l3 < 24)
			return "arp tha";
		return "arp tpa";
	}
	return "payload";
}

static int hexdump(char *buf, size_t n, const __u8 *b, __u32 len, __u32 from)
{
	int used = 0;
	__u32 i;

	for (i = from; i < len && i < from + 8 && (size_t)used < n; i++)
		used += snprintf(buf + used, n - used, "%s%02x",
				 i == from ? "" : " ", b[i]);
	if (i == from)
		used += snprintf(buf + used, n - used, "(end)");
	return used;
}

bool diff_bytes(const struct pkt *got, const struct pkt *want, char *why,
		size_t n)
{
	__u32 i, min = got->len < want->len ? got->len : want->len;
	char g[64], w[64];

	for (i = 0; i < min; i++)
		if (got->b[i] != want->b[i])
			break;
	if (i == min && got->len == want->len)
		return false;
	hexdump(g, sizeof(g), got->b, got->len, i);
	hexdump(w, sizeof(w), want->b, want->len, i);
	snprintf(why, n, "output differs at byte %u (%s), length %u want %u: got [%s] want [%s]",
		 i, i < want->len ? field_at(want, i) : "past the end",
		 got->len, want->len, g, w);
	return true;
}

/*
 * The golden comparison already covers the checksum; recomputing it from the
 * output alone says plainly "the packet on the wire would be dropped".
 */
static bool bad_ip_csum(const struct pkt *p, char *why, size_t n)
{
	const struct iphdr *ip = (const struct iphdr *)(p->b + ETH_HLEN);
	__u32 hlen;

	if (p->len < ETH_HLEN + sizeof(*ip) ||
	    (p->b[12] << 8 | p->b[13]) != ETH_P_IP || ip->ihl < 5)
		return false;
	hlen = ip->ihl * 4;
	if (ETH_HLEN + hlen > p->len)
		return false;
	if (csum_fold(csum_add(0, ip, hlen)) == 0)
		return false;
	snprintf(why, n, "output IPv4 header checksum %04x is invalid (recomputed sum %04x)",
		 ntohs(ip->check), ntohs((__u16)~csum_fold(csum_add(0, ip, hlen))));
	return true;
}

/*
 * Every checksum of an output frame, recomputed from its bytes alone: IPv4
 * header, TCP/UDP with the pseudo-header (a UDP checksum of 0 means none),
 * ICMP, and the IPv4 header an ICMP error quotes. Not the quoted TCP/UDP
 * checksum, which covers data the error does not carry.
 */
bool bad_csums(const struct pkt *p, char *why, size_t n)
{
	const struct iphdr *ip = (const struct iphdr *)(p->b + ETH_HLEN);
	const __u8 *l4;
	__u32 hlen, l4len;
	__u16 v;

	if (bad_ip_csum(p, why, n))
		return true;
	if (p->len < ETH_HLEN + sizeof(*ip) ||
	    (p->b[12] << 8 | p->b[13]) != ETH_P_IP || ip->ihl < 5)
		return false;
	hlen = ip->ihl * 4;
	if (ntohs(ip->tot_len) < hlen || ETH_HLEN + (__u32)ntohs(ip->tot_len) > p->len)
		return false;
	/* a fragment's L4 checksum covers the whole datagram */
	if (ntohs(ip->frag_off) & 0x3fff)
		return false;
	l4 = p->b + ETH_HLEN + hlen;
	l4len = ntohs(ip->tot_len) - hlen;
	switch (ip->protocol) {
	case IPPROTO_UDP:
		if (l4len < 8 || (l4[6] == 0 && l4[7] == 0))
			return false;
		/* fall through */
	case IPPROTO_TCP:
		if (csum_fold(pseudo_sum(ip, ip->protocol, l4len) +
			      csum_add(0, l4, l4len))) {
			memcpy(&v, l4 + l4_csum_off(ip->protocol), 2);
			snprintf(why, n, "output %s checksum %04x is invalid",
				 ip->protocol == IPPROTO_TCP ? "TCP" : "UDP",
				 ntohs(v));
			return true;
		}
		return false;
	case IPPROTO_ICMP:
		if (csum_fold(csum_add(0, l4, l4len))) {
			snprintf(why, n, "output ICMP checksum %02x%02x is invalid",
				 l4[2], l4[3]);
			return true;
		}
		if ((l4[0] == ICMP_DEST_UNREACH || l4[0] == ICMP_TIME_EXCEEDED ||
		     l4[0] == ICMP_PARAMETERPROB) && l4len >= 8 + sizeof(*ip)) {
			const struct iphdr *q = (const struct iphdr *)(l4 + 8);

			if (q->ihl >= 5 && 8 + q->ihl * 4u <= l4len &&
			    csum_fold(csum_add(0, q, q->ihl * 4))) {
				snprintf(why, n, "quoted IPv4 header checksum %04x is invalid",
					 ntohs(q->check));
				return true;
			}
		}
		return false;
	}
	return false;
}

bool diff_counters(const struct bl_counter_val *before,
		   const struct bl_counter_val *after, int reason, int reason2,
		   int reason3, __u32 len, char *why, size_t n)
{
	int used = 0, i;
	bool bad = false;
	char name[32];

	for (i = 0; i < BL_COUNTER_MAX; i++) {
		__u64 dp = after[i].packets - before[i].packets;
		__u64 db = after[i].bytes - before[i].bytes;
		__u64 wp = i == reason || i == reason2 || i == reason3 ? 1 : 0;
		__u64 wb = wp ? len : 0;

		if (dp == wp && db == wb)
			continue;
		if (!bad)
			used += snprintf(why + used, n - used, "counters:");
		bad = true;
		lower(name, counter_names[i], sizeof(name));
		if ((size_t)used < n)
			used += snprintf(why + used, n - used,
					 " %s +%llu pkts +%llu bytes (want +%llu +%llu)",
					 name, (unsigned long long)dp,
					 (unsigned long long)db,
					 (unsigned long long)wp,
					 (unsigned long long)wb);
	}
	return bad;
}
