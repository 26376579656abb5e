/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SNAT in BPF: pod traffic leaving the cluster takes the node IP and a port
 * of the NAT range; replies and ICMP errors about it are translated back.
 * No conntrack, no netfilter. Checksums are fixed with the kernel's
 * incremental helpers, which also handle CHECKSUM_PARTIAL (offloaded TCP/UDP
 * checksums) and UDP packets without a checksum.
 */
#ifndef BL_NAT_H
#define BL_NAT_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include "count.h"
#include "maps.h"
#include "proto.h"

#define IP_OFF (sizeof(struct ethhdr))
#define IP_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))
#define IP_SADDR_OFF (IP_OFF + offsetof(struct iphdr, saddr))
#define IP_DADDR_OFF (IP_OFF + offsetof(struct iphdr, daddr))
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

/* Where a protocol keeps what NAT rewrites, relative to its header. */
struct l4_layout {
	__u32 port_off; /* the pod side's port: ICMP id, TCP/UDP source port
			 * going out, destination port coming back */
	__u32 csum_off;
	__u64 csum_flags; /* extra bpf_l4_csum_replace flags */
	int pseudo; /* checksum covers the IP addresses */
};

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

static __always_inline int l4_layout(__u8 proto, enum bl_nat_dir dir,
				     struct l4_layout *l)
{
	__u32 port_off = dir == BL_DIR_EGRESS ? 0 : 2;

	switch (proto) {
	case IPPROTO_TCP:
		*l = (struct l4_layout){ port_off, offsetof(struct tcphdr, check),
					 0, 1 };
		return 0;
	case IPPROTO_UDP:
		*l = (struct l4_layout){ port_off, offsetof(struct udphdr, check),
					 BPF_F_MARK_MANGLED_0, 1 };
		return 0;
	case IPPROTO_ICMP:
		*l = (struct l4_layout){ offsetof(struct icmphdr, un.echo.id),
					 offsetof(struct icmphdr, checksum), 0, 0 };
		return 0;
	}
	return -1;
}

/* The cluster CIDR and --no-masquerade prefixes: reached without SNAT. */
static __always_inline int no_masquerade(__be32 addr)
{
	struct bl_prefix_key k = { .prefixlen = 32 };

	__builtin_memcpy(k.ip, &addr, 4);
	return bpf_map_lookup_elem(&nomasq, &k) != NULL;
}

static __always_inline void key_from(struct bl_nat_key *k, __be32 saddr,
				     __be32 daddr, __u16 sport, __u16 dport,
				     __u8 proto, __u8 dir)
{
	__builtin_memcpy(k->saddr, &saddr, 4);
	__builtin_memcpy(k->daddr, &daddr, 4);
	k->sport = sport;
	k->dport = dport;
	k->proto = proto;
	k->dir = dir;
	k->pad = 0;
}

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

static __always_inline __u8 tcp_seen(__u8 tcp_flags)
{
	__u8 seen = 0;

	if (tcp_flags & BL_TCP_SYN)
		seen |= BL_NAT_SEEN_SYN;
	if (tcp_flags & BL_TCP_FIN)
		seen |= BL_NAT_SEEN_FIN;
	if (tcp_flags & BL_TCP_RST)
		seen |= BL_NAT_SEEN_RST;
	return seen;
}

/*
 * NAT's clock: CLOCK_MONOTONIC at tick resolution. The collector's timeouts
 * are seconds, and the coarse clock costs a load where bpf_ktime_get_ns()
 * reads the clock source (expensive under virtualisation) on every packet.
 */
static __always_inline __u64 nat_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

static __always_inline void entry_touch(struct bl_nat_entry *e, __u8 tcp_flags,
					__u64 now)
{
	__u8 seen = tcp_seen(tcp_flags);

	e->last_seen_ns = now;
	e->packets++;
	if ((e->seen | seen) != e->seen)
		e->seen |= seen;
}

/*
 * Rewrite an address at addr_off and a port at port_off (0: none) of an
 * L4 header at l4_off, keeping the IP, L4 and (pseudo-header) checksums
 * right. Ports in network byte order.
 */
static __always_inline int rewrite(struct __sk_buff *skb, __u32 ip_csum_off,
				   __u32 addr_off, __be32 old_addr, __be32 new_addr,
				   __u32 l4_off, const struct l4_layout *l,
				   __be16 old_port, __be16 new_port, int rewrite_port)
{
	__u32 csum = l4_off + l->csum_off;

	/*
	 * The address always changes (a pod never has the node's address), so
	 * it is rewritten without comparing; tools/bpf-cost relies on that to
	 * time this path in a loop with a test pod that has the node's address.
	 */
	if (l->pseudo &&
	    bpf_l4_csum_replace(skb, csum, old_addr, new_addr,
				BPF_F_PSEUDO_HDR | l->csum_flags | 4))
		return -1;
	if (bpf_l3_csum_replace(skb, ip_csum_off, old_addr, new_addr, 4) ||
	    bpf_skb_store_bytes(skb, addr_off, &new_addr, 4, 0))
		return -1;
	if (rewrite_port && old_port != new_port) {
		if (bpf_l4_csum_replace(skb, csum, old_port, new_port,
					l->csum_flags | 2) ||
		    bpf_skb_store_bytes(skb, l4_off + l->port_off, &new_port, 2, 0))
			return -1;
	}
	return 0;
}

/* Set the IPv4 address at addr_off (source or destination) to new_addr. */
static __always_inline int ip_addr_set(struct __sk_buff *skb, __u32 addr_off,
				       __be32 old_addr, __be32 new_addr)
{
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_addr, new_addr, 4) ||
	    bpf_skb_store_bytes(skb, addr_off, &new_addr, 4, 0))
		return -1;
	return 0;
}

/*
 * Translate the header an ICMP error quotes, in both directions: the quoted
 * address at addr_off (old_addr -> new_addr), the quoted IP header's checksum
 * (old_check, at inner_off + 10) and the quoted port at port_off. The ICMP
 * checksum of the error at l4_off covers the quote, so every quoted change
 * (address, its IP checksum, port) is folded into it. The quoted L4 checksum
 * is left as it is: a stack matches an error to its socket by addresses and
 * ports only. Ports in network byte order.
 */
static __always_inline int icmp_quote_rewrite(struct __sk_buff *skb, __u32 l4_off,
					      __u32 inner_off, __u16 old_check,
					      __u32 addr_off, __be32 old_addr,
					      __be32 new_addr, __u32 port_off,
					      __be16 old_port, __be16 new_port)
{
	__u32 icmp_csum = l4_off + offsetof(struct icmphdr, checksum);
	__u32 in_csum_off = inner_off + offsetof(struct iphdr, check);
	__u16 new_check;
	__u32 sum;

	/* the quoted IP checksum, updated by hand (RFC 1624) */
	sum = (__u16)~old_check;
	sum += (__u16)~(old_addr & 0xffff) + (__u16)~(old_addr >> 16);
	sum += (new_addr & 0xffff) + (new_addr >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	new_check = ~sum;
	if (bpf_l4_csum_replace(skb, icmp_csum, old_addr, new_addr, 4) ||
	    bpf_l4_csum_replace(skb, icmp_csum, old_check, new_check, 2) ||
	    bpf_skb_store_bytes(skb, in_csum_off, &new_check, 2, 0) ||
	    bpf_skb_store_bytes(skb, addr_off, &new_addr, 4, 0))
		return -1;
	if (bpf_l4_csum_replace(skb, icmp_csum, old_port, new_port, 2) ||
	    bpf_skb_store_bytes(skb, port_off, &new_port, 2, 0))
		return -1;
	return 0;
}

/* The ICMP errors NAT translates: they quote the packet they are about. */
static __always_inline int icmp_is_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB;
}

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
	if (ip->frag_off & bpf_htons(IP_OFFSET))
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

/* The egress entry of the pod's tuple t, or NULL. */
static __always_inline struct bl_nat_entry *nat_lookup(const struct nat_tuple *t)
{
	struct bl_nat_key ek;

	key_from(&ek, t->saddr, t->daddr, t->sport, t->dport, t->proto,
		 BL_DIR_EGRESS);
	return bpf_map_lookup_elem(&nat, &ek);
}

/* The ingress key of tuple t's mapping to node port port. */
static __always_inline void ingress_key(struct bl_nat_key *k,
					const struct bl_config *cfg,
					const struct nat_tuple *t, __u16 port)
{
	key_from(k, t->daddr, cfg->node_ip,
		 t->proto == IPPROTO_ICMP ? 0 : t->dport, port, t->proto,
		 BL_DIR_INGRESS);
}

/* 1 if ingress entry ie leads back to tuple t's pod side. */
static __always_inline int ingress_is_of(const struct bl_nat_entry *ie,
					 const struct nat_tuple *t)
{
	return !__builtin_memcmp(ie->addr, &t->saddr, 4) && ie->port == t->sport;
}

/*
 * Claim node port port towards t's remote for tuple t: create the ingress
 * entry (BPF_NOEXIST), or adopt one that already leads back to t (the half
 * of t's own mapping whose egress half the LRU evicted). Returns 1 when
 * created, 2 when adopted, 0 when another flow owns the port.
 */
static __always_inline int ingress_claim(const struct bl_config *cfg,
					 const struct nat_tuple *t, __u16 port,
					 __u64 now)
{
	struct bl_nat_entry iv = {}, *ie;
	struct bl_nat_key ik;

	ingress_key(&ik, cfg, t, port);
	__builtin_memcpy(iv.addr, &t->saddr, 4);
	iv.port = t->sport;
	iv.created_ns = iv.last_seen_ns = now;
	if (bpf_map_update_elem(&nat, &ik, &iv, BPF_NOEXIST) == 0)
		return 1;
	ie = bpf_map_lookup_elem(&nat, &ik);
	return ie && ingress_is_of(ie, t) ? 2 : 0;
}

/*
 * Make the mapping of tuple t, which has none. A new mapping keeps the pod's
 * port when it lies in the NAT range and is free towards this remote;
 * otherwise random ports of the range are tried, a bounded number of times.
 * Random, not the next ones: a pod's connections to one server come with
 * consecutive ports, and stepping one port on from a taken one would make
 * each new mapping collide with the last (a range of at most
 * BL_NAT_PORT_TRIES ports is walked in full instead). The ingress entry is
 * claimed first (BPF_NOEXIST), so two flows can never own one node port
 * towards one remote.
 */
static __always_inline struct bl_nat_entry *
nat_create(struct __sk_buff *skb, const struct bl_config *cfg,
	   const struct nat_tuple *t, __u64 now, enum bl_counter *why)
{
	struct bl_nat_entry *e, ev = {};
	struct bl_nat_key ek, ik;
	__u32 lo = cfg->nat_port_min, size = cfg->nat_port_max - lo + 1, start, i;
	int claim = 0;
	__u16 port;

	if (size == 0 || size > 65536)
		size = 1;
	if (t->sport >= lo && t->sport <= cfg->nat_port_max)
		start = t->sport - lo;
	else
		start = bpf_get_prandom_u32() % size;
	for (i = 0; i < BL_NAT_PORT_TRIES; i++) {
		if (i >= size)
			break;
		if (size <= BL_NAT_PORT_TRIES)
			port = lo + (start + i) % size;
		else if (i == 0)
			port = lo + start;
		else
			port = lo + bpf_get_prandom_u32() % size;
		claim = ingress_claim(cfg, t, port, now);
		if (claim)
			goto claimed;
	}
	*why = BL_DROP_NAT_NO_PORT;
	return NULL;

claimed:
	key_from(&ek, t->saddr, t->daddr, t->sport, t->dport, t->proto,
		 BL_DIR_EGRESS);
	__builtin_memcpy(ev.addr, &cfg->node_ip, 4);
	ev.port = port;
	ev.created_ns = now;
	ev.last_seen_ns = now;
	if (bpf_map_update_elem(&nat, &ek, &ev, BPF_NOEXIST)) {
		/* Another CPU made this flow's mapping meanwhile: use theirs. */
		if (claim == 1) {
			ingress_key(&ik, cfg, t, port);
			bpf_map_delete_elem(&nat, &ik);
		}
	} else {
		count(skb, claim == 1 ? BL_NAT_NEW : BL_NAT_HALF_RESTORED);
	}
	e = bpf_map_lookup_elem(&nat, &ek);
	if (!e)
		*why = BL_DROP_NAT_NO_PORT;
	return e;
}

/*
 * The LRU evicts the two entries of a mapping independently. An egress
 * entry whose ingress entry is gone would send packets whose replies find
 * no way back, or, once another flow has taken the port towards the same
 * remote, reach that flow. So whenever a flow leaves the fast path (each
 * TCP SYN, and at least once a second through the FIB cache's age), its
 * egress entry e is checked: a missing ingress entry is put back; a port
 * another flow owns now replaces the mapping (counted: the remote sees a
 * new port). Entries of inbound flows have no pair and are returned as
 * they are. Returns the entry to use, or NULL with *why set.
 */
static __always_inline struct bl_nat_entry *
nat_pair_check(struct __sk_buff *skb, const struct bl_config *cfg,
	       const struct nat_tuple *t, struct bl_nat_entry *e, __u64 now,
	       enum bl_counter *why)
{
	struct bl_nat_entry *ie;
	struct bl_nat_key k;

	if (e->seen & BL_NAT_UNPAIRED) /* an inbound flow's: no pair */
		return e;
	ingress_key(&k, cfg, t, e->port);
	ie = bpf_map_lookup_elem(&nat, &k);
	if (ie && ingress_is_of(ie, t))
		return e;
	if (!ie && ingress_claim(cfg, t, e->port, now)) {
		count(skb, BL_NAT_HALF_RESTORED);
		return e;
	}
	key_from(&k, t->saddr, t->daddr, t->sport, t->dport, t->proto,
		 BL_DIR_EGRESS);
	bpf_map_delete_elem(&nat, &k);
	count(skb, BL_NAT_STALE_REPLACED);
	return nat_create(skb, cfg, t, now, why);
}

/*
 * Keep the FIB's answer for the flow of egress entry e (see bl_nat_entry).
 * An unresolved neighbour is not kept: the next packet looks up again.
 */
static __always_inline void fwd_cache_fill(struct bl_nat_entry *e,
					   const struct bl_config *cfg,
					   const struct bpf_fib_lookup *params,
					   __u64 now)
{
	if (params->dmac[0] & 0x01) {
		e->fwd_ns = 0;
		return;
	}
	e->fwd_ifindex = params->ifindex;
	/* a __u16: a device MTU of 65536 (lo) reads as 0 */
	e->fwd_mtu = params->mtu_result ?: 0xffff;
	__builtin_memcpy(e->fwd_dmac, params->dmac, ETH_ALEN);
	__builtin_memcpy(e->fwd_smac, params->smac, ETH_ALEN);
	e->fwd_gen = cfg->fwd_gen;
	e->fwd_ns = now ?: 1;
}

/*
 * 1 if the packet may go where e's cache says without a FIB lookup: same
 * generation, not too old, and it fits the device the way the kernel's
 * is_skb_forwardable() checks it (GSO packets are cut to size later).
 */
static __always_inline int fwd_cache_ok(const struct bl_nat_entry *e,
					const struct bl_config *cfg,
					struct __sk_buff *skb, __u64 now)
{
	return e->fwd_ns && e->fwd_gen == cfg->fwd_gen &&
	       now - e->fwd_ns < BL_NAT_FWD_MAX_AGE_NS &&
	       (skb->len <= (__u32)e->fwd_mtu + ETH_HLEN + 4 /* VLAN */ ||
		skb->gso_size);
}

/* The source of a pod's packet -> the node IP and e's port. */
static __always_inline int snat_rewrite(struct __sk_buff *skb,
					const struct bl_config *cfg,
					const struct snat_pkt *p,
					const struct bl_nat_entry *e)
{
	return rewrite(skb, IP_CSUM_OFF, IP_SADDR_OFF, p->t.saddr, cfg->node_ip,
		       p->l4_off, &p->l, bpf_htons(p->t.sport),
		       bpf_htons(e->port), 1);
}

/* What to do with a reply to an inbound flow, by how it came in. */
static __always_inline int unpaired_verdict(const struct bl_nat_entry *e)
{
	return e->seen & BL_NAT_VIA_HOST ? BL_PASS_NAT_VIA_HOST : BL_NAT_INBOUND_REPLY;
}

/*
 * An ICMP error from a pod about a packet it received (port unreachable for
 * a datagram, say). The quoted packet went remote -> pod, so the flow it
 * belongs to is the one whose packets go pod -> remote with the quoted
 * ports swapped. An inbound flow's error leaves the way its replies do
 * (unpaired_verdict). An error about one of the pod's own translated flows
 * is translated as the flow's packets are: outer source -> node IP, and the
 * quote's destination -> node IP and the flow's NAT port (an echo reply's
 * id), as Linux conntrack does. Returns NAT_ICMP_ERROR_OUT, the verdict of
 * the inbound flow, or a drop reason: DROP_NAT_ICMP_NO_FLOW for an error
 * about no flow of this pod's.
 */
static __always_inline int icmp_error_from_pod(struct __sk_buff *skb,
					       const struct bl_config *cfg,
					       const struct snat_pkt *p)
{
	__u32 inner_off = p->l4_off + sizeof(struct icmphdr), inner_l4_off;
	struct nat_tuple in = {};
	struct bl_nat_entry *e;
	struct l4_layout il;
	struct bl_nat_key k;
	struct iphdr inner;

	if (!icmp_is_error(p->t.icmp_type))
		return BL_DROP_NAT_UNSUPPORTED;
	if (bpf_skb_load_bytes(skb, inner_off, &inner, sizeof(inner)) ||
	    inner.ihl < 5)
		return BL_DROP_NAT_UNSUPPORTED;
	inner_l4_off = inner_off + inner.ihl * 4;
	in.proto = inner.protocol;
	/* the quoted packet came in: the pod's port is its destination port */
	if (l4_layout(in.proto, BL_DIR_INGRESS, &il) ||
	    read_ports(skb, inner_l4_off, &in))
		return BL_DROP_NAT_UNSUPPORTED;
	if (in.proto == IPPROTO_ICMP && in.icmp_type != ICMP_ECHO &&
	    in.icmp_type != ICMP_ECHOREPLY)
		return BL_DROP_NAT_UNSUPPORTED;
	key_from(&k, inner.daddr, inner.saddr, in.dport, in.sport, in.proto,
		 BL_DIR_EGRESS);
	e = bpf_map_lookup_elem(&nat, &k);
	if (!e)
		return BL_DROP_NAT_ICMP_NO_FLOW;
	if (e->seen & BL_NAT_UNPAIRED)
		return unpaired_verdict(e);
	/*
	 * A translated flow: only the pod's own, and only about what came
	 * back to it (an echo request of a translated flow only leaves).
	 */
	if (inner.daddr != p->t.saddr ||
	    (in.proto == IPPROTO_ICMP && in.icmp_type == ICMP_ECHO))
		return BL_DROP_NAT_ICMP_NO_FLOW;
	if (ip_addr_set(skb, IP_SADDR_OFF, p->t.saddr, cfg->node_ip) ||
	    icmp_quote_rewrite(skb, p->l4_off, inner_off, inner.check,
			       inner_off + offsetof(struct iphdr, daddr),
			       inner.daddr, cfg->node_ip,
			       inner_l4_off + il.port_off, bpf_htons(in.dport),
			       bpf_htons(e->port)))
		return BL_DROP_NAT_UNSUPPORTED;
	return BL_NAT_ICMP_ERROR_OUT;
}

/*
 * Translate a pod's packet of kind (snat_parse) to the outside in place:
 * source -> node IP and a NAT port, making the mapping if needed and keeping
 * the FIB's answer params in it for the flow's next packets. Returns 0, or
 * the counter of the verdict: a drop reason; NAT_ICMP_ERROR_OUT for the pod's
 * ICMP error about a translated flow (translated, to send like the flow's
 * packets); for replies to inbound flows NAT_INBOUND_REPLY /
 * PASS_NAT_VIA_HOST, the packet untouched.
 */
static __always_inline int snat_egress(struct __sk_buff *skb,
				       const struct bl_config *cfg,
				       struct snat_pkt *p, int kind,
				       const struct bpf_fib_lookup *params)
{
	enum bl_counter why = BL_DROP_NAT_UNSUPPORTED;
	struct bl_nat_entry *e;
	__be32 node_ip = cfg->node_ip;

	switch (kind) {
	case SNAT_LATER_FRAG:
		/*
		 * A later fragment has no ports; its source is the node IP
		 * whatever the mapping, and the first fragment carried the L4
		 * checksum change. Only the IP header needs rewriting.
		 */
		if (ip_addr_set(skb, IP_SADDR_OFF, p->t.saddr, node_ip))
			return BL_DROP_NAT_UNSUPPORTED;
		return 0;
	case SNAT_ICMP_ERROR:
		return icmp_error_from_pod(skb, cfg, p);
	case SNAT_ECHO_REPLY:
		/* Only as the answer to a ping that came in from outside. */
		e = p->e ?: nat_lookup(&p->t);
		if (!e)
			return BL_DROP_NAT_UNSUPPORTED;
		break;
	case SNAT_FLOW:
		/* snat_and_forward() has looked for it already */
		e = p->e ? nat_pair_check(skb, cfg, &p->t, p->e, p->now, &why) :
			   nat_create(skb, cfg, &p->t, p->now, &why);
		if (!e)
			return why;
		break;
	default:
		return BL_DROP_NAT_UNSUPPORTED;
	}
	entry_touch(e, p->t.tcp_flags, p->now);
	if (e->seen & BL_NAT_UNPAIRED) {
		why = unpaired_verdict(e);
		/* replies sent by the datapath keep the FIB's answer too */
		if (why == BL_NAT_INBOUND_REPLY)
			fwd_cache_fill(e, cfg, params, p->now);
		return why;
	}
	fwd_cache_fill(e, cfg, params, p->now);
	if (snat_rewrite(skb, cfg, p, e))
		return BL_DROP_NAT_UNSUPPORTED;
	return 0;
}

/*
 * A packet from outside the no-masquerade set is entering a pod, either
 * straight from the uplink without NAT (how = BL_NAT_INBOUND) or through the
 * host stack (how = BL_NAT_VIA_HOST): remember its flow, so the pod's replies
 * are not SNATed.
 */
static __always_inline void nat_note_inbound(struct __sk_buff *skb,
					     struct iphdr *ip, __u8 how)
{
	struct bl_nat_entry v = {}, *e;
	struct nat_tuple t = {};
	struct bl_nat_key k;

	t.proto = ip->protocol;
	if (ip->frag_off & bpf_htons(IP_OFFSET))
		return;
	if (read_ports(skb, IP_OFF + ip->ihl * 4, &t))
		return;
	if (t.proto == IPPROTO_ICMP && t.icmp_type != ICMP_ECHO)
		return;
	/* The reply's tuple: pod -> remote, ports swapped. */
	key_from(&k, ip->daddr, ip->saddr, t.dport, t.sport, t.proto, BL_DIR_EGRESS);
	e = bpf_map_lookup_elem(&nat, &k);
	if (e) {
		if (e->seen & how)
			entry_touch(e, t.tcp_flags, nat_now());
		return;
	}
	__builtin_memcpy(v.addr, &ip->daddr, 4);
	v.port = t.dport;
	v.seen = how | tcp_seen(t.tcp_flags);
	v.created_ns = v.last_seen_ns = nat_now();
	v.packets = 1;
	bpf_map_update_elem(&nat, &k, &v, BPF_NOEXIST);
}

/*
 * A reply or ICMP error arriving on the uplink for the node IP: if it belongs
 * to a mapping, rewrite it towards the pod and return the pod's address in
 * *pod_ip (0 when it is not ours). Returns a counter: NAT_INGRESS,
 * NAT_ICMP_ERROR, NAT_REVERSE_MISS, or 0 for "not a NAT port at all".
 */
static __always_inline int snat_ingress(struct __sk_buff *skb,
					const struct bl_config *cfg,
					struct iphdr *ip, __be32 *pod_ip)
{
	__u32 l4_off = IP_OFF + ip->ihl * 4, inner_off, inner_l4_off;
	struct nat_tuple t = {}, in = {};
	struct bl_nat_entry *e;
	struct l4_layout l, il;
	struct bl_frag_entry *fe, fv;
	struct bl_frag_key fk;
	struct bl_nat_key k;
	struct iphdr inner;
	int more_frags;
	__be32 pod;
	__u16 port;

	*pod_ip = 0;
	t.saddr = ip->saddr;
	t.daddr = ip->daddr;
	t.proto = ip->protocol;
	fk.id = ip->id;
	fk.proto = t.proto;
	fk.pad = 0;
	__builtin_memcpy(fk.saddr, &t.saddr, 4);
	__builtin_memcpy(fk.daddr, &t.daddr, 4);
	if (ip->frag_off & bpf_htons(IP_OFFSET)) {
		/* A later fragment: follow the first one, if it was ours. */
		fe = bpf_map_lookup_elem(&frags, &fk);
		if (!fe)
			return 0;
		__builtin_memcpy(&pod, fe->pod_ip, 4);
		/*
		 * The last one closes the entry, so a later datagram reusing
		 * the IP id cannot follow it (fragments out of order beyond
		 * this are lost, as without the entry).
		 */
		if (!(ip->frag_off & bpf_htons(IP_MF)))
			bpf_map_delete_elem(&frags, &fk);
		if (ip_addr_set(skb, IP_DADDR_OFF, t.daddr, pod))
			return BL_DROP_NAT_UNSUPPORTED;
		*pod_ip = pod;
		return BL_NAT_INGRESS;
	}
	more_frags = ip->frag_off & bpf_htons(IP_MF);
	if (l4_layout(t.proto, BL_DIR_INGRESS, &l) || read_ports(skb, l4_off, &t))
		return 0;

	if (t.proto == IPPROTO_ICMP && t.icmp_type != ICMP_ECHOREPLY) {
		if (!icmp_is_error(t.icmp_type))
			return 0;
		/* The error quotes our translated packet: node IP:port -> remote. */
		inner_off = l4_off + sizeof(struct icmphdr);
		if (bpf_skb_load_bytes(skb, inner_off, &inner, sizeof(inner)) ||
		    inner.saddr != cfg->node_ip || inner.ihl < 5)
			return 0;
		inner_l4_off = inner_off + inner.ihl * 4;
		in.proto = inner.protocol;
		/* the quoted packet went out: its NAT port is its source port */
		if (l4_layout(in.proto, BL_DIR_EGRESS, &il) ||
		    read_ports(skb, inner_l4_off, &in))
			return 0;
		if (in.proto == IPPROTO_ICMP) {
			if (in.icmp_type != ICMP_ECHO)
				return 0;
			port = in.sport;
			key_from(&k, inner.daddr, inner.saddr, 0, port, in.proto,
				 BL_DIR_INGRESS);
		} else {
			port = in.sport;
			key_from(&k, inner.daddr, inner.saddr, in.dport, port,
				 in.proto, BL_DIR_INGRESS);
		}
		if (port < cfg->nat_port_min || port > cfg->nat_port_max)
			return 0;
		e = bpf_map_lookup_elem(&nat, &k);
		if (!e)
			return BL_NAT_REVERSE_MISS;
		__builtin_memcpy(&pod, e->addr, 4);
		/* outer destination, then the quoted source address and port */
		if (ip_addr_set(skb, IP_DADDR_OFF, t.daddr, pod) ||
		    icmp_quote_rewrite(skb, l4_off, inner_off, inner.check,
				       inner_off + offsetof(struct iphdr, saddr),
				       inner.saddr, pod, inner_l4_off + il.port_off,
				       bpf_htons(in.sport), bpf_htons(e->port)))
			return BL_DROP_NAT_UNSUPPORTED;
		*pod_ip = pod;
		return BL_NAT_ICMP_ERROR;
	}

	if (t.dport < cfg->nat_port_min || t.dport > cfg->nat_port_max)
		return 0;
	key_from(&k, t.saddr, t.daddr, t.sport, t.dport, t.proto, BL_DIR_INGRESS);
	e = bpf_map_lookup_elem(&nat, &k);
	if (!e)
		return BL_NAT_REVERSE_MISS;
	entry_touch(e, t.tcp_flags, nat_now());
	__builtin_memcpy(&pod, e->addr, 4);
	if (more_frags) {
		__builtin_memcpy(fv.pod_ip, &pod, 4);
		bpf_map_update_elem(&frags, &fk, &fv, BPF_ANY);
	}
	if (rewrite(skb, IP_CSUM_OFF, IP_DADDR_OFF, t.daddr, pod, l4_off, &l,
		    bpf_htons(t.dport), bpf_htons(e->port), 1))
		return BL_DROP_NAT_UNSUPPORTED;
	*pod_ip = pod;
	return BL_NAT_INGRESS;
}

#endif
