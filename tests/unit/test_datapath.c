// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Golden-packet unit tests for the production tc programs (from_pod,
 * from_uplink, to_pod), run with BPF_PROG_TEST_RUN.
 *
 * Every case is one row of a table: an input frame, the program, the
 * expected verdict, the expected output frame and the one counter that must
 * move (plus nat_new when a mapping is made). Frames are described field by
 * field and built by small helpers that compute every checksum from scratch
 * (IPv4, TCP/UDP with the pseudo-header, ICMP, the header an ICMP error
 * quotes), so an expected frame never borrows a byte from the program's
 * output: a rewrite the datapath gets wrong cannot also be "expected". Every
 * output checksum is also recomputed on its own. The one exception is a NAT
 * port picked at random, which is read from the output, checked against the
 * range, and then put into the expected frame.
 *
 * Each case starts with the node configured as `node init` leaves it
 * (masquerade on, NAT ports 61000-65535, the cluster CIDR and one
 * --no-masquerade prefix in nomasq) and an empty NAT table; a setup may
 * change the config, fill the table, or send frames first (the flow whose
 * reply a case tests), and a verify step checks the NAT table afterwards.
 *
 * The test runs in a private network namespace it creates at start: the
 * kernel's FIB, neighbours and sysctls that bpf_fib_lookup() sees are then
 * only the ones set up here, the results do not depend on the machine, and
 * nothing outside the namespace is touched. Maps are loaded unpinned, so the
 * bpffs is not touched either.
 *
 * Output: one "PASS name", "FAIL name: why" or "SKIP name: why" line per case
 * (tests/run counts them); exit status 1 if any case failed.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/icmp.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/route.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bridgeless.h"
#include "datapath.skel.h"

#define PKT_MAX 512
#define IPV4_DF 0x4000 /* linux/ip.h has only the kernel-internal IP_DF */
#define NO_COUNT (-1)

/* The node under test: pod CIDR 10.244.1.0/24 in cluster 10.244.0.0/16. */
#define NODE_IP "198.51.100.2"
#define EXT_IP "198.51.100.1"
#define POD_A_IP "10.244.1.2" /* the sending pod */
#define POD_B_IP "10.244.1.3" /* a second local pod */
#define GW_IP "169.254.1.1"
#define REMOTE_POD_IP "10.244.2.5" /* a pod on another node */
#define UNROUTED_POD_IP "10.244.3.5" /* cluster CIDR, no route at all */

/*
 * Outside the cluster. SRV_IP is a server on the internet, routed out of lo
 * like the other node's pods; NOMASQ_IP is in a --no-masquerade prefix (also
 * routed); UNROUTED_EXT_IP has no route. ICMP errors come from ROUTER_IP.
 */
#define SRV_IP "203.0.113.7"
#define NOMASQ_IP "192.0.2.9"
#define UNROUTED_EXT_IP "100.64.0.1"
#define ROUTER_IP EXT_IP
/* The NAT range of the test node, and a pod port inside it: kept by NAT. */
#define NAT_LO 61000
#define NAT_HI 65535
#define KEPT_PORT 61005
#define KEPT_ID 61007 /* an ICMP echo id inside the range */
/*
 * A remote port for which the UDP checksum of pod A's kept-port datagram to
 * SRV_IP, translated to NODE_IP, sums to zero: it must go out as 0xffff.
 */
#define CSUM0_DPORT 13792
#define NAT_TABLE_SIZE 4096

/*
 * test_run hands the program an skb on the namespace's loopback device unless
 * the context names another one, so the sending pod's host veth is lo.
 */
#define POD_A_IFINDEX 1
/* Only the verdict is observed, the redirect is not executed: any index will do. */
#define POD_B_IFINDEX 42

static const __u8 pod_a_mac[ETH_ALEN] = { 0x0a, 0x58, 0x0a, 0xf4, 0x01, 0x02 };
static const __u8 host_a_mac[ETH_ALEN] = { 0xee, 0xee, 0x0a, 0xf4, 0x01, 0x02 };
static const __u8 pod_b_mac[ETH_ALEN] = { 0x0a, 0x58, 0x0a, 0xf4, 0x01, 0x03 };
static const __u8 host_b_mac[ETH_ALEN] = { 0xee, 0xee, 0x0a, 0xf4, 0x01, 0x03 };
static const __u8 evil_mac[ETH_ALEN] = { 0x0a, 0x58, 0xde, 0xad, 0xbe, 0xef };
static const __u8 uplink_mac[ETH_ALEN] = { 0x02, 0x42, 0xc6, 0x33, 0x64, 0x02 };
static const __u8 ext_mac[ETH_ALEN] = { 0x02, 0x42, 0xc6, 0x33, 0x64, 0x01 };
static const __u8 neigh_mac[ETH_ALEN] = { 0x02, 0x42, 0x0a, 0xf4, 0x02, 0x06 };
static const __u8 lo_mac[ETH_ALEN] = { 0 };
static const __u8 zero_mac[ETH_ALEN] = { 0 };
static const __u8 bcast_mac[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define BL_NAME_ENTRY(name, is_drop, text) #name,
static const char *const counter_names[BL_COUNTER_MAX] = {
	BL_COUNTERS(BL_NAME_ENTRY)
};
#undef BL_NAME_ENTRY

/* ---- frame construction ------------------------------------------------ */

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
	PK_IPV6,
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
	const char *saddr, *daddr; /* IPv4 addresses, or ARP spa/tpa */
	__u8 ttl;
	__u8 l4; /* IPPROTO_UDP, IPPROTO_TCP or IPPROTO_ICMP */
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
};

static __u32 be32_of(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "test bug: bad address %s\n", s);
		abort();
	}
	return a.s_addr;
}

static __u32 csum_add(__u32 sum, const void *data, __u32 len)
{
	const __u8 *p = data;
	__u32 i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	return sum;
}

/* RFC 1071, the result in network byte order ready to store. */
static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

static __u32 pseudo_sum(const struct iphdr *ip, __u8 proto, __u16 l4_len)
{
	__u8 ph[12];

	memcpy(ph, &ip->saddr, 4);
	memcpy(ph + 4, &ip->daddr, 4);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = l4_len >> 8;
	ph[11] = l4_len & 0xff;
	return csum_add(0, ph, sizeof(ph));
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

/* Where the TCP/UDP checksum field is, from the L4 header; 0: none. */
static __u32 l4_csum_off(__u8 proto)
{
	return proto == IPPROTO_TCP ? offsetof(struct tcphdr, check) :
	       proto == IPPROTO_UDP ? offsetof(struct udphdr, check) : 0;
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

/* Returns 0, or -1 with why filled in when the table row is inconsistent. */
static int build(struct pkt *p, const struct pkt_spec *s, char *why, size_t n)
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
		return -1;
	}
	if (s->want_csum) {
		const struct iphdr *ip = (const struct iphdr *)(p->b + ETH_HLEN);

		if (ntohs(ip->check) != s->want_csum) {
			snprintf(why, n, "test bug: IPv4 checksum %04x, want %04x",
				 ntohs(ip->check), s->want_csum);
			return -1;
		}
	}
	if (s->want_l4_csum) {
		const struct iphdr *ip = (const struct iphdr *)(p->b + ETH_HLEN);
		__u16 got;

		memcpy(&got, p->b + ETH_HLEN + ip->ihl * 4 + l4_csum_off(s->l4), 2);
		if (!l4_csum_off(s->l4) || ntohs(got) != s->want_l4_csum) {
			snprintf(why, n, "test bug: L4 checksum %04x, want %04x",
				 ntohs(got), s->want_l4_csum);
			return -1;
		}
	}
	if (s->trunc) {
		if (s->trunc > p->len) {
			snprintf(why, n, "test bug: truncation %u > length %u",
				 s->trunc, p->len);
			return -1;
		}
		p->len = s->trunc;
	}
	return 0;
}

/* ---- the environment --------------------------------------------------- */

struct env {
	struct datapath *skel;
	int endpoints_fd;
	int config_fd;
	int counters_fd;
	int nat_fd;
	int frags_fd; /* -1 if the datapath has none */
	int nomasq_fd;
	int ncpus;
	const char *fib_skip; /* why the FIB cases cannot run, or NULL */
	bool nonlinear_checked;
	const char *nonlinear_skip;
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	/* libbpf's debug chatter would bury the one-line-per-case protocol. */
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static int write_config(struct env *env, bool configured)
{
	struct bl_config cfg = {};
	__u32 zero = 0;

	if (configured) {
		cfg.node_ip = be32_of(NODE_IP);
		cfg.pod_cidr = be32_of("10.244.1.0");
		cfg.pod_mask = htonl(0xffffff00);
		cfg.cluster_cidr = be32_of("10.244.0.0");
		cfg.cluster_mask = htonl(0xffff0000);
		cfg.uplink_ifindex = 1;
		memcpy(cfg.uplink_mac, uplink_mac, ETH_ALEN);
		cfg.pod_prefix_len = 24;
		cfg.cluster_prefix_len = 16;
		/* as `node init` leaves it: masquerade on, default range */
		cfg.flags = BL_CFG_MASQUERADE;
		cfg.nat_port_min = NAT_LO;
		cfg.nat_port_max = NAT_HI;
		cfg.fwd_gen = 1; /* a first init's */
	}
	return bpf_map_update_elem(env->config_fd, &zero, &cfg, BPF_ANY) ?
		       -errno : 0;
}

static int add_endpoint(struct env *env, const char *ip, __u32 ifindex,
			__u32 id, const __u8 *pod_mac, const __u8 *host_mac)
{
	struct bl_endpoint ep = { .ifindex = ifindex, .id = id };
	struct bl_endpoint_key key;
	__u32 addr = be32_of(ip);

	/* Network byte order, whatever C type the header gives the field. */
	_Static_assert(sizeof(key.ip) == sizeof(addr), "endpoint key is IPv4");
	memcpy(&key.ip, &addr, sizeof(addr));
	memcpy(ep.pod_mac, pod_mac, ETH_ALEN);
	memcpy(ep.host_mac, host_mac, ETH_ALEN);
	return bpf_map_update_elem(env->endpoints_fd, &key, &ep, BPF_ANY) ?
		       -errno : 0;
}

static int add_nomasq(struct env *env, const char *net, __u32 len)
{
	struct bl_prefix_key k = { .prefixlen = len };
	__u32 addr = be32_of(net), one = 1;

	memcpy(k.ip, &addr, 4);
	return bpf_map_update_elem(env->nomasq_fd, &k, &one, BPF_ANY) ? -errno : 0;
}

/* ---- the NAT table ------------------------------------------------------- */

static void nat_key(struct bl_nat_key *k, const char *saddr, const char *daddr,
		    __u16 sport, __u16 dport, __u8 proto, __u8 dir)
{
	__u32 s = be32_of(saddr), d = be32_of(daddr);

	memset(k, 0, sizeof(*k));
	memcpy(k->saddr, &s, 4);
	memcpy(k->daddr, &d, 4);
	k->sport = sport;
	k->dport = dport;
	k->proto = proto;
	k->dir = dir;
}

static int map_clear(int fd)
{
	__u8 k[64]; /* larger than any key here */

	while (bpf_map_get_next_key(fd, NULL, k) == 0)
		if (bpf_map_delete_elem(fd, k))
			return -errno;
	return 0;
}

/* The NAT state a case starts without: mappings, and fragments' routes. */
static int nat_clear(struct env *env)
{
	int err = map_clear(env->nat_fd);

	if (!err && env->frags_fd >= 0)
		err = map_clear(env->frags_fd);
	return err;
}

/* Entries in the NAT table, of one direction (0: all). */
static int nat_count(struct env *env, __u8 dir)
{
	struct bl_nat_key k, *prev = NULL, cur;
	struct bl_nat_entry e;
	int n = 0;

	while (bpf_map_get_next_key(env->nat_fd, prev, &k) == 0) {
		if (bpf_map_lookup_elem(env->nat_fd, &k, &e) == 0 &&
		    (!dir || k.dir == dir))
			n++;
		cur = k;
		prev = &cur;
	}
	return n;
}

/*
 * Claim node port PORT towards REMOTE:RPORT for another flow, as a mapping
 * of some other pod would: the ingress half is what allocation checks.
 */
static int nat_occupy(struct env *env, const char *remote, __u16 rport,
		      __u16 port, __u8 proto)
{
	struct bl_nat_entry e = { .port = 1234 };
	__u32 other = be32_of("10.244.1.250");
	struct bl_nat_key k;

	nat_key(&k, remote, NODE_IP, rport, port, proto, BL_DIR_INGRESS);
	memcpy(e.addr, &other, 4);
	return bpf_map_update_elem(env->nat_fd, &k, &e, BPF_NOEXIST) ? -errno : 0;
}

/* The ingress entry nat_occupy() made for node port KEPT_PORT is unchanged. */
static int expect_occupier(struct env *env, __u8 proto, __u16 rport, char *why,
			   size_t n)
{
	struct bl_nat_entry e;
	struct bl_nat_key k;

	nat_key(&k, SRV_IP, NODE_IP, rport, KEPT_PORT, proto, BL_DIR_INGRESS);
	if (bpf_map_lookup_elem(env->nat_fd, &k, &e) == 0 && e.port == 1234)
		return 0;
	snprintf(why, n, "nat: the other flow's entry for port %u changed", KEPT_PORT);
	return -1;
}

static const char *ipstr(const __u8 *a, char *buf)
{
	return inet_ntop(AF_INET, a, buf, INET_ADDRSTRLEN);
}

/*
 * Both halves of one SNAT mapping must be in the table and point at each
 * other: egress (pod tuple) -> NODE_IP:node_port, ingress (reply tuple)
 * -> pod_ip:pod_port. For ICMP echo the ports are ids (remote side 0).
 * The egress entry is returned in *out when out is not NULL.
 */
static int expect_mapping(struct env *env, __u8 proto, const char *pod_ip,
			  __u16 pod_port, const char *remote, __u16 rport,
			  __u16 node_port, struct bl_nat_entry *out, char *why,
			  size_t n)
{
	struct bl_nat_entry e, i;
	struct bl_nat_key k;
	char a[INET_ADDRSTRLEN];

	nat_key(&k, pod_ip, remote, pod_port, rport, proto, BL_DIR_EGRESS);
	if (bpf_map_lookup_elem(env->nat_fd, &k, &e)) {
		snprintf(why, n, "nat: no egress entry %s:%u -> %s:%u proto %u (%d entries)",
			 pod_ip, pod_port, remote, rport, proto, nat_count(env, 0));
		return -1;
	}
	if (memcmp(e.addr, &(__u32){ be32_of(NODE_IP) }, 4) || e.port != node_port ||
	    (e.seen & BL_NAT_INBOUND)) {
		snprintf(why, n, "nat: egress entry -> %s:%u seen %#x, want %s:%u",
			 ipstr(e.addr, a), e.port, e.seen, NODE_IP, node_port);
		return -1;
	}
	nat_key(&k, remote, NODE_IP, rport, node_port, proto, BL_DIR_INGRESS);
	if (bpf_map_lookup_elem(env->nat_fd, &k, &i)) {
		snprintf(why, n, "nat: no ingress entry %s:%u -> %s:%u proto %u",
			 remote, rport, NODE_IP, node_port, proto);
		return -1;
	}
	if (memcmp(i.addr, &(__u32){ be32_of(pod_ip) }, 4) || i.port != pod_port) {
		snprintf(why, n, "nat: ingress entry -> %s:%u, want %s:%u",
			 ipstr(i.addr, a), i.port, pod_ip, pod_port);
		return -1;
	}
	if (!e.created_ns || e.last_seen_ns < e.created_ns) {
		snprintf(why, n, "nat: egress entry times created %llu last seen %llu",
			 (unsigned long long)e.created_ns,
			 (unsigned long long)e.last_seen_ns);
		return -1;
	}
	if (out)
		*out = e;
	return 0;
}

static int read_counters(struct env *env, struct bl_counter_val *sum)
{
	struct bl_counter_val *percpu;
	__u32 key;
	int cpu;

	percpu = calloc(env->ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (key = 0; key < BL_COUNTER_MAX; key++) {
		if (bpf_map_lookup_elem(env->counters_fd, &key, percpu)) {
			free(percpu);
			return -errno;
		}
		sum[key].packets = 0;
		sum[key].bytes = 0;
		for (cpu = 0; cpu < env->ncpus; cpu++) {
			sum[key].packets += percpu[cpu].packets;
			sum[key].bytes += percpu[cpu].bytes;
		}
	}
	free(percpu);
	return 0;
}

static int write_sysctl(const char *path, const char *val)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

static int lo_forwarding(bool on)
{
	/* /proc/sys/net is the namespace of the opener: ours, private. */
	return write_sysctl("/proc/sys/net/ipv4/conf/lo/forwarding",
			    on ? "1" : "0");
}

static void set_sin(struct sockaddr *sa, const char *ip)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = be32_of(ip);
}

/*
 * The kernel keys every neighbour of a loopback device as 0.0.0.0
 * (__ipv4_neigh_lookup_noref()), so lo has at most one neighbour and it
 * answers for every destination routed out of lo; deleting it by any other
 * address fails with ENXIO.
 */
static int lo_neighbour(bool add)
{
	struct arpreq arp = {};
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	set_sin(&arp.arp_pa, "0.0.0.0");
	arp.arp_ha.sa_family = ARPHRD_LOOPBACK;
	memcpy(arp.arp_ha.sa_data, neigh_mac, ETH_ALEN);
	arp.arp_flags = ATF_COM | ATF_PERM;
	strcpy(arp.arp_dev, "lo");
	if (ioctl(fd, add ? SIOCSARP : SIOCDARP, &arp) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Give bpf_fib_lookup() something to find, with ioctls so the test needs no
 * netlink code: lo up (is_skb_forwardable() refuses a down device), forwarding
 * on lo (the lookup is done as for a packet received on lo, the skb's device),
 * 10.244.2.0/24 (the other node's pods), 203.0.113.0/24 (the internet) and
 * 192.0.2.0/24 (a no-masquerade prefix) routed out of lo, and a permanent
 * neighbour on lo: lookups succeed (MACs from the neighbour and lo's all-zero
 * address) until a case removes the neighbour to see the NO_NEIGH outcome.
 * 10.244.3.0/24 and 100.64.0.0/10 stay unrouted.
 */
static const char *setup_fib(void)
{
	static const char *const routed[] = { "10.244.2.0", "203.0.113.0",
					      "192.0.2.0" };
	static char why[160];
	struct rtentry rt = {};
	struct ifreq ifr = {};
	size_t i;
	int fd, err;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return "socket(AF_INET) failed";
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		goto err;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		goto err;

	for (i = 0; i < sizeof(routed) / sizeof(routed[0]); i++) {
		memset(&rt, 0, sizeof(rt));
		set_sin(&rt.rt_dst, routed[i]);
		set_sin(&rt.rt_genmask, "255.255.255.0");
		rt.rt_flags = RTF_UP;
		rt.rt_dev = "lo";
		if (ioctl(fd, SIOCADDRT, &rt) < 0)
			goto err;
	}
	/*
	 * The node IP is a local address, as on a node: the FIB does not
	 * forward to it. A /32 on an alias of lo, so no prefix route comes
	 * with it.
	 */
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo:1");
	set_sin(&ifr.ifr_addr, NODE_IP);
	if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
		goto err;
	set_sin(&ifr.ifr_netmask, "255.255.255.255");
	if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
		goto err;
	close(fd);

	err = lo_neighbour(true);
	if (err) {
		snprintf(why, sizeof(why), "cannot add a neighbour on lo: %s",
			 strerror(-err));
		return why;
	}
	err = lo_forwarding(true);
	if (err) {
		snprintf(why, sizeof(why), "cannot enable forwarding on lo: %s",
			 strerror(-err));
		return why;
	}
	return NULL;
err:
	snprintf(why, sizeof(why), "cannot set up lo and its route: %s",
		 strerror(errno));
	close(fd);
	return why;
}

static int env_open(struct env *env, char *why, size_t n)
{
	struct bpf_map *map;
	int err;

	env->ncpus = libbpf_num_possible_cpus();
	if (env->ncpus <= 0) {
		snprintf(why, n, "cannot count CPUs: %s", strerror(-env->ncpus));
		return -1;
	}
	env->skel = datapath__open();
	if (!env->skel) {
		snprintf(why, n, "opening the skeleton: %s", strerror(errno));
		return -1;
	}
	/* A small NAT table is enough and quick to create. */
	err = bpf_map__set_max_entries(env->skel->maps.nat, NAT_TABLE_SIZE);
	if (err) {
		snprintf(why, n, "sizing the NAT table: %s", strerror(-err));
		return -1;
	}
	/* Private, unpinned maps: the test must not see or change a node's. */
	bpf_object__for_each_map(map, env->skel->obj)
	{
		err = bpf_map__set_pin_path(map, NULL);
		if (err) {
			snprintf(why, n, "unpinning %s: %s", bpf_map__name(map),
				 strerror(-err));
			return -1;
		}
	}
	err = datapath__load(env->skel);
	if (err) {
		snprintf(why, n, "loading the datapath: %s", strerror(-err));
		return -1;
	}
	env->endpoints_fd = bpf_map__fd(env->skel->maps.endpoints);
	env->config_fd = bpf_map__fd(env->skel->maps.config);
	env->counters_fd = bpf_map__fd(env->skel->maps.counters);
	env->nat_fd = bpf_map__fd(env->skel->maps.nat);
	env->nomasq_fd = bpf_map__fd(env->skel->maps.nomasq);
	map = bpf_object__find_map_by_name(env->skel->obj, "frags");
	env->frags_fd = map ? bpf_map__fd(map) : -1;

	/* as `node init --no-masquerade 192.0.2.0/24` fills it */
	err = add_nomasq(env, "10.244.0.0", 16);
	if (!err)
		err = add_nomasq(env, "192.0.2.0", 24);
	if (err) {
		snprintf(why, n, "filling nomasq: %s", strerror(-err));
		return -1;
	}

	err = add_endpoint(env, POD_A_IP, POD_A_IFINDEX, 0x1a2b3c4d, pod_a_mac,
			   host_a_mac);
	if (!err)
		err = add_endpoint(env, POD_B_IP, POD_B_IFINDEX, 0x5e6f7081,
				   pod_b_mac, host_b_mac);
	if (err) {
		snprintf(why, n, "filling endpoints: %s", strerror(-err));
		return -1;
	}
	env->fib_skip = setup_fib();
	return 0;
}

/* ---- cases --------------------------------------------------------------- */

/* from_pod: host veth ingress; from_uplink: uplink ingress; to_pod: host veth egress */
enum prog_id { FROM_POD, FROM_UPLINK, TO_POD };

struct tcase {
	const char *name;
	enum prog_id prog;
	struct pkt_spec in;
	int verdict;
	int reason; /* enum bl_counter, or NO_COUNT: no counter may move */
	struct pkt_spec out; /* kind PK_NONE: the input, unchanged */
	__u32 linear; /* nonzero: skb with only this many bytes linear */
	/*
	 * An IPv4 frame shorter than an IPv4 header: test_run on Linux 6.18
	 * refuses those with EINVAL before the program runs (an ARP frame of
	 * any length is accepted), so there the case can only be skipped.
	 */
	bool short_ip;
	bool needs_fib;
	bool nat_new; /* a new mapping: nat_new must move as well */
	/* one more counter that must move; 0 (FWD_LOCAL, never one): none */
	enum bl_counter also;
	/*
	 * The node port is NAT's pick (the pod's port is outside the range):
	 * it must lie in the configured range; the expected frame is then
	 * built with it and compared byte for byte as usual.
	 */
	bool any_port;
	/*
	 * Nonzero: the expected frame, byte for byte, written out by hand; the
	 * frame built from out must be exactly this (a check of the builder).
	 */
	const __u8 *golden;
	__u32 golden_len;
	int (*setup)(struct env *env);
	void (*cleanup)(struct env *env);
	/* after the frame and counters matched: the NAT table, say */
	int (*verify)(struct env *env, const struct pkt *got, char *why, size_t n);
};

static int prog_fd(struct env *env, enum prog_id prog)
{
	return bpf_program__fd(prog == FROM_POD ? env->skel->progs.from_pod :
			       prog == TO_POD	? env->skel->progs.to_pod :
						  env->skel->progs.from_uplink);
}

/* Run one frame through a program, as a case's setup; -EPROTO on a surprise. */
static int run_spec(struct env *env, enum prog_id prog, const struct pkt_spec *s,
		    int verdict)
{
	struct __sk_buff ctx = {};
	__u8 out[PKT_MAX];
	char why[128];
	struct pkt p;

	if (build(&p, s, why, sizeof(why))) {
		fprintf(stderr, "%s\n", why);
		return -EINVAL;
	}
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p.b,
		    .data_size_in = p.len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	if (bpf_prog_test_run_opts(prog_fd(env, prog), &opts))
		return -errno;
	return (int)opts.retval == verdict ? 0 : -EPROTO;
}

static int update_config(struct env *env, __u32 flags, __u16 lo, __u16 hi)
{
	struct bl_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(env->config_fd, &zero, &cfg))
		return -errno;
	cfg.flags = flags;
	cfg.nat_port_min = lo;
	cfg.nat_port_max = hi;
	return bpf_map_update_elem(env->config_fd, &zero, &cfg, BPF_ANY) ?
		       -errno : 0;
}

/* A new forwarding generation, as `node init` makes. */
static int fwd_gen_bump(struct env *env)
{
	struct bl_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(env->config_fd, &zero, &cfg))
		return -errno;
	cfg.fwd_gen++;
	return bpf_map_update_elem(env->config_fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

static int read_nat_range(struct env *env, __u16 *lo, __u16 *hi)
{
	struct bl_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(env->config_fd, &zero, &cfg))
		return -errno;
	*lo = cfg.nat_port_min;
	*hi = cfg.nat_port_max;
	return 0;
}

/* The pod side's port of a frame NAT sent out: TCP/UDP source port, echo id. */
static __u16 egress_port(const struct pkt *p)
{
	const struct iphdr *ip = (const struct iphdr *)(p->b + ETH_HLEN);
	const __u8 *l4 = p->b + ETH_HLEN + ip->ihl * 4;

	if (ip->protocol == IPPROTO_ICMP)
		return l4[4] << 8 | l4[5];
	return l4[0] << 8 | l4[1];
}

static int unconfigure(struct env *env)
{
	return write_config(env, false);
}

static int forwarding_off(struct env *env)
{
	return lo_forwarding(false);
}

static void forwarding_on(struct env *env)
{
	lo_forwarding(true);
}

static int neighbour_gone(struct env *env)
{
	return lo_neighbour(false);
}

static void neighbour_back(struct env *env)
{
	lo_neighbour(true);
}

/* Frame shorthands: pod A to pod B, the way pod A's kernel sends it. */
#define A_TO(dst, l4p, ttlv)                                                  \
	.kind = PK_IPV4, .dmac = host_a_mac, .smac = pod_a_mac,               \
	.saddr = POD_A_IP, .daddr = (dst), .ttl = (ttlv), .l4 = (l4p)
/* ... and as pod B must receive it: routed, so new MACs and TTL - 1. */
#define A_TO_B_ROUTED(l4p, ttlv)                                              \
	.kind = PK_IPV4, .dmac = pod_b_mac, .smac = host_b_mac,               \
	.saddr = POD_A_IP, .daddr = POD_B_IP, .ttl = (ttlv), .l4 = (l4p)
#define ARP_FROM_A(op, tpa)                                                   \
	.kind = PK_ARP, .dmac = bcast_mac, .smac = pod_a_mac, .arp_op = (op), \
	.sha = pod_a_mac, .saddr = POD_A_IP, .tha = zero_mac, .daddr = (tpa)
/* A remote node's pod (10.244.2.5) to pod B, arriving on the uplink. */
#define REMOTE_TO(dst, ttlv)                                                  \
	.kind = PK_IPV4, .dmac = uplink_mac, .smac = ext_mac,                 \
	.saddr = REMOTE_POD_IP, .daddr = (dst), .ttl = (ttlv),                \
	.l4 = IPPROTO_UDP

/* ---- NAT: frames, setups and table checks --------------------------------- */

/* Pod A to the server, from source port SP (TCP/UDP; ICMP uses echo_id). */
#define A_OUT(l4p, sp) A_TO(SRV_IP, l4p, 64), .sport = (sp)
/* ... as it must leave: node IP, routed by the FIB (neighbour MAC, TTL - 1). */
#define NODE_OUT(l4p, sp)                                                     \
	.kind = PK_IPV4, .dmac = neigh_mac, .smac = lo_mac, .saddr = NODE_IP, \
	.daddr = SRV_IP, .ttl = 63, .l4 = (l4p), .sport = (sp)
/* ... translated, for bpf_redirect_neigh to fill in the MACs. */
#define NODE_OUT_UNRESOLVED(l4p, sp)                                          \
	.kind = PK_IPV4, .dmac = host_a_mac, .smac = pod_a_mac,               \
	.saddr = NODE_IP, .daddr = SRV_IP, .ttl = 63, .l4 = (l4p),            \
	.sport = (sp)
/* From the internet to the node on the uplink. */
#define FROM_SRV(dst, l4p)                                                    \
	.kind = PK_IPV4, .dmac = uplink_mac, .smac = ext_mac, .saddr = SRV_IP, \
	.daddr = (dst), .ttl = 64, .l4 = (l4p)
/* ... and as pod A must receive it: pod MACs, TTL - 1. */
#define SRV_TO_A(l4p)                                                         \
	.kind = PK_IPV4, .dmac = pod_a_mac, .smac = host_a_mac,               \
	.saddr = SRV_IP, .daddr = POD_A_IP, .ttl = 63, .l4 = (l4p)
/* An ICMP error from a router on the way, to the node / to pod A. */
#define ERR_TO(dst, dm, sm, ttlv, type, code, q)                              \
	.kind = PK_IPV4, .dmac = (dm), .smac = (sm), .saddr = ROUTER_IP,      \
	.daddr = (dst), .ttl = (ttlv), .l4 = IPPROTO_ICMP, .err_type = (type), \
	.err_code = (code), .quote = (q)

/* What the setups send first: the flows whose replies the cases test. */
static const struct pkt_spec out_udp = { A_OUT(IPPROTO_UDP, KEPT_PORT) };
static const struct pkt_spec out_udp_nocsum = { A_OUT(IPPROTO_UDP, KEPT_PORT),
						 .udp_nocsum = true };
static const struct pkt_spec out_tcp = { A_OUT(IPPROTO_TCP, KEPT_PORT) };
static const struct pkt_spec out_echo = { A_TO(SRV_IP, IPPROTO_ICMP, 64),
					  .echo_id = KEPT_ID };
/* A connection from the internet straight to pod A (no NAT on the way in). */
static const struct pkt_spec in_syn = { FROM_SRV(POD_A_IP, IPPROTO_TCP),
					.sport = 40001, .dport = 8080 };
static const struct pkt_spec in_echo = { FROM_SRV(POD_A_IP, IPPROTO_ICMP) };
/* ... and pod A's replies to them, as it sends them / as they must leave */
#define A_INBOUND_REPLY(dm, sm, ttlv, flags)                                  \
	.kind = PK_IPV4, .dmac = (dm), .smac = (sm), .saddr = POD_A_IP,       \
	.daddr = SRV_IP, .ttl = (ttlv), .l4 = IPPROTO_TCP, .sport = 8080,     \
	.dport = 40001, .tcp_flags = (flags)
#define A_INBOUND_ECHO_REPLY(dm, sm, ttlv)                                    \
	.kind = PK_IPV4, .dmac = (dm), .smac = (sm), .saddr = POD_A_IP,       \
	.daddr = SRV_IP, .ttl = (ttlv), .l4 = IPPROTO_ICMP, .echo_reply = true
static const struct pkt_spec in_synack = {
	A_INBOUND_REPLY(host_a_mac, pod_a_mac, 64, 0x12)
};
static const struct pkt_spec in_echo_reply = {
	A_INBOUND_ECHO_REPLY(host_a_mac, pod_a_mac, 64)
};

/*
 * Headers quoted by ICMP errors: as the translated packet left the node, and
 * as pod A must see it after translation back. Quoted UDP carries its
 * checksum in the 8 bytes; NAT leaves it as it was on the wire.
 */
static const struct pkt_spec q_udp_node = {
	.kind = PK_IPV4, .saddr = NODE_IP, .daddr = SRV_IP, .ttl = 63,
	.l4 = IPPROTO_UDP, .sport = KEPT_PORT + 1, .tot_len = 1328
};
static const struct pkt_spec q_udp_pod = {
	.kind = PK_IPV4, .saddr = POD_A_IP, .daddr = SRV_IP, .ttl = 63,
	.l4 = IPPROTO_UDP, .sport = KEPT_PORT, .tot_len = 1328,
	.l4_csum_as = &q_udp_node
};
static const struct pkt_spec q_tcp_node = {
	.kind = PK_IPV4, .saddr = NODE_IP, .daddr = SRV_IP, .ttl = 1,
	.l4 = IPPROTO_TCP, .sport = KEPT_PORT
};
static const struct pkt_spec q_tcp_pod = {
	.kind = PK_IPV4, .saddr = POD_A_IP, .daddr = SRV_IP, .ttl = 1,
	.l4 = IPPROTO_TCP, .sport = KEPT_PORT, .l4_csum_as = &q_tcp_node
};
/* Linux quotes as much as fits in 576 bytes: the whole TCP header here. */
static const struct pkt_spec q_tcp_node_long = {
	.kind = PK_IPV4, .saddr = NODE_IP, .daddr = SRV_IP, .ttl = 1,
	.l4 = IPPROTO_TCP, .sport = KEPT_PORT, .quote_l4 = 20
};
static const struct pkt_spec q_tcp_pod_long = {
	.kind = PK_IPV4, .saddr = POD_A_IP, .daddr = SRV_IP, .ttl = 1,
	.l4 = IPPROTO_TCP, .sport = KEPT_PORT, .quote_l4 = 20,
	.l4_csum_as = &q_tcp_node_long
};
static const struct pkt_spec q_echo_node = {
	.kind = PK_IPV4, .saddr = NODE_IP, .daddr = SRV_IP, .ttl = 1,
	.l4 = IPPROTO_ICMP, .echo_id = KEPT_ID + 1
};
static const struct pkt_spec q_echo_pod = {
	.kind = PK_IPV4, .saddr = POD_A_IP, .daddr = SRV_IP, .ttl = 1,
	.l4 = IPPROTO_ICMP, .echo_id = KEPT_ID, .l4_csum_as = &q_echo_node
};
/* Quoting a node port no mapping owns / the host's own (outside the range) */
static const struct pkt_spec q_udp_unmapped = {
	.kind = PK_IPV4, .saddr = NODE_IP, .daddr = SRV_IP, .ttl = 63,
	.l4 = IPPROTO_UDP, .sport = 61500
};
static const struct pkt_spec q_udp_host = {
	.kind = PK_IPV4, .saddr = NODE_IP, .daddr = SRV_IP, .ttl = 63,
	.l4 = IPPROTO_UDP, .sport = 40000
};
/* A later fragment (offset 1480) of pod A's datagram: only bytes to NAT. */
#define LATER_FRAG A_OUT(IPPROTO_UDP, KEPT_PORT), .frag = 185
static const struct pkt_spec later_frag = { LATER_FRAG };

/*
 * A reply too big for one frame, fragmented on the way: the first fragment
 * (MF, offset 0) has the ports, a later one (offset 1480) only the IP id.
 */
#define REPLY_FRAG(off)                                                       \
	FROM_SRV(NODE_IP, IPPROTO_UDP), .sport = 53, .dport = KEPT_PORT,      \
	.ip_id = 0x5151, .frag = (off)
static const struct pkt_spec reply_first_frag = { REPLY_FRAG(0x2000) };
static const struct pkt_spec reply_later_frag = { REPLY_FRAG(185) };
/* A datagram from the internet to a closed port of pod A, and the error */
static const struct pkt_spec in_udp_closed = {
	FROM_SRV(POD_A_IP, IPPROTO_UDP), .sport = 40000, .dport = 9999
};
static const struct pkt_spec q_in_udp_closed = {
	.kind = PK_IPV4, .saddr = SRV_IP, .daddr = POD_A_IP, .ttl = 63,
	.l4 = IPPROTO_UDP, .sport = 40000, .dport = 9999
};
#define A_PORT_UNREACH(dm, sm, ttlv)                                          \
	.kind = PK_IPV4, .dmac = (dm), .smac = (sm), .saddr = POD_A_IP,       \
	.daddr = SRV_IP, .ttl = (ttlv), .l4 = IPPROTO_ICMP,                   \
	.err_type = ICMP_DEST_UNREACH, .err_code = ICMP_PORT_UNREACH,         \
	.quote = &q_in_udp_closed

/*
 * Pod A's own ICMP errors about its translated flows: a reply that reached
 * it (translated back) and that it rejects, quoted as pod A saw it, and as
 * the error must leave: outer source and the quote's destination the node's,
 * the quoted port the node port (an echo reply: the node's echo id). The
 * quoted L4 checksum stays as pod A quoted it.
 */
static const struct pkt_spec q_reply_udp_pod = {
	.kind = PK_IPV4, .saddr = SRV_IP, .daddr = POD_A_IP, .ttl = 63,
	.l4 = IPPROTO_UDP, .sport = 53, .dport = KEPT_PORT
};
static const struct pkt_spec q_reply_udp_node = {
	.kind = PK_IPV4, .saddr = SRV_IP, .daddr = NODE_IP, .ttl = 63,
	.l4 = IPPROTO_UDP, .sport = 53, .dport = KEPT_PORT + 1,
	.l4_csum_as = &q_reply_udp_pod
};
static const struct pkt_spec q_reply_tcp_pod = {
	.kind = PK_IPV4, .saddr = SRV_IP, .daddr = POD_A_IP, .ttl = 63,
	.l4 = IPPROTO_TCP, .sport = 80, .dport = KEPT_PORT, .tcp_flags = 0x12
};
static const struct pkt_spec q_reply_tcp_node = {
	.kind = PK_IPV4, .saddr = SRV_IP, .daddr = NODE_IP, .ttl = 63,
	.l4 = IPPROTO_TCP, .sport = 80, .dport = KEPT_PORT, .tcp_flags = 0x12,
	.l4_csum_as = &q_reply_tcp_pod
};
static const struct pkt_spec q_reply_echo_pod = {
	.kind = PK_IPV4, .saddr = SRV_IP, .daddr = POD_A_IP, .ttl = 63,
	.l4 = IPPROTO_ICMP, .echo_reply = true, .echo_id = KEPT_ID
};
static const struct pkt_spec q_reply_echo_node = {
	.kind = PK_IPV4, .saddr = SRV_IP, .daddr = NODE_IP, .ttl = 63,
	.l4 = IPPROTO_ICMP, .echo_reply = true, .echo_id = KEPT_ID + 1,
	.l4_csum_as = &q_reply_echo_pod
};
/* A reply from a remote port pod A's flow never used (no mapping). */
static const struct pkt_spec q_reply_udp_other_rport = {
	.kind = PK_IPV4, .saddr = SRV_IP, .daddr = POD_A_IP, .ttl = 63,
	.l4 = IPPROTO_UDP, .sport = 54, .dport = KEPT_PORT
};
/* A reply of pod B's translated flow, quoted by pod A. */
static const struct pkt_spec q_reply_udp_pod_b = {
	.kind = PK_IPV4, .saddr = SRV_IP, .daddr = POD_B_IP, .ttl = 63,
	.l4 = IPPROTO_UDP, .sport = 53, .dport = KEPT_PORT
};
/* The echo request of a ping from the internet to pod A (inbound). */
static const struct pkt_spec q_in_echo = {
	.kind = PK_IPV4, .saddr = SRV_IP, .daddr = POD_A_IP, .ttl = 63,
	.l4 = IPPROTO_ICMP
};
/*
 * nat_pod_port_unreachable_udp_translated's expected frame, written out by
 * hand (checksums computed apart from this file's builder).
 */
static const __u8 golden_port_unreach_out[] = {
	/* eth: neigh_mac <- lo's all-zero MAC, IPv4 */
	0x02, 0x42, 0x0a, 0xf4, 0x02, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x08, 0x00,
	/* IPv4: len 56, DF, TTL 63, ICMP, checksum d587, NODE_IP -> SRV_IP */
	0x45, 0x00, 0x00, 0x38, 0x00, 0x00, 0x40, 0x00, 0x3f, 0x01, 0xd5, 0x87,
	0xc6, 0x33, 0x64, 0x02, 0xcb, 0x00, 0x71, 0x07,
	/* ICMP port unreachable, checksum ba73 (over the quote) */
	0x03, 0x03, 0xba, 0x73, 0x00, 0x00, 0x00, 0x00,
	/* quoted IPv4: len 46, DF, TTL 63, UDP, checksum d581, SRV_IP -> NODE_IP */
	0x45, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x40, 0x00, 0x3f, 0x11, 0xd5, 0x81,
	0xcb, 0x00, 0x71, 0x07, 0xc6, 0x33, 0x64, 0x02,
	/* quoted UDP 53 -> 61006 (KEPT_PORT + 1), len 26, pod A's checksum */
	0x00, 0x35, 0xee, 0x4e, 0x00, 0x1a, 0x53, 0xeb,
};
/* An ICMP error to the server, as pod A sends it / as it must leave. */
#define ERR_TO_SRV(dm, sm, src, ttlv, type, code, q)                          \
	.kind = PK_IPV4, .dmac = (dm), .smac = (sm), .saddr = (src),          \
	.daddr = SRV_IP, .ttl = (ttlv), .l4 = IPPROTO_ICMP,                   \
	.err_type = (type), .err_code = (code), .quote = (q)
#define A_ERR(type, code, q)                                                  \
	ERR_TO_SRV(host_a_mac, pod_a_mac, POD_A_IP, 64, type, code, q)
#define NODE_ERR(type, code, q)                                               \
	ERR_TO_SRV(neigh_mac, lo_mac, NODE_IP, 63, type, code, q)

/*
 * The host stack hands pod A a connection it rewrote on the way in (hostPort
 * DNAT: node IP:8080 -> pod A:80): seen on the host veth's egress.
 */
#define HOST_TO_A(src)                                                        \
	.kind = PK_IPV4, .dmac = pod_a_mac, .smac = host_a_mac,               \
	.saddr = (src), .daddr = POD_A_IP, .ttl = 63, .l4 = IPPROTO_TCP,      \
	.sport = 40001, .dport = 80
static const struct pkt_spec host_syn = { HOST_TO_A(SRV_IP) };

static int masquerade_off(struct env *env)
{
	return update_config(env, 0, NAT_LO, NAT_HI);
}

static int setup_out_udp(struct env *env)
{
	return run_spec(env, FROM_POD, &out_udp, TC_ACT_REDIRECT);
}

static int setup_out_udp_nocsum(struct env *env)
{
	return run_spec(env, FROM_POD, &out_udp_nocsum, TC_ACT_REDIRECT);
}

static int setup_out_tcp(struct env *env)
{
	return run_spec(env, FROM_POD, &out_tcp, TC_ACT_REDIRECT);
}

static int setup_out_echo(struct env *env)
{
	return run_spec(env, FROM_POD, &out_echo, TC_ACT_REDIRECT);
}

/* Another pod holds node port KEPT_PORT towards SRV_IP:53 (UDP). */
static int occupy_kept_udp(struct env *env)
{
	return nat_occupy(env, SRV_IP, 53, KEPT_PORT, IPPROTO_UDP);
}

/*
 * A range no larger than the number of tries is walked in order from the
 * kept port (a larger one is tried at random after it), which makes a moved
 * port predictable: the small range is NAT_LO .. NAT_LO + BL_NAT_PORT_TRIES - 1.
 */
#define SMALL_HI (NAT_LO + BL_NAT_PORT_TRIES - 1)
_Static_assert(KEPT_PORT > NAT_LO && KEPT_PORT < SMALL_HI && KEPT_ID < SMALL_HI,
	       "kept port and id inside the small range");

static int small_range(struct env *env)
{
	return update_config(env, BL_CFG_MASQUERADE, NAT_LO, SMALL_HI);
}

static int occupy_kept_small(struct env *env)
{
	int err = small_range(env);

	return err ? err : occupy_kept_udp(env);
}

/* ... so pod A's flow from KEPT_PORT gets KEPT_PORT + 1. */
static int setup_out_udp_moved(struct env *env)
{
	int err = occupy_kept_small(env);

	return err ? err : setup_out_udp(env);
}

static int setup_out_echo_moved(struct env *env)
{
	int err = small_range(env);

	if (!err)
		err = nat_occupy(env, SRV_IP, 0, KEPT_ID, IPPROTO_ICMP);
	return err ? err : setup_out_echo(env);
}

/* The small range with every port but one taken: the one before the kept. */
static int occupy_small_but_one(struct env *env)
{
	int p, err = small_range(env);

	for (p = NAT_LO; !err && p <= SMALL_HI; p++)
		if (p != KEPT_PORT - 1)
			err = nat_occupy(env, SRV_IP, 53, p, IPPROTO_UDP);
	return err;
}

static int occupy_small_all(struct env *env)
{
	int p, err = small_range(env);

	for (p = NAT_LO; !err && p <= SMALL_HI; p++)
		err = nat_occupy(env, SRV_IP, 53, p, IPPROTO_UDP);
	return err;
}

/*
 * A range of 2 x BL_NAT_PORT_TRIES ports with every other one taken, the
 * kept port among them: the random tries must land on a free one (all of
 * them missing has a chance of 2^-31).
 */
static int occupy_odd(struct env *env)
{
	int p, err = update_config(env, BL_CFG_MASQUERADE, NAT_LO,
				   NAT_LO + 2 * BL_NAT_PORT_TRIES - 1);

	_Static_assert((KEPT_PORT - NAT_LO) % 2 == 1, "kept port among the taken");
	for (p = NAT_LO + 1; !err && p < NAT_LO + 2 * BL_NAT_PORT_TRIES; p += 2)
		err = nat_occupy(env, SRV_IP, 53, p, IPPROTO_UDP);
	return err;
}

/* Ten ports, the kept one and the last taken: the search wraps to the first. */
static int occupy_wrap(struct env *env)
{
	int err = update_config(env, BL_CFG_MASQUERADE, KEPT_PORT - 9, KEPT_PORT + 1);

	if (!err)
		err = nat_occupy(env, SRV_IP, 53, KEPT_PORT, IPPROTO_UDP);
	if (!err)
		err = nat_occupy(env, SRV_IP, 53, KEPT_PORT + 1, IPPROTO_UDP);
	return err;
}

/* Two ports, both taken by two flows of pod A from outside the range. */
static int setup_range_full(struct env *env)
{
	struct pkt_spec s = { A_OUT(IPPROTO_UDP, 40000) };
	int err = update_config(env, BL_CFG_MASQUERADE, NAT_LO, NAT_LO + 1);

	if (!err)
		err = run_spec(env, FROM_POD, &s, TC_ACT_REDIRECT);
	s.sport = 40001;
	if (!err)
		err = run_spec(env, FROM_POD, &s, TC_ACT_REDIRECT);
	return err;
}

static int setup_reply_first_frag(struct env *env)
{
	int err = setup_out_udp(env);

	return err ? err : run_spec(env, FROM_UPLINK, &reply_first_frag,
				    TC_ACT_REDIRECT);
}

static int setup_inbound_udp_closed(struct env *env)
{
	return run_spec(env, FROM_UPLINK, &in_udp_closed, TC_ACT_REDIRECT);
}

static int setup_host_syn(struct env *env)
{
	return run_spec(env, TO_POD, &host_syn, TC_ACT_OK);
}

static int setup_inbound_syn(struct env *env)
{
	return run_spec(env, FROM_UPLINK, &in_syn, TC_ACT_REDIRECT);
}

static int setup_inbound_echo(struct env *env)
{
	return run_spec(env, FROM_UPLINK, &in_echo, TC_ACT_REDIRECT);
}

/*
 * An inbound connection (or ping) to pod A whose first reply kept the FIB's
 * answer, and the neighbour gone since: a reply that shows the old MACs was
 * sent without a FIB lookup.
 */
static int inbound_replied_then_neighbour_gone(struct env *env)
{
	return setup_inbound_syn(env) ?:
	       run_spec(env, FROM_POD, &in_synack, TC_ACT_REDIRECT) ?:
	       neighbour_gone(env);
}

static int inbound_replied_then_gen_bumped(struct env *env)
{
	return inbound_replied_then_neighbour_gone(env) ?: fwd_gen_bump(env);
}

static int inbound_echo_replied_then_neighbour_gone(struct env *env)
{
	return setup_inbound_echo(env) ?:
	       run_spec(env, FROM_POD, &in_echo_reply, TC_ACT_REDIRECT) ?:
	       neighbour_gone(env);
}

/* pod A's flow moved to node port KEPT_PORT + 1, and the neighbour gone */
static int moved_then_neighbour_gone(struct env *env)
{
	return setup_out_udp_moved(env) ?: neighbour_gone(env);
}

/* Pod B's UDP flow KEPT_PORT -> SRV_IP:53, mapped to node port KEPT_PORT. */
static int setup_pod_b_flow(struct env *env)
{
	struct bl_nat_entry e = { .port = KEPT_PORT };
	__u32 node = be32_of(NODE_IP);
	struct bl_nat_key k;

	memcpy(e.addr, &node, 4);
	nat_key(&k, POD_B_IP, SRV_IP, KEPT_PORT, 53, IPPROTO_UDP, BL_DIR_EGRESS);
	return bpf_map_update_elem(env->nat_fd, &k, &e, BPF_NOEXIST) ? -errno : 0;
}

static int nat_empty(struct env *env, const struct pkt *got, char *why, size_t n)
{
	int c = nat_count(env, 0);

	if (c == 0)
		return 0;
	snprintf(why, n, "nat: %d entries, want none", c);
	return -1;
}

static int expect_n(struct env *env, int egress, int ingress, char *why, size_t n)
{
	int e = nat_count(env, BL_DIR_EGRESS), i = nat_count(env, BL_DIR_INGRESS);

	if (e == egress && i == ingress)
		return 0;
	snprintf(why, n, "nat: %d egress + %d ingress entries, want %d + %d", e,
		 i, egress, ingress);
	return -1;
}

static int v_tcp_kept(struct env *env, const struct pkt *got, char *why, size_t n)
{
	struct bl_nat_entry e;

	if (expect_mapping(env, IPPROTO_TCP, POD_A_IP, KEPT_PORT, SRV_IP, 80,
			   KEPT_PORT, &e, why, n) ||
	    expect_n(env, 1, 1, why, n))
		return -1;
	if (e.seen != BL_NAT_SEEN_SYN || e.packets != 1) {
		snprintf(why, n, "nat: egress entry seen %#x packets %llu, want SYN and 1",
			 e.seen, (unsigned long long)e.packets);
		return -1;
	}
	return 0;
}

static int v_udp_kept(struct env *env, const struct pkt *got, char *why, size_t n)
{
	return expect_mapping(env, IPPROTO_UDP, POD_A_IP, KEPT_PORT, SRV_IP, 53,
			      KEPT_PORT, NULL, why, n) ||
	       expect_n(env, 1, 1, why, n);
}

static int v_udp_kept_twice(struct env *env, const struct pkt *got, char *why,
			    size_t n)
{
	struct bl_nat_entry e;

	if (v_udp_kept(env, got, why, n) ||
	    expect_mapping(env, IPPROTO_UDP, POD_A_IP, KEPT_PORT, SRV_IP, 53,
			   KEPT_PORT, &e, why, n))
		return -1;
	if (e.packets != 2) {
		snprintf(why, n, "nat: egress entry packets %llu, want 2",
			 (unsigned long long)e.packets);
		return -1;
	}
	return 0;
}

/*
 * The forwarding cache of the out_udp flow's egress entry. The FIB of the
 * test namespace sends SRV_IP out of lo (index 1, all-zero MAC, MTU 65536,
 * kept as 65535) to the permanent neighbour neigh_mac.
 */
static int out_udp_entry(struct env *env, struct bl_nat_entry *e)
{
	struct bl_nat_key k;

	nat_key(&k, POD_A_IP, SRV_IP, KEPT_PORT, 53, IPPROTO_UDP, BL_DIR_EGRESS);
	return bpf_map_lookup_elem(env->nat_fd, &k, e) ? -errno : 0;
}

static int out_udp_entry_write(struct env *env, const struct bl_nat_entry *e)
{
	struct bl_nat_key k;

	nat_key(&k, POD_A_IP, SRV_IP, KEPT_PORT, 53, IPPROTO_UDP, BL_DIR_EGRESS);
	return bpf_map_update_elem(env->nat_fd, &k, e, BPF_EXIST) ? -errno : 0;
}

/* e keeps the test FIB's answer for SRV_IP (generation 1). */
static int expect_fwd_cache(const struct bl_nat_entry *e, char *why, size_t n)
{
	if (!e->fwd_ns || e->fwd_gen != 1 || e->fwd_ifindex != POD_A_IFINDEX ||
	    e->fwd_mtu != 65535 || memcmp(e->fwd_dmac, neigh_mac, ETH_ALEN) ||
	    memcmp(e->fwd_smac, lo_mac, ETH_ALEN)) {
		snprintf(why, n, "nat: forwarding cache ns %llu gen %u ifindex %u mtu %u dmac %02x..%02x, want set, 1, 1, 65535, neigh_mac",
			 (unsigned long long)e->fwd_ns, e->fwd_gen, e->fwd_ifindex,
			 e->fwd_mtu, e->fwd_dmac[0], e->fwd_dmac[5]);
		return -1;
	}
	return 0;
}

/* e keeps nothing: looked up again and met the unresolved neighbour. */
static int expect_no_fwd_cache(const struct bl_nat_entry *e, char *why, size_t n)
{
	if (!e->fwd_ns)
		return 0;
	snprintf(why, n, "nat: an unresolved neighbour was cached (ifindex %u)",
		 e->fwd_ifindex);
	return -1;
}

static int v_fwd_cached(struct env *env, const struct pkt *got, char *why, size_t n)
{
	struct bl_nat_entry e;

	if (v_udp_kept_twice(env, got, why, n))
		return -1;
	if (out_udp_entry(env, &e)) {
		snprintf(why, n, "nat: out_udp egress entry gone");
		return -1;
	}
	return expect_fwd_cache(&e, why, n);
}

/* The FIB's answer changes after out_udp's mapping cached the old one. */
static int cached_then_neighbour_gone(struct env *env)
{
	return setup_out_udp(env) ?: neighbour_gone(env);
}

static int cached_then_gen_bumped(struct env *env)
{
	return cached_then_neighbour_gone(env) ?: fwd_gen_bump(env);
}

static int cached_then_aged(struct env *env)
{
	struct bl_nat_entry e;
	int err = cached_then_neighbour_gone(env) ?: out_udp_entry(env, &e);

	if (err)
		return err;
	e.fwd_ns -= BL_NAT_FWD_MAX_AGE_NS;
	return out_udp_entry_write(env, &e);
}

/* A cached MTU the frame does not fit (lo's own fits anything). */
static int cached_then_small_mtu(struct env *env)
{
	struct bl_nat_entry e;
	int err = cached_then_neighbour_gone(env) ?: out_udp_entry(env, &e);

	if (err)
		return err;
	e.fwd_mtu = 20;
	return out_udp_entry_write(env, &e);
}

/* Looked up again, and the neighbour is unresolved: nothing cached. */
static int v_fwd_relooked(struct env *env, const struct pkt *got, char *why,
			  size_t n)
{
	struct bl_nat_entry e;

	if (v_udp_kept_twice(env, got, why, n))
		return -1;
	if (out_udp_entry(env, &e)) {
		snprintf(why, n, "nat: out_udp egress entry gone");
		return -1;
	}
	return expect_no_fwd_cache(&e, why, n);
}

static int v_udp_csum0(struct env *env, const struct pkt *got, char *why, size_t n)
{
	return expect_mapping(env, IPPROTO_UDP, POD_A_IP, KEPT_PORT, SRV_IP,
			      CSUM0_DPORT, KEPT_PORT, NULL, why, n);
}

static int v_echo_kept(struct env *env, const struct pkt *got, char *why, size_t n)
{
	return expect_mapping(env, IPPROTO_ICMP, POD_A_IP, KEPT_ID, SRV_IP, 0,
			      KEPT_ID, NULL, why, n) ||
	       expect_n(env, 1, 1, why, n);
}

static int v_tcp_any(struct env *env, const struct pkt *got, char *why, size_t n)
{
	return expect_mapping(env, IPPROTO_TCP, POD_A_IP, 40001, SRV_IP, 80,
			      egress_port(got), NULL, why, n) ||
	       expect_n(env, 1, 1, why, n);
}

static int v_udp_any(struct env *env, const struct pkt *got, char *why, size_t n)
{
	return expect_mapping(env, IPPROTO_UDP, POD_A_IP, 40000, SRV_IP, 53,
			      egress_port(got), NULL, why, n) ||
	       expect_n(env, 1, 1, why, n);
}

static int v_echo_any(struct env *env, const struct pkt *got, char *why, size_t n)
{
	return expect_mapping(env, IPPROTO_ICMP, POD_A_IP, 0x4242, SRV_IP, 0,
			      egress_port(got), NULL, why, n) ||
	       expect_n(env, 1, 1, why, n);
}

/* The occupied port's entry untouched, pod A's flow on KEPT_PORT + 1. */
/*
 * Pod A's flow to SRV_IP:rport left with a port other than KEPT_PORT, which
 * nat_occupy() gave another flow: a whole mapping to that port, and the
 * other flow's entry untouched.
 */
static int expect_moved_off_taken(struct env *env, const struct pkt *got,
				  __u8 proto, __u16 rport, char *why, size_t n)
{
	__u16 port = egress_port(got);

	if (port == KEPT_PORT) {
		snprintf(why, n, "nat: got the taken port %u", port);
		return -1;
	}
	return expect_mapping(env, proto, POD_A_IP, KEPT_PORT, SRV_IP, rport, port,
			      NULL, why, n) ||
	       expect_n(env, 1, 2, why, n) ||
	       expect_occupier(env, proto, rport, why, n);
}

static int v_udp_moved(struct env *env, const struct pkt *got, char *why, size_t n)
{
	return expect_mapping(env, IPPROTO_UDP, POD_A_IP, KEPT_PORT, SRV_IP, 53,
			      KEPT_PORT + 1, NULL, why, n) ||
	       expect_n(env, 1, 2, why, n) ||
	       expect_occupier(env, IPPROTO_UDP, 53, why, n);
}

static int v_udp_other_rport(struct env *env, const struct pkt *got, char *why,
			     size_t n)
{
	return expect_mapping(env, IPPROTO_UDP, POD_A_IP, KEPT_PORT, SRV_IP, 123,
			      KEPT_PORT, NULL, why, n) ||
	       expect_n(env, 1, 2, why, n);
}

/*
 * Pod A's TCP mapping (kept port), then one of its halves gone, as the
 * LRU evicts them: each half on its own.
 */
static int out_tcp_half_lost(struct env *env, __u8 dir)
{
	struct bl_nat_key k;
	int err = setup_out_tcp(env);

	if (err)
		return err;
	if (dir == BL_DIR_EGRESS)
		nat_key(&k, POD_A_IP, SRV_IP, KEPT_PORT, 80, IPPROTO_TCP, dir);
	else
		nat_key(&k, SRV_IP, NODE_IP, 80, KEPT_PORT, IPPROTO_TCP, dir);
	return bpf_map_delete_elem(env->nat_fd, &k) ? -errno : 0;
}

static int out_tcp_lost_ingress(struct env *env)
{
	return out_tcp_half_lost(env, BL_DIR_INGRESS);
}

static int out_tcp_lost_egress(struct env *env)
{
	return out_tcp_half_lost(env, BL_DIR_EGRESS);
}

/* ... and, its ingress half gone, another flow has taken the port since. */
static int out_tcp_port_taken(struct env *env)
{
	return out_tcp_half_lost(env, BL_DIR_INGRESS) ?:
	       nat_occupy(env, SRV_IP, 80, KEPT_PORT, IPPROTO_TCP);
}

static int v_tcp_pair_whole(struct env *env, const struct pkt *got, char *why,
			    size_t n)
{
	return expect_mapping(env, IPPROTO_TCP, POD_A_IP, KEPT_PORT, SRV_IP, 80,
			      KEPT_PORT, NULL, why, n) ||
	       expect_n(env, 1, 1, why, n);
}

static int v_tcp_replaced(struct env *env, const struct pkt *got, char *why,
			  size_t n)
{
	return expect_moved_off_taken(env, got, IPPROTO_TCP, 80, why, n);
}

/* Moved at random: any other port of the range, the other flow untouched. */
static int v_udp_moved_random(struct env *env, const struct pkt *got, char *why,
			      size_t n)
{
	return expect_moved_off_taken(env, got, IPPROTO_UDP, 53, why, n);
}

static int v_udp_last_try(struct env *env, const struct pkt *got, char *why,
			  size_t n)
{
	return expect_mapping(env, IPPROTO_UDP, POD_A_IP, KEPT_PORT, SRV_IP, 53,
			      KEPT_PORT - 1, NULL, why, n) ||
	       expect_n(env, 1, BL_NAT_PORT_TRIES, why, n);
}

static int v_udp_free_even(struct env *env, const struct pkt *got, char *why,
			   size_t n)
{
	__u16 port = egress_port(got);

	if ((port - NAT_LO) % 2) {
		snprintf(why, n, "nat: got port %u, which another flow holds", port);
		return -1;
	}
	return expect_mapping(env, IPPROTO_UDP, POD_A_IP, KEPT_PORT, SRV_IP, 53,
			      port, NULL, why, n) ||
	       expect_n(env, 1, BL_NAT_PORT_TRIES + 1, why, n);
}

static int v_udp_wrapped(struct env *env, const struct pkt *got, char *why,
			 size_t n)
{
	return expect_mapping(env, IPPROTO_UDP, POD_A_IP, KEPT_PORT, SRV_IP, 53,
			      KEPT_PORT - 9, NULL, why, n);
}

static int v_no_port(struct env *env, const struct pkt *got, char *why, size_t n)
{
	return expect_n(env, 0, BL_NAT_PORT_TRIES, why, n);
}

static int v_range_full(struct env *env, const struct pkt *got, char *why,
			size_t n)
{
	return expect_n(env, 2, 2, why, n);
}

/* The reply refreshed the ingress half and recorded the peer's SYN. */
static int v_tcp_reply(struct env *env, const struct pkt *got, char *why, size_t n)
{
	struct bl_nat_entry i;
	struct bl_nat_key k;

	if (v_tcp_kept(env, got, why, n))
		return -1;
	nat_key(&k, SRV_IP, NODE_IP, 80, KEPT_PORT, IPPROTO_TCP, BL_DIR_INGRESS);
	if (bpf_map_lookup_elem(env->nat_fd, &k, &i) || i.packets != 1 ||
	    i.seen != BL_NAT_SEEN_SYN) {
		snprintf(why, n, "nat: ingress entry packets %llu seen %#x, want 1 and SYN",
			 (unsigned long long)i.packets, i.seen);
		return -1;
	}
	return 0;
}

/* The TCP flags the collector's timeouts go by, per direction. */
static int expect_seen(struct env *env, __u8 dir, __u8 seen, __u64 packets,
		       char *why, size_t n)
{
	struct bl_nat_entry e;
	struct bl_nat_key k;

	if (dir == BL_DIR_EGRESS)
		nat_key(&k, POD_A_IP, SRV_IP, KEPT_PORT, 80, IPPROTO_TCP, dir);
	else
		nat_key(&k, SRV_IP, NODE_IP, 80, KEPT_PORT, IPPROTO_TCP, dir);
	if (bpf_map_lookup_elem(env->nat_fd, &k, &e) || e.seen != seen ||
	    e.packets != packets) {
		snprintf(why, n, "nat: %s entry seen %#x packets %llu, want %#x and %llu",
			 dir == BL_DIR_EGRESS ? "egress" : "ingress", e.seen,
			 (unsigned long long)e.packets, seen,
			 (unsigned long long)packets);
		return -1;
	}
	return 0;
}

static int v_tcp_fin(struct env *env, const struct pkt *got, char *why, size_t n)
{
	return expect_seen(env, BL_DIR_EGRESS, BL_NAT_SEEN_SYN | BL_NAT_SEEN_FIN,
			   2, why, n);
}

static int v_tcp_rst(struct env *env, const struct pkt *got, char *why, size_t n)
{
	return expect_seen(env, BL_DIR_INGRESS, BL_NAT_SEEN_RST, 1, why, n);
}

/* An inbound flow: one egress entry for the replies, marked, no partner. */
static int expect_inbound_entry(struct env *env, __u8 proto, __u16 pod_port,
				__u16 rport, __u64 packets, struct bl_nat_entry *out,
				char *why, size_t n)
{
	struct bl_nat_entry e;
	struct bl_nat_key k;
	char a[INET_ADDRSTRLEN];

	nat_key(&k, POD_A_IP, SRV_IP, pod_port, rport, proto, BL_DIR_EGRESS);
	if (bpf_map_lookup_elem(env->nat_fd, &k, &e)) {
		snprintf(why, n, "nat: no inbound entry %s:%u -> %s:%u (%d entries)",
			 POD_A_IP, pod_port, SRV_IP, rport, nat_count(env, 0));
		return -1;
	}
	if (!(e.seen & BL_NAT_INBOUND) || e.packets != packets ||
	    memcmp(e.addr, &(__u32){ be32_of(POD_A_IP) }, 4) || e.port != pod_port) {
		snprintf(why, n, "nat: inbound entry -> %s:%u seen %#x packets %llu, want %s:%u INBOUND %llu",
			 ipstr(e.addr, a), e.port, e.seen,
			 (unsigned long long)e.packets, POD_A_IP, pod_port,
			 (unsigned long long)packets);
		return -1;
	}
	if (out)
		*out = e;
	return expect_n(env, 1, 0, why, n);
}

static int expect_inbound(struct env *env, __u8 proto, __u16 pod_port,
			  __u16 rport, __u64 packets, char *why, size_t n)
{
	return expect_inbound_entry(env, proto, pod_port, rport, packets, NULL,
				    why, n);
}

/* A flow the host delivered: one egress entry, marked VIA_HOST, no partner. */
static int expect_via_host(struct env *env, __u64 packets, char *why, size_t n)
{
	struct bl_nat_entry e;
	struct bl_nat_key k;

	nat_key(&k, POD_A_IP, SRV_IP, 80, 40001, IPPROTO_TCP, BL_DIR_EGRESS);
	if (bpf_map_lookup_elem(env->nat_fd, &k, &e)) {
		snprintf(why, n, "nat: no via-host entry %s:80 -> %s:40001 (%d entries)",
			 POD_A_IP, SRV_IP, nat_count(env, 0));
		return -1;
	}
	if (e.seen != (BL_NAT_VIA_HOST | BL_NAT_SEEN_SYN) || e.packets != packets) {
		snprintf(why, n, "nat: via-host entry seen %#x packets %llu, want %#x and %llu",
			 e.seen, (unsigned long long)e.packets,
			 BL_NAT_VIA_HOST | BL_NAT_SEEN_SYN, (unsigned long long)packets);
		return -1;
	}
	/* its replies go to the host stack: nothing to route, nothing kept */
	if (e.fwd_ns) {
		snprintf(why, n, "nat: via-host entry keeps a forwarding cache");
		return -1;
	}
	return expect_n(env, 1, 0, why, n);
}

static int v_via_host_syn(struct env *env, const struct pkt *got, char *why,
			  size_t n)
{
	return expect_via_host(env, 1, why, n);
}

static int v_via_host_reply(struct env *env, const struct pkt *got, char *why,
			    size_t n)
{
	return expect_via_host(env, 2, why, n);
}

static int v_inbound_syn(struct env *env, const struct pkt *got, char *why, size_t n)
{
	return expect_inbound(env, IPPROTO_TCP, 8080, 40001, 1, why, n);
}

/* The first reply routed by the FIB, whose answer the entry keeps. */
static int v_inbound_reply(struct env *env, const struct pkt *got, char *why,
			   size_t n)
{
	struct bl_nat_entry e;

	return expect_inbound_entry(env, IPPROTO_TCP, 8080, 40001, 2, &e, why, n) ?:
	       expect_fwd_cache(&e, why, n);
}

static int v_inbound_echo(struct env *env, const struct pkt *got, char *why,
			  size_t n)
{
	struct bl_nat_entry e;

	return expect_inbound_entry(env, IPPROTO_ICMP, 0, 0x4242, 2, &e, why, n) ?:
	       expect_fwd_cache(&e, why, n);
}

/* The second reply, sent by the kept answer (or looked up again). */
static int v_inbound_reply_cached(struct env *env, const struct pkt *got,
				  char *why, size_t n)
{
	struct bl_nat_entry e;

	return expect_inbound_entry(env, IPPROTO_TCP, 8080, 40001, 3, &e, why, n) ?:
	       expect_fwd_cache(&e, why, n);
}

static int v_inbound_reply_relooked(struct env *env, const struct pkt *got,
				    char *why, size_t n)
{
	struct bl_nat_entry e;

	return expect_inbound_entry(env, IPPROTO_TCP, 8080, 40001, 3, &e, why, n) ?:
	       expect_no_fwd_cache(&e, why, n);
}

static int v_inbound_echo_cached(struct env *env, const struct pkt *got,
				 char *why, size_t n)
{
	struct bl_nat_entry e;

	return expect_inbound_entry(env, IPPROTO_ICMP, 0, 0x4242, 3, &e, why, n) ?:
	       expect_fwd_cache(&e, why, n);
}

static const struct tcase cases[] = {
	/* pod to local pod: routed in BPF, straight into pod B */
	{ .name = "pod_to_pod_udp", .prog = FROM_POD,
	  .in = { A_TO(POD_B_IP, IPPROTO_UDP, 64) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_LOCAL,
	  .out = { A_TO_B_ROUTED(IPPROTO_UDP, 63) } },
	{ .name = "pod_to_pod_tcp", .prog = FROM_POD,
	  .in = { A_TO(POD_B_IP, IPPROTO_TCP, 64) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_LOCAL,
	  .out = { A_TO_B_ROUTED(IPPROTO_TCP, 63) } },
	{ .name = "pod_to_pod_icmp", .prog = FROM_POD,
	  .in = { A_TO(POD_B_IP, IPPROTO_ICMP, 64) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_LOCAL,
	  .out = { A_TO_B_ROUTED(IPPROTO_ICMP, 63) } },
	/* Options must survive and not confuse the header checksum. */
	{ .name = "pod_to_pod_ip_options", .prog = FROM_POD,
	  .in = { A_TO(POD_B_IP, IPPROTO_UDP, 64), .ihl = 6 },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_LOCAL,
	  .out = { A_TO_B_ROUTED(IPPROTO_UDP, 63), .ihl = 6 } },
	/* TTL 2 is the last one that is still forwarded. */
	{ .name = "pod_to_pod_ttl2", .prog = FROM_POD,
	  .in = { A_TO(POD_B_IP, IPPROTO_UDP, 2) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_LOCAL,
	  .out = { A_TO_B_ROUTED(IPPROTO_UDP, 1) } },
	/*
	 * IP id 0x23d3 gives the header checksum 0xfeff: the one value whose
	 * incremental TTL update carries around (RFC 1624). The expected
	 * checksum is computed from scratch: 0x0000, as the kernel's own
	 * ip_decrease_ttl() gives, not the equivalent 0xffff.
	 */
	{ .name = "pod_to_pod_csum_carry", .prog = FROM_POD,
	  .in = { A_TO(POD_B_IP, IPPROTO_UDP, 64), .ip_id = 0x23d3,
		  .want_csum = 0xfeff },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_LOCAL,
	  .out = { A_TO_B_ROUTED(IPPROTO_UDP, 63), .ip_id = 0x23d3 } },
	/* Headers beyond the linear area must be pulled, never skipped. */
	{ .name = "pod_to_pod_nonlinear", .prog = FROM_POD,
	  .in = { A_TO(POD_B_IP, IPPROTO_UDP, 64) }, .linear = ETH_HLEN,
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_LOCAL,
	  .out = { A_TO_B_ROUTED(IPPROTO_UDP, 63) } },

	/* ARP: the gateway exists only in BPF */
	{ .name = "arp_gateway_reply", .prog = FROM_POD,
	  .in = { ARP_FROM_A(ARPOP_REQUEST, GW_IP) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_ARP_REPLY,
	  .out = { .kind = PK_ARP, .dmac = pod_a_mac, .smac = host_a_mac,
		   .arp_op = ARPOP_REPLY, .sha = host_a_mac, .saddr = GW_IP,
		   .tha = pod_a_mac, .daddr = POD_A_IP } },
	/* Unicast re-validation of a cached entry (dst = gateway MAC). */
	{ .name = "arp_gateway_reply_unicast", .prog = FROM_POD,
	  .in = { .kind = PK_ARP, .dmac = host_a_mac, .smac = pod_a_mac,
		  .arp_op = ARPOP_REQUEST, .sha = pod_a_mac,
		  .saddr = POD_A_IP, .tha = zero_mac, .daddr = GW_IP },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_ARP_REPLY,
	  .out = { .kind = PK_ARP, .dmac = pod_a_mac, .smac = host_a_mac,
		   .arp_op = ARPOP_REPLY, .sha = host_a_mac, .saddr = GW_IP,
		   .tha = pod_a_mac, .daddr = POD_A_IP } },
	{ .name = "arp_other_address", .prog = FROM_POD,
	  .in = { ARP_FROM_A(ARPOP_REQUEST, POD_B_IP) },
	  .verdict = TC_ACT_OK, .reason = BL_PASS_ARP },
	{ .name = "arp_reply_from_pod", .prog = FROM_POD,
	  .in = { ARP_FROM_A(ARPOP_REPLY, GW_IP) },
	  .verdict = TC_ACT_OK, .reason = BL_PASS_ARP },
	{ .name = "arp_spoof_sender_ip", .prog = FROM_POD,
	  .in = { .kind = PK_ARP, .dmac = bcast_mac, .smac = pod_a_mac,
		  .arp_op = ARPOP_REQUEST, .sha = pod_a_mac,
		  .saddr = "10.244.1.99", .tha = zero_mac, .daddr = GW_IP },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_SPOOF_ARP },
	/* Pod B's address, claimed from pod A's veth. */
	{ .name = "arp_spoof_other_pod", .prog = FROM_POD,
	  .in = { .kind = PK_ARP, .dmac = bcast_mac, .smac = pod_a_mac,
		  .arp_op = ARPOP_REQUEST, .sha = pod_a_mac,
		  .saddr = POD_B_IP, .tha = zero_mac, .daddr = GW_IP },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_SPOOF_ARP },
	{ .name = "arp_spoof_sender_mac", .prog = FROM_POD,
	  .in = { .kind = PK_ARP, .dmac = bcast_mac, .smac = pod_a_mac,
		  .arp_op = ARPOP_REQUEST, .sha = evil_mac,
		  .saddr = POD_A_IP, .tha = zero_mac, .daddr = GW_IP },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_SPOOF_ARP },
	{ .name = "arp_spoof_eth_source", .prog = FROM_POD,
	  .in = { .kind = PK_ARP, .dmac = bcast_mac, .smac = evil_mac,
		  .arp_op = ARPOP_REQUEST, .sha = pod_a_mac,
		  .saddr = POD_A_IP, .tha = zero_mac, .daddr = GW_IP },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_SPOOF_ARP },
	{ .name = "arp_truncated", .prog = FROM_POD,
	  .in = { ARP_FROM_A(ARPOP_REQUEST, GW_IP), .trunc = ETH_HLEN + 20 },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_TRUNCATED },
	{ .name = "arp_eth_only", .prog = FROM_POD,
	  .in = { ARP_FROM_A(ARPOP_REQUEST, GW_IP), .trunc = ETH_HLEN },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_TRUNCATED },

	/* anti-spoofing */
	{ .name = "spoof_source_ip", .prog = FROM_POD,
	  .in = { .kind = PK_IPV4, .dmac = host_a_mac, .smac = pod_a_mac,
		  .saddr = "10.244.1.99", .daddr = POD_B_IP, .ttl = 64,
		  .l4 = IPPROTO_UDP },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_SPOOF_IP },
	/* A real endpoint's address, but not the one behind this veth. */
	{ .name = "spoof_source_ip_other_pod", .prog = FROM_POD,
	  .in = { .kind = PK_IPV4, .dmac = host_a_mac, .smac = pod_a_mac,
		  .saddr = POD_B_IP, .daddr = "8.8.8.8", .ttl = 64,
		  .l4 = IPPROTO_UDP },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_SPOOF_IP },
	{ .name = "spoof_source_mac", .prog = FROM_POD,
	  .in = { .kind = PK_IPV4, .dmac = host_a_mac, .smac = evil_mac,
		  .saddr = POD_A_IP, .daddr = POD_B_IP, .ttl = 64,
		  .l4 = IPPROTO_UDP },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_SPOOF_MAC },

	/* where a pod's packet goes when it is not for a local pod */
	{ .name = "no_endpoint_in_pod_cidr", .prog = FROM_POD,
	  .in = { A_TO("10.244.1.77", IPPROTO_UDP, 64) },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_NO_ENDPOINT },
	/* with masquerade off, the host stack decides (its own NAT, say) */
	{ .name = "masquerade_off_to_host", .prog = FROM_POD,
	  .needs_fib = true, .setup = masquerade_off,
	  .in = { A_TO(SRV_IP, IPPROTO_UDP, 64) },
	  .verdict = TC_ACT_OK, .reason = BL_PASS_HOST, .verify = nat_empty },
	/* the node's own address (kubelet, node services) is the host's */
	{ .name = "node_ip_to_host", .prog = FROM_POD, .needs_fib = true,
	  .in = { A_TO(NODE_IP, IPPROTO_TCP, 64) },
	  .verdict = TC_ACT_OK, .reason = BL_PASS_HOST, .verify = nat_empty },
	{ .name = "node_ip_to_host_masquerade_off", .prog = FROM_POD,
	  .setup = masquerade_off,
	  .in = { A_TO(NODE_IP, IPPROTO_TCP, 64) },
	  .verdict = TC_ACT_OK, .reason = BL_PASS_HOST },
	/*
	 * Cluster CIDR, other node: bpf_fib_lookup() in this test's private
	 * namespace (see setup_fib()). With a route and a neighbour the
	 * program routes and rewrites the MACs itself; with a route but no
	 * neighbour it leaves the MACs to bpf_redirect_neigh(); with no route,
	 * or forwarding off, the host stack must answer.
	 */
	{ .name = "cluster_fib_success", .prog = FROM_POD, .needs_fib = true,
	  .in = { A_TO(REMOTE_POD_IP, IPPROTO_UDP, 64) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_CLUSTER,
	  .out = { .kind = PK_IPV4, .dmac = neigh_mac, .smac = lo_mac,
		   .saddr = POD_A_IP, .daddr = REMOTE_POD_IP, .ttl = 63,
		   .l4 = IPPROTO_UDP } },
	{ .name = "cluster_fib_no_neigh", .prog = FROM_POD, .needs_fib = true,
	  .setup = neighbour_gone, .cleanup = neighbour_back,
	  .in = { A_TO(REMOTE_POD_IP, IPPROTO_UDP, 64) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_CLUSTER,
	  .out = { A_TO(REMOTE_POD_IP, IPPROTO_UDP, 63) } },
	{ .name = "cluster_fib_no_route", .prog = FROM_POD, .needs_fib = true,
	  .in = { A_TO(UNROUTED_POD_IP, IPPROTO_UDP, 64) },
	  .verdict = TC_ACT_OK, .reason = BL_PASS_FIB },
	{ .name = "cluster_fib_forwarding_off", .prog = FROM_POD,
	  .needs_fib = true, .setup = forwarding_off,
	  .cleanup = forwarding_on,
	  .in = { A_TO(REMOTE_POD_IP, IPPROTO_UDP, 64) },
	  .verdict = TC_ACT_OK, .reason = BL_PASS_FIB },
	{ .name = "cluster_ttl1", .prog = FROM_POD, .needs_fib = true,
	  .in = { A_TO(REMOTE_POD_IP, IPPROTO_UDP, 1) },
	  .verdict = TC_ACT_OK, .reason = BL_PASS_TTL },

	/* TTL expiring here: the host stack sends the ICMP time exceeded */
	{ .name = "ttl1_to_local_pod", .prog = FROM_POD,
	  .in = { A_TO(POD_B_IP, IPPROTO_UDP, 1) },
	  .verdict = TC_ACT_OK, .reason = BL_PASS_TTL },
	{ .name = "ttl0_to_local_pod", .prog = FROM_POD,
	  .in = { A_TO(POD_B_IP, IPPROTO_UDP, 0) },
	  .verdict = TC_ACT_OK, .reason = BL_PASS_TTL },

	/* malformed or unsupported frames from a pod */
	{ .name = "ipv6_from_pod", .prog = FROM_POD,
	  .in = { .kind = PK_IPV6, .dmac = host_a_mac, .smac = pod_a_mac },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_UNSUPPORTED_L3 },
	{ .name = "vlan_from_pod", .prog = FROM_POD,
	  .in = { A_TO(POD_B_IP, IPPROTO_UDP, 64), .eth_proto = ETH_P_8021Q },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_UNSUPPORTED_L3 },
	{ .name = "truncated_eth_only", .prog = FROM_POD,
	  .in = { A_TO(POD_B_IP, IPPROTO_UDP, 64), .trunc = ETH_HLEN },
	  .short_ip = true,
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_TRUNCATED },
	{ .name = "truncated_partial_ip", .prog = FROM_POD,
	  .in = { A_TO(POD_B_IP, IPPROTO_UDP, 64), .trunc = ETH_HLEN + 10 },
	  .short_ip = true,
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_TRUNCATED },
	{ .name = "bad_ihl", .prog = FROM_POD,
	  .in = { A_TO(POD_B_IP, IPPROTO_UDP, 64), .ihl = 4 },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_BAD_IP },
	{ .name = "bad_ip_version", .prog = FROM_POD,
	  .in = { A_TO(POD_B_IP, IPPROTO_UDP, 64), .version = 6 },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_BAD_IP },
	/*
	 * Before `node init` has written the config, nothing but local
	 * delivery can be decided: the reason must say so.
	 */
	{ .name = "unconfigured_node", .prog = FROM_POD,
	  .setup = unconfigure,
	  .in = { A_TO("8.8.8.8", IPPROTO_UDP, 64) },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_NO_CONFIG },

	/* uplink: other nodes' traffic for our pods, the host's own untouched */
	{ .name = "uplink_to_local_pod", .prog = FROM_UPLINK,
	  .in = { REMOTE_TO(POD_B_IP, 63) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_FROM_UPLINK,
	  .out = { .kind = PK_IPV4, .dmac = pod_b_mac, .smac = host_b_mac,
		   .saddr = REMOTE_POD_IP, .daddr = POD_B_IP, .ttl = 62,
		   .l4 = IPPROTO_UDP } },
	{ .name = "uplink_to_node", .prog = FROM_UPLINK,
	  .in = { .kind = PK_IPV4, .dmac = uplink_mac, .smac = ext_mac,
		  .saddr = EXT_IP, .daddr = NODE_IP, .ttl = 64,
		  .l4 = IPPROTO_TCP },
	  .verdict = TC_ACT_OK, .reason = NO_COUNT },
	{ .name = "uplink_to_unknown_pod", .prog = FROM_UPLINK,
	  .in = { REMOTE_TO("10.244.1.77", 63) },
	  .verdict = TC_ACT_OK, .reason = NO_COUNT },
	{ .name = "uplink_ttl1_to_local_pod", .prog = FROM_UPLINK,
	  .in = { REMOTE_TO(POD_B_IP, 1) },
	  .verdict = TC_ACT_OK, .reason = BL_PASS_TTL },
	{ .name = "uplink_arp", .prog = FROM_UPLINK,
	  .in = { .kind = PK_ARP, .dmac = bcast_mac, .smac = ext_mac,
		  .arp_op = ARPOP_REQUEST, .sha = ext_mac, .saddr = EXT_IP,
		  .tha = zero_mac, .daddr = NODE_IP },
	  .verdict = TC_ACT_OK, .reason = NO_COUNT },
	{ .name = "uplink_ipv6", .prog = FROM_UPLINK,
	  .in = { .kind = PK_IPV6, .dmac = uplink_mac, .smac = ext_mac },
	  .verdict = TC_ACT_OK, .reason = NO_COUNT },
	{ .name = "uplink_truncated_eth_only", .prog = FROM_UPLINK,
	  .in = { REMOTE_TO(POD_B_IP, 63), .trunc = ETH_HLEN },
	  .short_ip = true,
	  .verdict = TC_ACT_OK, .reason = NO_COUNT },
	{ .name = "uplink_truncated_partial_ip", .prog = FROM_UPLINK,
	  .in = { REMOTE_TO(POD_B_IP, 63), .trunc = ETH_HLEN + 10 },
	  .short_ip = true,
	  .verdict = TC_ACT_OK, .reason = NO_COUNT },
	{ .name = "uplink_bad_ihl", .prog = FROM_UPLINK,
	  .in = { REMOTE_TO(POD_B_IP, 63), .ihl = 4 },
	  .verdict = TC_ACT_OK, .reason = NO_COUNT },
	/*
	 * Not IPv4 despite the ethertype: the host's to judge, and delivering
	 * it would "decrement the TTL" in a header that has none.
	 */
	{ .name = "uplink_bad_ip_version", .prog = FROM_UPLINK,
	  .in = { REMOTE_TO(POD_B_IP, 63), .version = 6 },
	  .verdict = TC_ACT_OK, .reason = NO_COUNT },
	{ .name = "uplink_nonlinear", .prog = FROM_UPLINK,
	  .in = { REMOTE_TO(POD_B_IP, 63) }, .linear = ETH_HLEN,
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_FROM_UPLINK,
	  .out = { .kind = PK_IPV4, .dmac = pod_b_mac, .smac = host_b_mac,
		   .saddr = REMOTE_POD_IP, .daddr = POD_B_IP, .ttl = 62,
		   .l4 = IPPROTO_UDP } },
	/*
	 * SNAT, pod to the internet: route first (the FIB must know a way
	 * out), then translate the source to the node IP and a port of the
	 * NAT range. A pod port inside the range is kept when it is free
	 * towards that remote, which makes these frames exact.
	 */
	{ .name = "nat_egress_tcp_syn", .prog = FROM_POD, .needs_fib = true,
	  .in = { A_OUT(IPPROTO_TCP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .out = { NODE_OUT(IPPROTO_TCP, KEPT_PORT) }, .verify = v_tcp_kept },
	{ .name = "nat_egress_udp", .prog = FROM_POD, .needs_fib = true,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .out = { NODE_OUT(IPPROTO_UDP, KEPT_PORT) }, .verify = v_udp_kept },
	/* No checksum stays no checksum (RFC 768), not a "fixed" garbage one. */
	{ .name = "nat_egress_udp_zero_csum", .prog = FROM_POD, .needs_fib = true,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT), .udp_nocsum = true },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .out = { NODE_OUT(IPPROTO_UDP, KEPT_PORT), .udp_nocsum = true },
	  .verify = v_udp_kept },
	/* A translated UDP checksum that computes to 0 is sent as 0xffff. */
	{ .name = "nat_egress_udp_csum_becomes_ffff", .prog = FROM_POD,
	  .needs_fib = true,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT), .dport = CSUM0_DPORT },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .out = { NODE_OUT(IPPROTO_UDP, KEPT_PORT), .dport = CSUM0_DPORT,
		   .want_l4_csum = 0xffff },
	  .verify = v_udp_csum0 },
	{ .name = "nat_egress_icmp_echo", .prog = FROM_POD, .needs_fib = true,
	  .in = { A_TO(SRV_IP, IPPROTO_ICMP, 64), .echo_id = KEPT_ID },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .out = { NODE_OUT(IPPROTO_ICMP, 0), .echo_id = KEPT_ID },
	  .verify = v_echo_kept },
	{ .name = "nat_egress_ip_options", .prog = FROM_POD, .needs_fib = true,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT), .ihl = 6 },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .out = { NODE_OUT(IPPROTO_UDP, KEPT_PORT), .ihl = 6 },
	  .verify = v_udp_kept },
	/* Pod ports outside the range: NAT picks one inside it. */
	{ .name = "nat_egress_tcp_port_outside_range", .prog = FROM_POD,
	  .needs_fib = true, .any_port = true,
	  .in = { A_TO(SRV_IP, IPPROTO_TCP, 64) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .out = { NODE_OUT(IPPROTO_TCP, 0) }, .verify = v_tcp_any },
	{ .name = "nat_egress_udp_port_outside_range", .prog = FROM_POD,
	  .needs_fib = true, .any_port = true,
	  .in = { A_TO(SRV_IP, IPPROTO_UDP, 64) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .out = { NODE_OUT(IPPROTO_UDP, 0) }, .verify = v_udp_any },
	{ .name = "nat_egress_icmp_id_outside_range", .prog = FROM_POD,
	  .needs_fib = true, .any_port = true,
	  .in = { A_TO(SRV_IP, IPPROTO_ICMP, 64) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .out = { NODE_OUT(IPPROTO_ICMP, 0) }, .verify = v_echo_any },
	/* The flow's second packet uses its mapping: no new one. */
	{ .name = "nat_egress_existing_mapping", .prog = FROM_POD,
	  .needs_fib = true, .setup = setup_out_udp,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS,
	  .out = { NODE_OUT(IPPROTO_UDP, KEPT_PORT) }, .verify = v_udp_kept_twice },
	/*
	 * The mapping keeps the FIB's answer: the flow's next packets get the
	 * same bytes without a lookup, so a neighbour gone since then does not
	 * show. A new forwarding generation, an answer older than
	 * BL_NAT_FWD_MAX_AGE_NS or a packet over the cached MTU looks up again
	 * (and meets the unresolved neighbour: bpf_redirect_neigh, MACs left
	 * to it, nothing cached).
	 */
	{ .name = "nat_fwd_cache_same_bytes", .prog = FROM_POD,
	  .needs_fib = true, .setup = setup_out_udp,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS,
	  .out = { NODE_OUT(IPPROTO_UDP, KEPT_PORT) }, .verify = v_fwd_cached },
	{ .name = "nat_fwd_cache_skips_fib", .prog = FROM_POD,
	  .needs_fib = true, .setup = cached_then_neighbour_gone,
	  .cleanup = neighbour_back,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS,
	  .out = { NODE_OUT(IPPROTO_UDP, KEPT_PORT) }, .verify = v_fwd_cached },
	{ .name = "nat_fwd_cache_stale_generation", .prog = FROM_POD,
	  .needs_fib = true, .setup = cached_then_gen_bumped,
	  .cleanup = neighbour_back,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS,
	  .out = { NODE_OUT_UNRESOLVED(IPPROTO_UDP, KEPT_PORT) },
	  .verify = v_fwd_relooked },
	{ .name = "nat_fwd_cache_expired", .prog = FROM_POD,
	  .needs_fib = true, .setup = cached_then_aged,
	  .cleanup = neighbour_back,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS,
	  .out = { NODE_OUT_UNRESOLVED(IPPROTO_UDP, KEPT_PORT) },
	  .verify = v_fwd_relooked },
	{ .name = "nat_fwd_cache_over_mtu", .prog = FROM_POD,
	  .needs_fib = true, .setup = cached_then_small_mtu,
	  .cleanup = neighbour_back,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS,
	  .out = { NODE_OUT_UNRESOLVED(IPPROTO_UDP, KEPT_PORT) },
	  .verify = v_fwd_relooked },
	/*
	 * Another flow owns the kept port towards this remote: another port
	 * of the range, at random ...
	 */
	{ .name = "nat_port_collision", .prog = FROM_POD, .needs_fib = true,
	  .setup = occupy_kept_udp, .any_port = true,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .out = { NODE_OUT(IPPROTO_UDP, 0) }, .verify = v_udp_moved_random },
	/* ... and in a range no larger than the tries, the next one. */
	{ .name = "nat_port_collision_small_range", .prog = FROM_POD,
	  .needs_fib = true, .setup = occupy_kept_small,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .out = { NODE_OUT(IPPROTO_UDP, KEPT_PORT + 1) }, .verify = v_udp_moved },
	/* Random tries skip ports other flows hold. */
	{ .name = "nat_port_random_tries_skip_taken", .prog = FROM_POD,
	  .needs_fib = true, .setup = occupy_odd, .any_port = true,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .out = { NODE_OUT(IPPROTO_UDP, 0) }, .verify = v_udp_free_even },
	/* ... but towards another remote port the same node port is free. */
	{ .name = "nat_port_reuse_other_remote_port", .prog = FROM_POD,
	  .needs_fib = true, .setup = occupy_kept_udp,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT), .dport = 123 },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .out = { NODE_OUT(IPPROTO_UDP, KEPT_PORT), .dport = 123 },
	  .verify = v_udp_other_rport },
	/*
	 * The LRU evicts a mapping's two halves independently. A SYN (a new
	 * connection on the tuple) always checks its mapping: a lost ingress
	 * half is put back, a lost egress half is adopted from its ingress
	 * half (same port both times) ...
	 */
	{ .name = "nat_lost_ingress_half_restored", .prog = FROM_POD,
	  .needs_fib = true, .setup = out_tcp_lost_ingress,
	  .in = { A_OUT(IPPROTO_TCP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS,
	  .also = BL_NAT_HALF_RESTORED,
	  .out = { NODE_OUT(IPPROTO_TCP, KEPT_PORT) }, .verify = v_tcp_pair_whole },
	{ .name = "nat_lost_egress_half_adopted", .prog = FROM_POD,
	  .needs_fib = true, .setup = out_tcp_lost_egress,
	  .in = { A_OUT(IPPROTO_TCP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS,
	  .also = BL_NAT_HALF_RESTORED,
	  .out = { NODE_OUT(IPPROTO_TCP, KEPT_PORT) }, .verify = v_tcp_pair_whole },
	/*
	 * ... and when another flow has taken the port meanwhile, the stale
	 * mapping is replaced by a new one (its replies would reach the other
	 * flow), counted; the other flow keeps its port.
	 */
	{ .name = "nat_stale_mapping_replaced", .prog = FROM_POD,
	  .needs_fib = true, .setup = out_tcp_port_taken, .any_port = true,
	  .in = { A_OUT(IPPROTO_TCP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .also = BL_NAT_STALE_REPLACED,
	  .out = { NODE_OUT(IPPROTO_TCP, 0) }, .verify = v_tcp_replaced },
	/*
	 * A small range is walked in full: the last port tried (the one
	 * before the kept port, after wrapping) is found ...
	 */
	{ .name = "nat_port_small_range_last_try", .prog = FROM_POD,
	  .needs_fib = true, .setup = occupy_small_but_one,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .out = { NODE_OUT(IPPROTO_UDP, KEPT_PORT - 1) },
	  .verify = v_udp_last_try },
	/* ... and with every port taken the packet is dropped, counted */
	{ .name = "nat_port_small_range_full", .prog = FROM_POD,
	  .needs_fib = true, .setup = occupy_small_all,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT) },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_NAT_NO_PORT,
	  .verify = v_no_port },
	{ .name = "nat_port_search_wraps", .prog = FROM_POD, .needs_fib = true,
	  .setup = occupy_wrap,
	  .in = { A_OUT(IPPROTO_UDP, KEPT_PORT) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS, .nat_new = true,
	  .out = { NODE_OUT(IPPROTO_UDP, KEPT_PORT - 9) },
	  .verify = v_udp_wrapped },
	/* A two-port range, both ports in use towards this remote. */
	{ .name = "nat_range_full", .prog = FROM_POD, .needs_fib = true,
	  .setup = setup_range_full,
	  .in = { A_OUT(IPPROTO_UDP, 40002) },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_NAT_NO_PORT,
	  .verify = v_range_full },
	/* Where NAT must not happen, or not yet. */
	{ .name = "nat_no_masquerade_dst", .prog = FROM_POD, .needs_fib = true,
	  .in = { A_TO(NOMASQ_IP, IPPROTO_UDP, 64) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_CLUSTER,
	  .out = { .kind = PK_IPV4, .dmac = neigh_mac, .smac = lo_mac,
		   .saddr = POD_A_IP, .daddr = NOMASQ_IP, .ttl = 63,
		   .l4 = IPPROTO_UDP },
	  .verify = nat_empty },
	{ .name = "nat_no_route_no_mapping", .prog = FROM_POD, .needs_fib = true,
	  .in = { A_TO(UNROUTED_EXT_IP, IPPROTO_UDP, 64), .sport = KEPT_PORT },
	  .verdict = TC_ACT_OK, .reason = BL_PASS_FIB, .verify = nat_empty },
	{ .name = "nat_ttl1_no_mapping", .prog = FROM_POD, .needs_fib = true,
	  .in = { A_TO(SRV_IP, IPPROTO_UDP, 1), .sport = KEPT_PORT },
	  .verdict = TC_ACT_OK, .reason = BL_PASS_TTL, .verify = nat_empty },
	/* A later fragment has no ports: only the source address changes. */
	{ .name = "nat_egress_later_fragment", .prog = FROM_POD,
	  .needs_fib = true,
	  .in = { LATER_FRAG },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS,
	  .out = { NODE_OUT(IPPROTO_UDP, KEPT_PORT), .frag = 185,
		   .l4_csum_as = &later_frag },
	  .verify = nat_empty },
	/* An echo reply from a pod nobody pinged is nothing NAT can map. */
	{ .name = "nat_unsolicited_echo_reply", .prog = FROM_POD,
	  .needs_fib = true,
	  .in = { A_TO(SRV_IP, IPPROTO_ICMP, 64), .echo_reply = true },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_NAT_UNSUPPORTED,
	  .verify = nat_empty },

	/* Replies on the uplink, translated back and into the pod. */
	{ .name = "nat_reply_tcp_synack", .prog = FROM_UPLINK,
	  .setup = setup_out_tcp,
	  .in = { FROM_SRV(NODE_IP, IPPROTO_TCP), .sport = 80,
		  .dport = KEPT_PORT, .tcp_flags = 0x12 },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INGRESS,
	  .out = { SRV_TO_A(IPPROTO_TCP), .sport = 80, .dport = KEPT_PORT,
		   .tcp_flags = 0x12 },
	  .verify = v_tcp_reply },
	{ .name = "nat_reply_udp", .prog = FROM_UPLINK, .setup = setup_out_udp,
	  .in = { FROM_SRV(NODE_IP, IPPROTO_UDP), .sport = 53, .dport = KEPT_PORT },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INGRESS,
	  .out = { SRV_TO_A(IPPROTO_UDP), .sport = 53, .dport = KEPT_PORT } },
	{ .name = "nat_reply_udp_zero_csum", .prog = FROM_UPLINK,
	  .setup = setup_out_udp_nocsum,
	  .in = { FROM_SRV(NODE_IP, IPPROTO_UDP), .sport = 53, .dport = KEPT_PORT,
		  .udp_nocsum = true },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INGRESS,
	  .out = { SRV_TO_A(IPPROTO_UDP), .sport = 53, .dport = KEPT_PORT,
		   .udp_nocsum = true } },
	/* node port KEPT_PORT + 1 back to the pod's KEPT_PORT */
	{ .name = "nat_reply_udp_port_restored", .prog = FROM_UPLINK,
	  .setup = setup_out_udp_moved,
	  .in = { FROM_SRV(NODE_IP, IPPROTO_UDP), .sport = 53,
		  .dport = KEPT_PORT + 1 },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INGRESS,
	  .out = { SRV_TO_A(IPPROTO_UDP), .sport = 53, .dport = KEPT_PORT } },
	{ .name = "nat_reply_icmp_echo", .prog = FROM_UPLINK,
	  .setup = setup_out_echo,
	  .in = { FROM_SRV(NODE_IP, IPPROTO_ICMP), .echo_reply = true,
		  .echo_id = KEPT_ID },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INGRESS,
	  .out = { SRV_TO_A(IPPROTO_ICMP), .echo_reply = true,
		   .echo_id = KEPT_ID } },
	{ .name = "nat_reply_icmp_echo_id_restored", .prog = FROM_UPLINK,
	  .setup = setup_out_echo_moved,
	  .in = { FROM_SRV(NODE_IP, IPPROTO_ICMP), .echo_reply = true,
		  .echo_id = KEPT_ID + 1 },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INGRESS,
	  .out = { SRV_TO_A(IPPROTO_ICMP), .echo_reply = true,
		   .echo_id = KEPT_ID } },
	/* FIN and RST are recorded per direction for the collector. */
	{ .name = "nat_tcp_fin_recorded", .prog = FROM_POD, .needs_fib = true,
	  .setup = setup_out_tcp,
	  .in = { A_OUT(IPPROTO_TCP, KEPT_PORT), .tcp_flags = 0x11 },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_EGRESS,
	  .out = { NODE_OUT(IPPROTO_TCP, KEPT_PORT), .tcp_flags = 0x11 },
	  .verify = v_tcp_fin },
	{ .name = "nat_reply_rst_recorded", .prog = FROM_UPLINK,
	  .setup = setup_out_tcp,
	  .in = { FROM_SRV(NODE_IP, IPPROTO_TCP), .sport = 80,
		  .dport = KEPT_PORT, .tcp_flags = 0x14 },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INGRESS,
	  .out = { SRV_TO_A(IPPROTO_TCP), .sport = 80, .dport = KEPT_PORT,
		   .tcp_flags = 0x14 },
	  .verify = v_tcp_rst },
	/*
	 * A fragmented reply: the first fragment is translated like any
	 * reply; the later ones, which carry no ports, follow it to the pod
	 * (only the destination changes). Without a first fragment seen, a
	 * later one is the host's (its own traffic, reassembled there).
	 */
	{ .name = "nat_reply_first_fragment", .prog = FROM_UPLINK,
	  .setup = setup_out_udp,
	  .in = { REPLY_FRAG(0x2000) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INGRESS,
	  .out = { SRV_TO_A(IPPROTO_UDP), .sport = 53, .dport = KEPT_PORT,
		   .ip_id = 0x5151, .frag = 0x2000 } },
	{ .name = "nat_reply_later_fragment", .prog = FROM_UPLINK,
	  .setup = setup_reply_first_frag,
	  .in = { REPLY_FRAG(185) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INGRESS,
	  .out = { SRV_TO_A(IPPROTO_UDP), .sport = 53, .dport = KEPT_PORT,
		   .ip_id = 0x5151, .frag = 185, .l4_csum_as = &reply_later_frag } },
	{ .name = "nat_later_fragment_not_ours", .prog = FROM_UPLINK,
	  .setup = setup_out_udp,
	  .in = { REPLY_FRAG(185) },
	  .verdict = TC_ACT_OK, .reason = NO_COUNT },
	/* No mapping: the host's to judge, counted, never rewritten. */
	{ .name = "nat_reverse_miss", .prog = FROM_UPLINK,
	  .in = { FROM_SRV(NODE_IP, IPPROTO_TCP), .sport = 80,
		  .dport = KEPT_PORT, .tcp_flags = 0x12 },
	  .verdict = TC_ACT_OK, .reason = BL_NAT_REVERSE_MISS },
	/* The mapping is for SRV_IP:53 only (endpoint-dependent filtering). */
	{ .name = "nat_reply_from_other_remote_port", .prog = FROM_UPLINK,
	  .setup = setup_out_udp,
	  .in = { FROM_SRV(NODE_IP, IPPROTO_UDP), .sport = 54, .dport = KEPT_PORT },
	  .verdict = TC_ACT_OK, .reason = BL_NAT_REVERSE_MISS },
	/* The node answering a ping whose id happens to be in the range. */
	{ .name = "nat_echo_request_to_node", .prog = FROM_UPLINK,
	  .setup = setup_out_echo,
	  .in = { FROM_SRV(NODE_IP, IPPROTO_ICMP), .echo_id = KEPT_ID },
	  .verdict = TC_ACT_OK, .reason = NO_COUNT },

	/*
	 * ICMP errors about a translated packet: outer destination, quoted
	 * source address and port, quoted IP checksum and the ICMP checksum
	 * translated back; the quoted L4 checksum is left as it was.
	 */
	{ .name = "nat_icmp_frag_needed_udp", .prog = FROM_UPLINK,
	  .setup = setup_out_udp_moved,
	  .in = { ERR_TO(NODE_IP, uplink_mac, ext_mac, 64, ICMP_DEST_UNREACH,
			 ICMP_FRAG_NEEDED, &q_udp_node), .err_mtu = 1200 },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_ICMP_ERROR,
	  .out = { ERR_TO(POD_A_IP, pod_a_mac, host_a_mac, 63, ICMP_DEST_UNREACH,
			  ICMP_FRAG_NEEDED, &q_udp_pod), .err_mtu = 1200 } },
	/* RFC 792 routers quote 8 bytes: TCP ports and sequence number only */
	{ .name = "nat_icmp_time_exceeded_tcp", .prog = FROM_UPLINK,
	  .setup = setup_out_tcp,
	  .in = { ERR_TO(NODE_IP, uplink_mac, ext_mac, 64, ICMP_TIME_EXCEEDED,
			 ICMP_EXC_TTL, &q_tcp_node) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_ICMP_ERROR,
	  .out = { ERR_TO(POD_A_IP, pod_a_mac, host_a_mac, 63, ICMP_TIME_EXCEEDED,
			  ICMP_EXC_TTL, &q_tcp_pod) } },
	{ .name = "nat_icmp_time_exceeded_tcp_long_quote", .prog = FROM_UPLINK,
	  .setup = setup_out_tcp,
	  .in = { ERR_TO(NODE_IP, uplink_mac, ext_mac, 64, ICMP_TIME_EXCEEDED,
			 ICMP_EXC_TTL, &q_tcp_node_long) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_ICMP_ERROR,
	  .out = { ERR_TO(POD_A_IP, pod_a_mac, host_a_mac, 63, ICMP_TIME_EXCEEDED,
			  ICMP_EXC_TTL, &q_tcp_pod_long) } },
	{ .name = "nat_icmp_time_exceeded_echo", .prog = FROM_UPLINK,
	  .setup = setup_out_echo_moved,
	  .in = { ERR_TO(NODE_IP, uplink_mac, ext_mac, 64, ICMP_TIME_EXCEEDED,
			 ICMP_EXC_TTL, &q_echo_node) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_ICMP_ERROR,
	  .out = { ERR_TO(POD_A_IP, pod_a_mac, host_a_mac, 63, ICMP_TIME_EXCEEDED,
			  ICMP_EXC_TTL, &q_echo_pod) } },
	{ .name = "nat_icmp_port_unreachable_udp", .prog = FROM_UPLINK,
	  .setup = setup_out_udp_moved,
	  .in = { ERR_TO(NODE_IP, uplink_mac, ext_mac, 64, ICMP_DEST_UNREACH,
			 ICMP_PORT_UNREACH, &q_udp_node) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_ICMP_ERROR,
	  .out = { ERR_TO(POD_A_IP, pod_a_mac, host_a_mac, 63, ICMP_DEST_UNREACH,
			  ICMP_PORT_UNREACH, &q_udp_pod) } },
	{ .name = "nat_icmp_error_no_mapping", .prog = FROM_UPLINK,
	  .setup = setup_out_udp,
	  .in = { ERR_TO(NODE_IP, uplink_mac, ext_mac, 64, ICMP_DEST_UNREACH,
			 ICMP_FRAG_NEEDED, &q_udp_unmapped), .err_mtu = 1200 },
	  .verdict = TC_ACT_OK, .reason = BL_NAT_REVERSE_MISS },
	/* about the host's own traffic: not NAT's business at all */
	{ .name = "nat_icmp_error_host_flow", .prog = FROM_UPLINK,
	  .setup = setup_out_udp,
	  .in = { ERR_TO(NODE_IP, uplink_mac, ext_mac, 64, ICMP_DEST_UNREACH,
			 ICMP_FRAG_NEEDED, &q_udp_host), .err_mtu = 1200 },
	  .verdict = TC_ACT_OK, .reason = NO_COUNT },

	/*
	 * A flow from the internet straight to a pod (routed to the pod CIDR,
	 * no NAT): its replies must leave with the pod's address, so the
	 * first packet in records an inbound entry.
	 */
	{ .name = "nat_inbound_records_flow", .prog = FROM_UPLINK,
	  .in = { FROM_SRV(POD_A_IP, IPPROTO_TCP), .sport = 40001, .dport = 8080 },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_FROM_UPLINK,
	  .out = { SRV_TO_A(IPPROTO_TCP), .sport = 40001, .dport = 8080 },
	  .verify = v_inbound_syn },
	{ .name = "nat_inbound_reply_untranslated", .prog = FROM_POD,
	  .needs_fib = true, .setup = setup_inbound_syn,
	  .in = { A_INBOUND_REPLY(host_a_mac, pod_a_mac, 64, 0x12) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INBOUND_REPLY,
	  .out = { A_INBOUND_REPLY(neigh_mac, lo_mac, 63, 0x12) },
	  .verify = v_inbound_reply },
	{ .name = "nat_inbound_echo_reply_untranslated", .prog = FROM_POD,
	  .needs_fib = true, .setup = setup_inbound_echo,
	  .in = { A_INBOUND_ECHO_REPLY(host_a_mac, pod_a_mac, 64) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INBOUND_REPLY,
	  .out = { A_INBOUND_ECHO_REPLY(neigh_mac, lo_mac, 63) },
	  .verify = v_inbound_echo },
	/*
	 * The inbound entry keeps the FIB's answer as a translated flow's
	 * does: the next replies are sent without a lookup, so the neighbour
	 * gone since does not show; a new generation looks up again.
	 */
	{ .name = "nat_inbound_reply_fwd_cache_skips_fib", .prog = FROM_POD,
	  .needs_fib = true, .setup = inbound_replied_then_neighbour_gone,
	  .cleanup = neighbour_back,
	  .in = { A_INBOUND_REPLY(host_a_mac, pod_a_mac, 64, 0x10) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INBOUND_REPLY,
	  .out = { A_INBOUND_REPLY(neigh_mac, lo_mac, 63, 0x10) },
	  .verify = v_inbound_reply_cached },
	{ .name = "nat_inbound_echo_reply_fwd_cache_skips_fib", .prog = FROM_POD,
	  .needs_fib = true, .setup = inbound_echo_replied_then_neighbour_gone,
	  .cleanup = neighbour_back,
	  .in = { A_INBOUND_ECHO_REPLY(host_a_mac, pod_a_mac, 64) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INBOUND_REPLY,
	  .out = { A_INBOUND_ECHO_REPLY(neigh_mac, lo_mac, 63) },
	  .verify = v_inbound_echo_cached },
	{ .name = "nat_inbound_reply_fwd_cache_stale_generation", .prog = FROM_POD,
	  .needs_fib = true, .setup = inbound_replied_then_gen_bumped,
	  .cleanup = neighbour_back,
	  .in = { A_INBOUND_REPLY(host_a_mac, pod_a_mac, 64, 0x10) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INBOUND_REPLY,
	  .out = { A_INBOUND_REPLY(host_a_mac, pod_a_mac, 63, 0x10) },
	  .verify = v_inbound_reply_relooked },
	/*
	 * The pod's own ICMP error about an inbound datagram (port
	 * unreachable) belongs to that flow: it leaves untranslated too.
	 */
	{ .name = "nat_inbound_icmp_error_from_pod", .prog = FROM_POD,
	  .needs_fib = true, .setup = setup_inbound_udp_closed,
	  .in = { A_PORT_UNREACH(host_a_mac, pod_a_mac, 64) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INBOUND_REPLY,
	  .out = { A_PORT_UNREACH(neigh_mac, lo_mac, 63) } },
	/* ... likewise one about an inbound ping */
	{ .name = "nat_inbound_icmp_error_quoting_echo", .prog = FROM_POD,
	  .needs_fib = true, .setup = setup_inbound_echo,
	  .in = { A_ERR(ICMP_PARAMETERPROB, 0, &q_in_echo) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_INBOUND_REPLY,
	  .out = { ERR_TO_SRV(neigh_mac, lo_mac, POD_A_IP, 63,
			      ICMP_PARAMETERPROB, 0, &q_in_echo) } },
	/* ... and one about no known flow cannot go anywhere */
	{ .name = "nat_icmp_error_from_pod_unknown", .prog = FROM_POD,
	  .needs_fib = true,
	  .in = { A_PORT_UNREACH(host_a_mac, pod_a_mac, 64) },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_NAT_ICMP_NO_FLOW,
	  .verify = nat_empty },
	/*
	 * The pod's ICMP errors about its own translated flows leave
	 * translated, as Linux conntrack does it: the server's reply arrived
	 * after pod A closed its socket. The expected frame of the first is
	 * also given byte for byte (golden).
	 */
	{ .name = "nat_pod_port_unreachable_udp_translated", .prog = FROM_POD,
	  .needs_fib = true, .setup = setup_out_udp_moved,
	  .in = { A_ERR(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, &q_reply_udp_pod) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_ICMP_ERROR_OUT,
	  .out = { NODE_ERR(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH,
			    &q_reply_udp_node) },
	  .golden = golden_port_unreach_out, .golden_len = sizeof(golden_port_unreach_out),
	  .verify = v_udp_moved },
	{ .name = "nat_pod_param_problem_tcp_translated", .prog = FROM_POD,
	  .needs_fib = true, .setup = setup_out_tcp,
	  .in = { A_ERR(ICMP_PARAMETERPROB, 0, &q_reply_tcp_pod) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_ICMP_ERROR_OUT,
	  .out = { NODE_ERR(ICMP_PARAMETERPROB, 0, &q_reply_tcp_node) } },
	/* an error about an echo reply: the quoted id is the node's again */
	{ .name = "nat_pod_time_exceeded_echo_reply_translated", .prog = FROM_POD,
	  .needs_fib = true, .setup = setup_out_echo_moved,
	  .in = { A_ERR(ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, &q_reply_echo_pod) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_ICMP_ERROR_OUT,
	  .out = { NODE_ERR(ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME,
			    &q_reply_echo_node) } },
	/* next hop unresolved: translated, for bpf_redirect_neigh */
	{ .name = "nat_pod_icmp_error_translated_unresolved", .prog = FROM_POD,
	  .needs_fib = true, .setup = moved_then_neighbour_gone,
	  .cleanup = neighbour_back,
	  .in = { A_ERR(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, &q_reply_udp_pod) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_NAT_ICMP_ERROR_OUT,
	  .out = { ERR_TO_SRV(host_a_mac, pod_a_mac, NODE_IP, 63,
			      ICMP_DEST_UNREACH, ICMP_PORT_UNREACH,
			      &q_reply_udp_node) } },
	/* no mapping for the quoted tuple: dropped, counted */
	{ .name = "nat_pod_icmp_error_no_mapping", .prog = FROM_POD,
	  .needs_fib = true, .setup = setup_out_udp,
	  .in = { A_ERR(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH,
			&q_reply_udp_other_rport) },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_NAT_ICMP_NO_FLOW,
	  .verify = v_udp_kept },
	/* another pod's flow is not pod A's to report on */
	{ .name = "nat_pod_icmp_error_other_pods_flow", .prog = FROM_POD,
	  .needs_fib = true, .setup = setup_pod_b_flow,
	  .in = { A_ERR(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH,
			&q_reply_udp_pod_b) },
	  .verdict = TC_ACT_SHOT, .reason = BL_DROP_NAT_ICMP_NO_FLOW },
	/*
	 * What the host stack delivers to a pod (to_pod, host veth egress):
	 * a connection it rewrote on the way in (hostPort DNAT) is recorded,
	 * and the pod's replies go back to the host stack, which undoes its
	 * own rewrite. Kubelet probes (from the node IP) and cluster traffic
	 * need nothing.
	 */
	{ .name = "to_pod_records_host_delivered_flow", .prog = TO_POD,
	  .in = { HOST_TO_A(SRV_IP) },
	  .verdict = TC_ACT_OK, .reason = NO_COUNT, .verify = v_via_host_syn },
	{ .name = "nat_via_host_reply_to_host", .prog = FROM_POD,
	  .needs_fib = true, .setup = setup_host_syn,
	  .in = { A_TO(SRV_IP, IPPROTO_TCP, 64), .sport = 80, .dport = 40001,
		  .tcp_flags = 0x12 },
	  .verdict = TC_ACT_OK, .reason = BL_PASS_NAT_VIA_HOST,
	  .verify = v_via_host_reply },
	{ .name = "to_pod_node_ip_not_recorded", .prog = TO_POD,
	  .in = { HOST_TO_A(NODE_IP) },
	  .verdict = TC_ACT_OK, .reason = NO_COUNT, .verify = nat_empty },
	{ .name = "to_pod_cluster_not_recorded", .prog = TO_POD,
	  .in = { HOST_TO_A(REMOTE_POD_IP) },
	  .verdict = TC_ACT_OK, .reason = NO_COUNT, .verify = nat_empty },
	{ .name = "to_pod_masquerade_off_not_recorded", .prog = TO_POD,
	  .setup = masquerade_off,
	  .in = { HOST_TO_A(SRV_IP) },
	  .verdict = TC_ACT_OK, .reason = NO_COUNT, .verify = nat_empty },
	/* From inside the cluster or a no-masquerade source: nothing to remember */
	{ .name = "nat_inbound_from_cluster_not_recorded", .prog = FROM_UPLINK,
	  .in = { REMOTE_TO(POD_A_IP, 63) },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_FROM_UPLINK,
	  .out = { .kind = PK_IPV4, .dmac = pod_a_mac, .smac = host_a_mac,
		   .saddr = REMOTE_POD_IP, .daddr = POD_A_IP, .ttl = 62,
		   .l4 = IPPROTO_UDP },
	  .verify = nat_empty },
	{ .name = "nat_inbound_from_nomasq_not_recorded", .prog = FROM_UPLINK,
	  .in = { .kind = PK_IPV4, .dmac = uplink_mac, .smac = ext_mac,
		  .saddr = NOMASQ_IP, .daddr = POD_A_IP, .ttl = 64,
		  .l4 = IPPROTO_UDP },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_FROM_UPLINK,
	  .out = { .kind = PK_IPV4, .dmac = pod_a_mac, .smac = host_a_mac,
		   .saddr = NOMASQ_IP, .daddr = POD_A_IP, .ttl = 63,
		   .l4 = IPPROTO_UDP },
	  .verify = nat_empty },
	{ .name = "nat_inbound_masquerade_off_not_recorded", .prog = FROM_UPLINK,
	  .setup = masquerade_off,
	  .in = { FROM_SRV(POD_A_IP, IPPROTO_TCP), .sport = 40001, .dport = 8080 },
	  .verdict = TC_ACT_REDIRECT, .reason = BL_FWD_FROM_UPLINK,
	  .out = { SRV_TO_A(IPPROTO_TCP), .sport = 40001, .dport = 8080 },
	  .verify = nat_empty },
};

/* ---- running and judging one case --------------------------------------- */

static const char *verdict_name(int v)
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

static bool diff_bytes(const struct pkt *got, const struct pkt *want,
		       char *why, size_t n)
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
static bool bad_csums(const struct pkt *p, char *why, size_t n)
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

static bool diff_counters(const struct bl_counter_val *before,
			  const struct bl_counter_val *after, int reason,
			  int reason2, int reason3, __u32 len, char *why, size_t n)
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

/*
 * A linear area smaller than the frame needs a kernel whose test_run builds
 * non-linear skbs from ctx->data_end (Linux 6.19 and later); older ones reject
 * a nonzero data_end with EINVAL. Asked once, with a frame that needs nothing
 * from the program, so the answer is about test_run, not about the datapath.
 */
static const char *nonlinear_support(struct env *env)
{
	struct __sk_buff ctx = { .data_end = ETH_HLEN };
	struct pkt_spec s = { REMOTE_TO(NODE_IP, 64) };
	__u8 out[PKT_MAX];
	char why[64];
	struct pkt p;
	int err;

	if (env->nonlinear_checked)
		return env->nonlinear_skip;
	env->nonlinear_checked = true;
	if (build(&p, &s, why, sizeof(why)))
		return env->nonlinear_skip = "test bug: probe frame";
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p.b,
		    .data_size_in = p.len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	err = bpf_prog_test_run_opts(
		bpf_program__fd(env->skel->progs.from_uplink), &opts);
	if (err)
		env->nonlinear_skip =
			"this kernel's BPF_PROG_TEST_RUN copies the frame into one linear buffer (ctx data_end rejected; non-linear skbs need Linux 6.19+)";
	return env->nonlinear_skip;
}

/* Returns 0 pass, 1 fail, 2 skip; why says what went wrong. */
static int run_case(struct env *env, const struct tcase *tc, char *why,
		    size_t n)
{
	struct bl_counter_val before[BL_COUNTER_MAX], after[BL_COUNTER_MAX];
	struct __sk_buff ctx = {};
	struct pkt in, want, got;
	const char *skip;
	int err, fd, ret = 1;

	if (tc->needs_fib && env->fib_skip) {
		snprintf(why, n, "%s", env->fib_skip);
		return 2;
	}
	if (tc->linear) {
		skip = nonlinear_support(env);
		if (skip) {
			snprintf(why, n, "%s", skip);
			return 2;
		}
		ctx.data_end = tc->linear;
	}
	if (build(&in, &tc->in, why, n))
		return 1;
	if (tc->out.kind == PK_NONE)
		want = in;
	else if (build(&want, &tc->out, why, n))
		return 1;
	if (tc->golden && (want.len != tc->golden_len ||
			   memcmp(want.b, tc->golden, want.len))) {
		struct pkt g = { .len = tc->golden_len };
		char d[256];

		memcpy(g.b, tc->golden, g.len < PKT_MAX ? g.len : PKT_MAX);
		diff_bytes(&want, &g, d, sizeof(d));
		snprintf(why, n, "test bug: built frame is not the golden one: %s", d);
		return 1;
	}

	/*
	 * Every case starts from the configured node and an empty NAT table;
	 * a setup may change either.
	 */
	err = nat_clear(env);
	if (!err)
		err = write_config(env, true);
	if (!err && tc->setup)
		err = tc->setup(env);
	if (err) {
		snprintf(why, n, "setup: %s", strerror(-err));
		goto out;
	}
	err = read_counters(env, before);
	if (err) {
		snprintf(why, n, "reading counters: %s", strerror(-err));
		goto out;
	}

	memset(&got, 0, sizeof(got));
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.b,
		    .data_size_in = in.len, .data_out = got.b,
		    .data_size_out = sizeof(got.b), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	fd = prog_fd(env, tc->prog);
	err = bpf_prog_test_run_opts(fd, &opts);
	if (err && errno == EINVAL && tc->short_ip) {
		snprintf(why, n, "this kernel's BPF_PROG_TEST_RUN refuses an IPv4 frame of %u bytes (shorter than eth + IPv4 header) with EINVAL",
			 in.len);
		ret = 2;
		goto out;
	}
	if (err) {
		snprintf(why, n, "BPF_PROG_TEST_RUN: %s", strerror(errno));
		goto out;
	}
	got.len = opts.data_size_out;

	err = read_counters(env, after);
	if (err) {
		snprintf(why, n, "reading counters: %s", strerror(-err));
		goto out;
	}
	if ((int)opts.retval != tc->verdict) {
		snprintf(why, n, "verdict %d (%s), want %d (%s)", opts.retval,
			 verdict_name(opts.retval), tc->verdict,
			 verdict_name(tc->verdict));
		goto out;
	}
	if (tc->any_port) {
		struct pkt_spec o = tc->out;
		__u16 port = egress_port(&got), lo = 0, hi = 0;

		err = read_nat_range(env, &lo, &hi);
		if (err) {
			snprintf(why, n, "reading config: %s", strerror(-err));
			goto out;
		}
		if (port < lo || port > hi) {
			snprintf(why, n, "node port %u outside the NAT range %u-%u",
				 port, lo, hi);
			goto out;
		}
		if (o.l4 == IPPROTO_ICMP)
			o.echo_id = port;
		else
			o.sport = port;
		if (build(&want, &o, why, n))
			goto out;
	}
	if (diff_bytes(&got, &want, why, n))
		goto out;
	if (tc->out.kind != PK_NONE && bad_csums(&got, why, n))
		goto out;
	if (diff_counters(before, after, tc->reason,
			  tc->nat_new ? BL_NAT_NEW : NO_COUNT,
			  tc->also ? (int)tc->also : NO_COUNT, in.len, why, n))
		goto out;
	if (tc->verify && tc->verify(env, &got, why, n))
		goto out;
	ret = 0;
out:
	if (tc->cleanup)
		tc->cleanup(env);
	return ret;
}

int main(void)
{
	struct env env = {};
	char why[512];
	size_t i;
	int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("SKIP test_datapath: needs root (BPF_PROG_TEST_RUN, netns)\n");
		return 0;
	}
	/*
	 * First thing: a network namespace of our own. Routes, neighbours and
	 * sysctls set for the FIB cases stay in it and vanish with us.
	 */
	if (unshare(CLONE_NEWNET)) {
		printf("SKIP test_datapath: cannot create a network namespace: %s\n",
		       strerror(errno));
		return 0;
	}
	libbpf_set_print(libbpf_print);
	if (env_open(&env, why, sizeof(why))) {
		printf("FAIL test_datapath_setup: %s\n", why);
		datapath__destroy(env.skel);
		return 1;
	}

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		switch (run_case(&env, &cases[i], why, sizeof(why))) {
		case 0:
			printf("PASS %s\n", cases[i].name);
			break;
		case 2:
			printf("SKIP %s: %s\n", cases[i].name, why);
			break;
		default:
			printf("FAIL %s: %s\n", cases[i].name, why);
			failed = 1;
		}
	}
	datapath__destroy(env.skel);
	return failed;
}
