/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv6 Services (dual-stack ClusterIPs): svc.h, svc_flow.h and svc_lb.h
 * (which say why each step is as it is) on the IPv6 maps: frontends6,
 * backends6, affinity6, and the flows' two entries in nat6. Service ids
 * and their counters (svc_stats) are shared with IPv4.
 */
#ifndef BL_SVC6_H
#define BL_SVC6_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "count.h"
#include "csum6.h"
#include "deliver6.h"
#include "fib6.h"
#include "icmp6_reply.h"
#include "maps.h"
#include "nat6_icmp.h"
#include "nat6_table.h"
#include "nf_ct.h"
#include "svc.h"

static __always_inline int in_service_cidr6(const struct bl_config *cfg, const void *addr)
{
	return A6W(cfg->svc_mask6, 0) && in_prefix6(addr, cfg->svc_cidr6, cfg->svc_mask6);
}

/* Tuple t of the IPv6 packet ip6 (TCP or UDP only, no later fragment). */
static __always_inline int svc6_tuple(struct __sk_buff *skb, const struct ipv6hdr *ip6,
				      struct nat6_tuple *t, __u32 *l4_off)
{
	struct ip6_l4 w;

	addr6_copy(t->saddr, &ip6->saddr);
	addr6_copy(t->daddr, &ip6->daddr);
	if (ip6_walk(skb, IP6_OFF, ip6->nexthdr, &w) || w.frag == IP6_FRAG_LATER)
		return -1;
	t->proto = w.proto;
	*l4_off = w.off;
	if (t->proto != IPPROTO_TCP && t->proto != IPPROTO_UDP)
		return -1;
	return read_ports6(skb, w.off, t);
}

/* Send a translated packet (its destination the backend be) on its way. */
static __always_inline int svc6_send(struct __sk_buff *skb, const struct bl_config *cfg,
				     const __u32 *be, enum bl_counter why)
{
	struct bl_endpoint6_key key;
	const struct bl_endpoint *ep;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;

	ip6 = ip6_headers(skb, &eth);
	if (!ip6)
		return drop(skb, BL_DROP_TRUNCATED);
	if (in_prefix6(&ip6->daddr, cfg->pod_cidr6, cfg->pod_mask6)) {
		addr6_copy(key.ip, be);
		ep = bpf_map_lookup_elem(&endpoints6, &key);
		if (!ep)
			return drop(skb, BL_DROP_NO_ENDPOINT);
		return deliver6_to_pod(skb, eth, ip6, ep, why);
	}
	if (addr6_eq(&ip6->daddr, cfg->node_ip6))
		return pass(skb, why);
	return forward6_by_fib(skb, why);
}

static __always_inline int svc6_refuse(struct __sk_buff *skb, __u32 id)
{
	svc_count(id, 0, 1);
	count(skb, BL_SVC_REFUSED);
	emit_event(skb, BL_SVC_REFUSED, BL_EVENT_DROP, 0);
	if (icmp6_port_unreachable(skb))
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ifindex, 0);
}

/* The reply entry's key of client tuple t to backend be:port; its svc bits. */
static __always_inline __u8 svc6_reply_key(struct bl_nat6_key *k, const struct bl_config *cfg,
					   const struct nat6_tuple *t, const void *be,
					   __u16 be_port)
{
	if (addr6_eq(be, t->saddr)) {
		key6_from(k, be, t->daddr, be_port, t->sport, t->proto, BL_DIR_EGRESS);
		return BL_NAT_SVC_REPLY | BL_NAT_SVC_HAIRPIN;
	}
	if (in_prefix6(be, cfg->pod_cidr6, cfg->pod_mask6)) {
		key6_from(k, be, t->saddr, be_port, t->sport, t->proto, BL_DIR_EGRESS);
		return BL_NAT_SVC_REPLY;
	}
	key6_from(k, be, t->saddr, be_port, t->sport, t->proto, BL_DIR_INGRESS);
	return BL_NAT_SVC_REPLY | BL_NAT_SVC_REMOTE;
}

/* Write (or put back) the reply entry of t's flow to backend be:be_port. */
static __always_inline __u8 svc6_reply_put(const struct bl_config *cfg,
					   const struct nat6_tuple *t, const void *be,
					   __u16 be_port, __u64 now, struct nat6_kv *kv)
{
	__builtin_memset(&kv->v, 0, sizeof(kv->v));
	kv->v.e.svc = svc6_reply_key(&kv->k, cfg, t, be, be_port);
	addr6_copy(kv->v.addr, t->daddr);
	kv->v.e.port = t->dport;
	kv->v.e.created_ns = kv->v.e.last_seen_ns = now;
	return bpf_map_update_elem(&nat6, &kv->k, &kv->v, BPF_ANY) ? 0 : kv->v.e.svc;
}

/* Both entries of t's flow to backend be, the reply one first; NULL: no room. */
static __always_inline struct bl_nat6_entry *
svc6_flow_create(const struct bl_config *cfg, const struct nat6_tuple *t,
		 const struct bl_svc6_backend *be, __u32 id, __u64 now, struct nat6_kv *kv)
{
	__u8 reply;

	reply = svc6_reply_put(cfg, t, be->addr, be->port, now, kv);
	if (!reply)
		return NULL;
	__builtin_memset(&kv->v, 0, sizeof(kv->v));
	addr6_copy(kv->v.addr, be->addr);
	kv->v.e.port = be->port;
	kv->v.e.svc_id = id;
	kv->v.e.seen = tcp_seen(t->tcp_flags);
	kv->v.e.created_ns = kv->v.e.last_seen_ns = kv->v.e.fwd_ns = now;
	kv->v.e.svc = BL_NAT_SVC_FWD | (reply & (BL_NAT_SVC_HAIRPIN | BL_NAT_SVC_REMOTE));
	key6_from(&kv->k, t->saddr, t->daddr, t->sport, t->dport, t->proto, BL_DIR_EGRESS);
	if (bpf_map_update_elem(&nat6, &kv->k, &kv->v, BPF_ANY))
		return NULL;
	return bpf_map_lookup_elem(&nat6, &kv->k);
}

/* As svc_pair_check(): at most once a second, the reply entry put back. */
static __noinline __attribute__((unused)) void svc6_pair_check(const struct bl_config *cfg,
								const struct nat6_tuple *t,
								struct bl_nat6_entry *fe,
								__u64 now)
{
	struct scratch6 *s = scratch6_get();

	fe->e.fwd_ns = now;
	if (!s)
		return;
	svc6_reply_key(&s->kv.k, cfg, t, fe->addr, fe->e.port);
	if (!bpf_map_lookup_elem(&nat6, &s->kv.k))
		svc6_reply_put(cfg, t, fe->addr, fe->e.port, now, &s->kv);
}

/* Client -> backend in place (a hairpin's source too: the service address). */
static __always_inline int svc6_dnat(struct __sk_buff *skb, const struct nat6_tuple *t,
				     __u32 l4_off, const struct l4_layout *l,
				     const struct bl_nat6_entry *fe)
{
	if (rewrite6_addr_port(skb, IP6_DADDR_OFF, t->daddr, fe->addr, l4_off, l,
			       bpf_htons(t->dport), bpf_htons(fe->e.port)))
		return -1;
	if (fe->e.svc & BL_NAT_SVC_HAIRPIN)
		return rewrite6_addr_port(skb, IP6_SADDR_OFF, t->saddr, t->daddr, l4_off, l,
					  0, 0);
	return 0;
}

/* Backend -> client in place, by reply entry re (a hairpin's destination too). */
static __always_inline int svc6_reply_rewrite(struct __sk_buff *skb,
					      const struct nat6_tuple *t, __u32 l4_off,
					      const struct bl_nat6_entry *re)
{
	struct l4_layout l;

	if (l4_layout6(t->proto, BL_DIR_EGRESS, &l))
		return -1;
	if (rewrite6_addr_port(skb, IP6_SADDR_OFF, t->saddr, re->addr, l4_off, &l,
			       bpf_htons(t->sport), bpf_htons(re->e.port)))
		return -1;
	if (re->e.svc & BL_NAT_SVC_HAIRPIN)
		return rewrite6_addr_port(skb, IP6_DADDR_OFF, t->daddr, t->saddr, l4_off, &l,
					  0, 0);
	return 0;
}

static __always_inline const struct bl_svc6_backend *svc6_backend_at(const struct bl_svc *fe,
								      __u16 slot)
{
	struct bl_svc_backend_key k = { .id = fe->id, .rev = fe->rev, .slot = slot };

	return bpf_map_lookup_elem(&svc_backends6, &k);
}

/* As svc_choose(): affinity first, else one of the set at random. */
static __always_inline const struct bl_svc6_backend *
svc6_choose(const struct bl_svc *fe, const struct nat6_tuple *t, __u64 now)
{
	const struct bl_svc6_backend *be;
	struct bl_svc6_affinity_key ak = {};
	struct bl_svc6_affinity av = {}, *a;
	__u16 slot;

	if (fe->affinity_s) {
		addr6_copy(ak.client, t->saddr);
		ak.id = fe->id;
		a = bpf_map_lookup_elem(&svc_affinity6, &ak);
		if (a && now - a->last_ns < (__u64)fe->affinity_s * 1000000000ull &&
		    a->slot < fe->count) {
			be = svc6_backend_at(fe, a->slot);
			if (be && addr6_eq(be->addr, a->addr) && be->port == a->port) {
				a->last_ns = now;
				return be;
			}
		}
	}
	slot = bpf_get_prandom_u32() % fe->count;
	be = svc6_backend_at(fe, slot);
	if (be && fe->affinity_s) {
		addr6_copy(av.addr, be->addr);
		av.port = be->port;
		av.slot = slot;
		av.last_ns = now;
		bpf_map_update_elem(&svc_affinity6, &ak, &av, BPF_ANY);
	}
	return be;
}

/* Mark who answers the new flow to backend be (see svc_mark()). */
static __always_inline void svc6_mark(const struct bl_config *cfg,
				      struct bl_endpoint *client, const void *be)
{
	struct bl_endpoint6_key key;
	struct bl_endpoint *ep;

	if (in_prefix6(be, cfg->pod_cidr6, cfg->pod_mask6)) {
		addr6_copy(key.ip, be);
		ep = bpf_map_lookup_elem(&endpoints6, &key);
		if (ep)
			ep_flag(ep, BL_EP_TX_TRACKED);
		return;
	}
	ep_flag(client, BL_EP_RX_TRACKED);
}

/*
 * A new connection of tuple t to an IPv6 service address: its frontend's
 * backend chosen and its flow made, returned; or NULL with the packet's
 * fate in *verdict (to the host without a frontend, refused, dropped).
 */
static __noinline __attribute__((unused)) struct bl_nat6_entry *
svc6_open(struct __sk_buff *skb, const struct bl_config *cfg, struct bl_endpoint *src,
	  const struct nat6_tuple *t, int *verdict)
{
	__u64 now = nat_now();
	const struct bl_svc6_backend *be;
	const struct bl_svc *fe;
	struct bl_nat6_entry *e;
	struct scratch6 *s = scratch6_get();
	struct bl_svc6_key sk;

	addr6_copy(sk.addr, t->daddr);
	sk.port = t->dport;
	sk.proto = t->proto;
	sk.pad = 0;
	fe = bpf_map_lookup_elem(&svc_frontends6, &sk);
	if (!fe) {
		*verdict = svc_to_host(skb, src);
		return NULL;
	}
	if (!fe->count) {
		*verdict = fe->flags & BL_SVC_DROP ? drop(skb, BL_DROP_SVC_NO_LOCAL) :
						     svc6_refuse(skb, fe->id);
		return NULL;
	}
	be = svc6_choose(fe, t, now);
	e = be && s ? svc6_flow_create(cfg, t, be, fe->id, now, &s->kv) : NULL;
	if (!e) {
		*verdict = drop(skb, BL_DROP_SVC_BACKEND);
		return NULL;
	}
	svc_count(fe->id, 1, 0);
	count(skb, BL_SVC_NEW);
	svc6_mark(cfg, src, e->addr);
	return e;
}

/* As svc_from_pod(): a pod's packet to an IPv6 service address. */
static __noinline __attribute__((unused)) int svc6_from_pod(struct __sk_buff *skb,
							     const struct bl_config *cfg,
							     struct bl_endpoint *src)
{
	struct scratch6 *s = scratch6_get();
	struct bl_nat6_entry *e;
	struct nat6_tuple *t;
	struct l4_layout l;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	__u32 l4_off, be_addr[4];
	int verdict = TC_ACT_SHOT;
	__u64 now;

	ip6 = ip6_headers(skb, &eth);
	if (!ip6 || !s)
		return drop(skb, BL_DROP_TRUNCATED);
	t = &s->t; /* the tuple and its key in scratch (scratch6.h) */
	__builtin_memset(t, 0, sizeof(*t));
	if (!(cfg->flags & BL_CFG_SERVICES) || svc6_tuple(skb, ip6, t, &l4_off))
		return svc_to_host(skb, src);
	if (ip6->hop_limit <= 1)
		return pass(skb, BL_PASS_TTL);
	now = nat_now();
	key6_from(&s->tk, t->saddr, t->daddr, t->sport, t->dport, t->proto, BL_DIR_EGRESS);
	e = bpf_map_lookup_elem(&nat6, &s->tk);
	if (e && (e->e.svc & BL_NAT_SVC_REPLY)) {
		entry_touch(&e->e, t->tcp_flags, now);
		if (svc6_reply_rewrite(skb, t, l4_off, e))
			return drop(skb, BL_DROP_NAT_UNSUPPORTED);
		addr6_copy(be_addr, t->saddr);
		return svc6_send(skb, cfg, be_addr, BL_SVC_REPLY);
	}
	if (e && (e->e.svc & BL_NAT_SVC_FWD) &&
	    !((t->tcp_flags & BL_TCP_SYN) &&
	      (e->e.seen & (BL_NAT_SEEN_FIN | BL_NAT_SEEN_RST)))) {
		entry_touch(&e->e, t->tcp_flags, now);
		if (now - e->e.fwd_ns >= BL_NAT_FWD_MAX_AGE_NS)
			svc6_pair_check(cfg, t, e, now);
	} else {
		e = svc6_open(skb, cfg, src, t, &verdict);
		if (!e)
			return verdict;
	}
	svc_count_packet(skb, e->e.svc_id);
	addr6_copy(be_addr, e->addr);
	if (l4_layout6(t->proto, BL_DIR_INGRESS, &l) || svc6_dnat(skb, t, l4_off, &l, e))
		return drop(skb, BL_DROP_NAT_UNSUPPORTED);
	return svc6_send(skb, cfg, be_addr, BL_SVC_DNAT);
}

/*
 * As svc_icmp_error(): an ICMPv6 error (its header at l4_off) about a
 * service flow, quoting the client's packet as it reached the backend;
 * translated back with the reply entry found in direction dir.
 */
static __noinline __attribute__((unused)) int svc6_icmp_error(struct __sk_buff *skb,
								__u32 l4_off, __u8 dir)
{
	struct scratch6 *s = scratch6_get();
	struct bl_nat6_entry *e;
	struct l4_layout il;
	__u32 inner_l4_off, inner_off = l4_off + sizeof(struct icmp6hdr);
	__u8 type;

	if (!s || bpf_skb_load_bytes(skb, l4_off, &type, 1) || !icmp6_is_error(type) ||
	    bpf_skb_load_bytes(skb, IP6_SADDR_OFF, s->kv.k.saddr, 16) ||
	    icmp6_quote(skb, l4_off, BL_DIR_INGRESS, s, &il, &inner_l4_off) ||
	    (s->in.proto != IPPROTO_TCP && s->in.proto != IPPROTO_UDP))
		return BL_NOT_MINE;
	key6_from(&s->qk, &s->inner.daddr, &s->inner.saddr, s->in.dport, s->in.sport,
		  s->in.proto, dir);
	e = bpf_map_lookup_elem(&nat6, &s->qk);
	if (!e || !(e->e.svc & BL_NAT_SVC_REPLY) || (e->e.svc & BL_NAT_SVC_HAIRPIN))
		return BL_NOT_MINE;
	/* from the backend itself (its old source in kv.k); a router's address stays */
	if (addr6_eq(s->kv.k.saddr, &s->inner.daddr) &&
	    (csum6_fold_addr(skb, ICMP6_CSUM_OFF(l4_off), s->kv.k.saddr, e->addr, 1, 0) ||
	     bpf_skb_store_bytes(skb, IP6_SADDR_OFF, e->addr, 16, 0)))
		return -BL_DROP_NAT_UNSUPPORTED;
	if (icmp6_quote_rewrite(skb, l4_off, inner_off + offsetof(struct ipv6hdr, daddr),
				&s->inner.daddr, e->addr, inner_l4_off + il.port_off,
				bpf_htons(s->in.dport), bpf_htons(e->e.port)))
		return -BL_DROP_NAT_UNSUPPORTED;
	return BL_SVC_ICMP_ERROR;
}

/* The ICMPv6 header of an error, or 0 (no error, or not found). */
static __always_inline __u32 icmp6_error_off(struct __sk_buff *skb, const struct ipv6hdr *ip6)
{
	struct ip6_l4 w;

	if (ip6_walk(skb, IP6_OFF, ip6->nexthdr, &w) || w.proto != IPPROTO_ICMPV6 ||
	    w.frag != IP6_FRAG_NONE)
		return 0;
	return w.off;
}

/*
 * As svc_reply_stale(), for IPv6: a backend's SYN-ACK on the reply entry of
 * a flow that ended is a new connection's; the stale entry goes. Only the
 * reply entry's own FIN or RST is asked (the backend's side ended it).
 */
static __always_inline int svc6_reply_stale(struct __sk_buff *skb, const struct nat6_tuple *t,
					    const struct bl_nat6_entry *e,
					    const struct bl_nat6_key *k)
{
	if (t->proto != IPPROTO_TCP || !(t->tcp_flags & BL_TCP_SYN) ||
	    !(e->e.seen & (BL_NAT_SEEN_FIN | BL_NAT_SEEN_RST)))
		return 0;
	bpf_map_delete_elem(&nat6, k);
	count(skb, BL_SVC_REPLY_STALE);
	return 1;
}

/* As svc_tracked_tx(), for a pod's IPv6 packet. */
static __noinline __attribute__((unused)) int svc6_tracked_tx(struct __sk_buff *skb)
{
	struct scratch6 *s = scratch6_get();
	struct bl_nat6_entry *e;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	__u32 l4_off;

	ip6 = ip6_headers(skb, &eth);
	if (!ip6 || !s)
		return BL_NOT_MINE;
	l4_off = icmp6_error_off(skb, ip6);
	if (l4_off)
		return svc6_icmp_error(skb, l4_off, BL_DIR_EGRESS);
	__builtin_memset(&s->t, 0, sizeof(s->t));
	if (svc6_tuple(skb, ip6, &s->t, &l4_off))
		return BL_NOT_MINE;
	key6_from(&s->tk, s->t.saddr, s->t.daddr, s->t.sport, s->t.dport, s->t.proto,
		  BL_DIR_EGRESS);
	e = bpf_map_lookup_elem(&nat6, &s->tk);
	if (!e)
		return BL_NOT_MINE;
	if ((e->e.svc & BL_NAT_SVC_REPLY) && svc6_reply_stale(skb, &s->t, e, &s->tk))
		return BL_NOT_MINE;
	entry_touch(&e->e, s->t.tcp_flags, nat_now());
	if (e->e.seen & BL_NAT_VIA_HOST)
		return BL_PASS_NAT_VIA_HOST;
	if (!(e->e.svc & BL_NAT_SVC_REPLY))
		return BL_NOT_MINE;
	if (svc6_reply_rewrite(skb, &s->t, l4_off, e))
		return -BL_DROP_NAT_UNSUPPORTED;
	return BL_SVC_REPLY;
}

/* Ask conntrack about the IPv6 flow of t, the other way round if reverse. */
static __always_inline int nf_ct_natted6(struct __sk_buff *skb, const struct nat6_tuple *t,
					 int reverse)
{
	struct bl_ct6_tuple ct = {};

	addr6_copy(ct.saddr, reverse ? t->daddr : t->saddr);
	addr6_copy(ct.daddr, reverse ? t->saddr : t->daddr);
	ct.sport = bpf_htons(reverse ? t->dport : t->sport);
	ct.dport = bpf_htons(reverse ? t->sport : t->dport);
	ct.proto = t->proto;
	return bl_nf_ct_natted6(skb, &ct);
}

/* As svc_tracked_rx(), for an IPv6 packet to a pod. */
static __noinline __attribute__((unused)) int svc6_tracked_rx(struct __sk_buff *skb,
							       __u16 ep_flags, int host_nat)
{
	struct scratch6 *s = scratch6_get();
	struct bl_nat6_entry *e;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	__u32 l4_off;

	ip6 = ip6_headers(skb, &eth);
	if (!ip6 || !s)
		return BL_NOT_MINE;
	l4_off = icmp6_error_off(skb, ip6);
	if (l4_off)
		return ep_flags & BL_EP_RX_TRACKED ?
			       svc6_icmp_error(skb, l4_off, BL_DIR_INGRESS) :
			       BL_NOT_MINE;
	__builtin_memset(&s->t, 0, sizeof(s->t));
	if (svc6_tuple(skb, ip6, &s->t, &l4_off))
		return BL_NOT_MINE;
	if (ep_flags & BL_EP_RX_TRACKED) {
		key6_from(&s->tk, s->t.saddr, s->t.daddr, s->t.sport, s->t.dport, s->t.proto,
			  BL_DIR_INGRESS);
		e = bpf_map_lookup_elem(&nat6, &s->tk);
		if (e && (e->e.svc & BL_NAT_SVC_REPLY) &&
		    !svc6_reply_stale(skb, &s->t, e, &s->tk)) {
			entry_touch(&e->e, s->t.tcp_flags, nat_now());
			if (svc6_reply_rewrite(skb, &s->t, l4_off, e))
				return -BL_DROP_NAT_UNSUPPORTED;
			return BL_SVC_REPLY;
		}
	}
	if (host_nat && (ep_flags & BL_EP_HOST_NAT) && nf_ct_natted6(skb, &s->t, 0))
		return BL_PASS_HOST_NAT;
	return BL_NOT_MINE;
}

/* As svc_note_host_nat(), for to_pod's IPv6 packets from the cluster. */
static __always_inline void svc6_note_host_nat(struct __sk_buff *skb,
					       const struct ipv6hdr *ip6,
					       struct bl_endpoint *ep)
{
	struct nat6_tuple t = {};
	__u32 l4_off;

	if (svc6_tuple(skb, ip6, &t, &l4_off) || !nf_ct_natted6(skb, &t, 1))
		return;
	nat6_note_inbound(skb, BL_NAT_VIA_HOST);
	ep_flag(ep, BL_EP_TX_TRACKED);
}

#endif
