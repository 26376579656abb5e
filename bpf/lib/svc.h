/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kubernetes Services in BPF: a pod's packet to a service address is sent
 * to one backend chosen per connection (DNAT, in from_pod), and the
 * backend's replies take the service address again wherever they come
 * through: from_pod (a backend on this node), from_uplink (another node's)
 * or to_pod (the host's). A service address without a BPF frontend, or all
 * of them without BL_CFG_SERVICES, goes to the host stack for kube-proxy;
 * the replies of flows netfilter translated then go back through the host
 * too (nf_ct.h). What the programs call is here.
 */
#ifndef BL_SVC_H
#define BL_SVC_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "count.h"
#include "deliver.h"
#include "fib.h"
#include "icmp_reply.h"
#include "maps.h"
#include "nat_icmp.h"
#include "nat_inbound.h"
#include "nat_table.h"
#include "nat_tuple.h"
#include "nf_ct.h"
#include "parse.h"
#include "svc_flow.h"
#include "svc_lb.h"

/* Mark an endpoint (a map value) with BL_EP_* flags, once. */
static __always_inline void ep_flag(struct bl_endpoint *ep, __u16 f)
{
	if ((ep->flags & f) != f)
		__sync_fetch_and_or(&ep->slot_flags, (__u32)f << BL_EP_FLAGS_SHIFT);
}

/*
 * A service address the datapath does not balance: the host stack's
 * (kube-proxy's). Replies of what netfilter makes of it must come back
 * through the host, so the pod is marked for conntrack questions.
 */
static __always_inline int svc_to_host(struct __sk_buff *skb, struct bl_endpoint *src)
{
	ep_flag(src, BL_EP_HOST_NAT);
	return pass(skb, BL_PASS_SVC_HOST);
}

/* Read tuple t of an IPv4 packet whose header is ip; 0, or -1 if not TCP/UDP. */
static __always_inline int svc_tuple(struct __sk_buff *skb, struct iphdr *ip,
				     struct nat_tuple *t, __u32 *l4_off)
{
	t->saddr = ip->saddr;
	t->daddr = ip->daddr;
	t->proto = ip->protocol;
	*l4_off = IP_OFF + ip->ihl * 4;
	if ((t->proto != IPPROTO_TCP && t->proto != IPPROTO_UDP) || ip_later_frag(ip))
		return -1;
	return read_ports(skb, *l4_off, t);
}

/* A new connection: a SYN without ACK, or any packet of another protocol. */
static __always_inline int svc_new_conn(const struct nat_tuple *t)
{
	return t->proto != IPPROTO_TCP || (t->tcp_flags & BL_TCP_SYN);
}

/* Send a translated packet (its destination the backend) on its way. */
static __always_inline int svc_send(struct __sk_buff *skb, const struct bl_config *cfg,
				    __be32 be, enum bl_counter why)
{
	struct bl_endpoint_key key;
	const struct bl_endpoint *ep;
	struct ethhdr *eth;
	struct iphdr *ip;

	ip = ip_headers(skb, &eth);
	if (!ip)
		return drop(skb, BL_DROP_TRUNCATED);
	if (in_prefix(be, cfg->pod_cidr, cfg->pod_mask)) {
		__builtin_memcpy(key.ip, &be, 4);
		ep = bpf_map_lookup_elem(&endpoints, &key);
		if (!ep)
			return drop(skb, BL_DROP_NO_ENDPOINT);
		return deliver_to_pod(skb, eth, ip, ep, why);
	}
	/* a backend of the host's network on this node: the host delivers */
	if (be == cfg->node_ip)
		return pass(skb, why);
	return forward_by_fib(skb, eth, ip, why);
}

/*
 * Refuse a connection to a service without a usable endpoint, as
 * kube-proxy's REJECT rule does: ICMP port unreachable back to the pod.
 */
static __always_inline int svc_refuse(struct __sk_buff *skb, __u32 id)
{
	svc_count(id, 0, 1);
	count(skb, BL_SVC_REFUSED);
	emit_event(skb, BL_SVC_REFUSED, BL_EVENT_DROP, 0);
	if (icmp_port_unreachable(skb))
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ifindex, 0);
}

/*
 * Mark who answers the new flow of t to backend be: a pod of this node
 * (its replies are looked up in from_pod), or else the client (the
 * replies come in on the uplink, or from the host through to_pod).
 */
static __always_inline void svc_mark(const struct bl_config *cfg,
				     struct bl_endpoint *client, __be32 be)
{
	struct bl_endpoint_key key;
	struct bl_endpoint *ep;

	if (in_prefix(be, cfg->pod_cidr, cfg->pod_mask)) {
		__builtin_memcpy(key.ip, &be, 4);
		ep = bpf_map_lookup_elem(&endpoints, &key);
		if (ep)
			ep_flag(ep, BL_EP_TX_TRACKED);
		return;
	}
	ep_flag(client, BL_EP_RX_TRACKED);
}

/*
 * A pod's packet to a service address (in a service CIDR): its flow's
 * backend, or a new connection's, or a refusal; a hairpin's reply back to
 * the pod itself; or the host stack for what has no frontend here.
 */
static __noinline __attribute__((unused)) int svc_from_pod(struct __sk_buff *skb,
					const struct bl_config *cfg,
					struct bl_endpoint *src, struct iphdr *ip)
{
	const struct bl_svc_backend *be;
	const struct bl_svc *fe;
	struct nat_tuple t = {};
	struct bl_nat_entry *e;
	struct bl_svc_key sk;
	struct bl_nat_key k;
	struct l4_layout l;
	__u32 l4_off;
	__u64 now;
	__be32 be_addr;

	if (!(cfg->flags & BL_CFG_SERVICES) || svc_tuple(skb, ip, &t, &l4_off))
		return svc_to_host(skb, src);
	if (ip->ttl <= 1)
		return pass(skb, BL_PASS_TTL);
	now = nat_now();
	key_from(&k, t.saddr, t.daddr, t.sport, t.dport, t.proto, BL_DIR_EGRESS);
	e = bpf_map_lookup_elem(&nat, &k);
	if (e && (e->svc & BL_NAT_SVC_REPLY)) {
		/* a hairpin's reply: the pod answers itself as a backend */
		entry_touch(e, t.tcp_flags, now);
		if (svc_reply_rewrite(skb, &t, l4_off, e))
			return drop(skb, BL_DROP_NAT_UNSUPPORTED);
		return svc_send(skb, cfg, t.saddr, BL_SVC_REPLY);
	}
	/* A SYN on the tuple of a flow that ended starts a new connection. */
	if (e && (e->svc & BL_NAT_SVC_FWD) &&
	    !((t.tcp_flags & BL_TCP_SYN) &&
	      (e->seen & (BL_NAT_SEEN_FIN | BL_NAT_SEEN_RST)))) {
		entry_touch(e, t.tcp_flags, now);
		svc_pair_check(cfg, &t, e, now);
	} else {
		__builtin_memcpy(sk.addr, &t.daddr, 4);
		sk.port = t.dport;
		sk.proto = t.proto;
		sk.pad = 0;
		fe = bpf_map_lookup_elem(&svc_frontends, &sk);
		if (!fe)
			return svc_to_host(skb, src);
		if (!fe->count) {
			if (fe->flags & BL_SVC_DROP)
				return drop(skb, BL_DROP_SVC_NO_LOCAL);
			return svc_refuse(skb, fe->id);
		}
		be = svc_choose(fe, &t, now);
		if (!be)
			return drop(skb, BL_DROP_SVC_BACKEND);
		e = svc_flow_create(cfg, &t, be, fe->id, now);
		if (!e)
			return drop(skb, BL_DROP_SVC_BACKEND);
		svc_count(fe->id, 1, 0);
		count(skb, BL_SVC_NEW);
		__builtin_memcpy(&be_addr, be->addr, 4);
		svc_mark(cfg, src, be_addr);
	}
	svc_count_packet(skb, e->svc_id);
	__builtin_memcpy(&be_addr, e->addr, 4);
	if (l4_layout(t.proto, BL_DIR_INGRESS, &l) || svc_dnat(skb, &t, l4_off, &l, e))
		return drop(skb, BL_DROP_NAT_UNSUPPORTED);
	return svc_send(skb, cfg, be_addr, BL_SVC_DNAT);
}

/*
 * An ICMP error (outer header ip, its ICMP header at l4_off) a backend or
 * anything on the way sends to the client of a service flow: its quote is
 * the client's packet as it reached the backend. Translated back with the
 * reply entry found in direction dir: the quoted destination -> the
 * service address and port, the outer source too where it is the backend.
 * Returns SVC_ICMP_ERROR (translated), BL_NOT_MINE, or a negative drop
 * reason where a rewrite failed half-way.
 */
static __always_inline int svc_icmp_error(struct __sk_buff *skb, struct iphdr *ip,
					  __u32 l4_off, __u8 dir)
{
	__u32 inner_off = l4_off + sizeof(struct icmphdr), inner_l4_off;
	struct nat_tuple in = {};
	struct bl_nat_entry *e;
	struct l4_layout il;
	struct bl_nat_key k;
	struct iphdr inner;
	__be32 fe_addr, old_src = ip->saddr;
	__u8 type;

	if (bpf_skb_load_bytes(skb, l4_off, &type, 1) || !icmp_is_error(type) ||
	    bpf_skb_load_bytes(skb, inner_off, &inner, sizeof(inner)) || inner.ihl < 5)
		return BL_NOT_MINE;
	inner_l4_off = inner_off + inner.ihl * 4;
	in.proto = inner.protocol;
	/* the quote went client -> backend: the backend's port is its destination */
	if ((in.proto != IPPROTO_TCP && in.proto != IPPROTO_UDP) ||
	    l4_layout(in.proto, BL_DIR_INGRESS, &il) || read_ports(skb, inner_l4_off, &in))
		return BL_NOT_MINE;
	key_from(&k, inner.daddr, inner.saddr, in.dport, in.sport, in.proto, dir);
	e = bpf_map_lookup_elem(&nat, &k);
	if (!e || !(e->svc & BL_NAT_SVC_REPLY) || (e->svc & BL_NAT_SVC_HAIRPIN))
		return BL_NOT_MINE;
	__builtin_memcpy(&fe_addr, e->addr, 4);
	/* from the backend itself; a router's address on the way stays */
	if ((old_src == inner.daddr && ip_addr_set(skb, IP_SADDR_OFF, old_src, fe_addr)) ||
	    icmp_quote_rewrite(skb, l4_off, inner_off, inner.check,
			       inner_off + offsetof(struct iphdr, daddr), inner.daddr,
			       fe_addr, inner_l4_off + il.port_off, bpf_htons(in.dport),
			       bpf_htons(e->port)))
		return -BL_DROP_NAT_UNSUPPORTED;
	return BL_SVC_ICMP_ERROR;
}

/*
 * A packet of a pod marked BL_EP_TX_TRACKED (headers pulled and checked by
 * the caller), on its way to a pod or into
 * the cluster: the reply of a service flow it serves takes the service's
 * address (SVC_REPLY, rewritten; the caller delivers it as usual), the
 * reply of a flow the host delivered goes back to the host
 * (PASS_NAT_VIA_HOST), anything else is not ours (BL_NOT_MINE). A negative
 * drop reason where a rewrite failed.
 */
static __noinline __attribute__((unused)) int svc_tracked_tx(struct __sk_buff *skb)
{
	struct bl_nat_entry *e;
	struct nat_tuple t = {};
	struct ethhdr *eth;
	struct bl_nat_key k;
	struct iphdr *ip;
	__u32 l4_off;

	/* a function of its own (rarely called): it finds the headers itself */
	ip = ip_headers(skb, &eth);
	if (!ip)
		return BL_NOT_MINE;

	if (ip->protocol == IPPROTO_ICMP && !ip_later_frag(ip))
		return svc_icmp_error(skb, ip, IP_OFF + ip->ihl * 4, BL_DIR_EGRESS);
	if (svc_tuple(skb, ip, &t, &l4_off))
		return BL_NOT_MINE;
	key_from(&k, t.saddr, t.daddr, t.sport, t.dport, t.proto, BL_DIR_EGRESS);
	e = bpf_map_lookup_elem(&nat, &k);
	if (!e)
		return BL_NOT_MINE;
	entry_touch(e, t.tcp_flags, nat_now());
	if (e->seen & BL_NAT_VIA_HOST)
		return BL_PASS_NAT_VIA_HOST;
	if (!(e->svc & BL_NAT_SVC_REPLY))
		return BL_NOT_MINE;
	if (svc_reply_rewrite(skb, &t, l4_off, e))
		return -BL_DROP_NAT_UNSUPPORTED;
	return BL_SVC_REPLY;
}

/*
 * A packet to a pod marked BL_EP_RX_TRACKED or BL_EP_HOST_NAT (flags
 * ep_flags), coming in from the uplink or the host: the reply of a service
 * flow the pod is the client of takes the service's address (SVC_REPLY or
 * SVC_ICMP_ERROR, rewritten), the reply of a flow netfilter translated here
 * goes to the host stack (PASS_HOST_NAT, only asked where host_nat), anything
 * else is not ours (BL_NOT_MINE). A negative drop reason where a rewrite
 * failed.
 */
static __noinline __attribute__((unused)) int svc_tracked_rx(struct __sk_buff *skb, __u16 ep_flags, int host_nat)
{
	struct bl_nat_entry *e;
	struct nat_tuple t = {};
	struct ethhdr *eth;
	struct bl_nat_key k;
	struct iphdr *ip;
	__u32 l4_off;

	ip = ip_headers(skb, &eth);
	if (!ip)
		return BL_NOT_MINE;

	if (ip->protocol == IPPROTO_ICMP && !ip_later_frag(ip))
		return ep_flags & BL_EP_RX_TRACKED ?
			       svc_icmp_error(skb, ip, IP_OFF + ip->ihl * 4,
					      BL_DIR_INGRESS) :
			       BL_NOT_MINE;
	if (svc_tuple(skb, ip, &t, &l4_off))
		return BL_NOT_MINE;
	if (ep_flags & BL_EP_RX_TRACKED) {
		key_from(&k, t.saddr, t.daddr, t.sport, t.dport, t.proto,
			 BL_DIR_INGRESS);
		e = bpf_map_lookup_elem(&nat, &k);
		if (e && (e->svc & BL_NAT_SVC_REPLY)) {
			entry_touch(e, t.tcp_flags, nat_now());
			if (svc_reply_rewrite(skb, &t, l4_off, e))
				return -BL_DROP_NAT_UNSUPPORTED;
			return BL_SVC_REPLY;
		}
	}
	if (host_nat && (ep_flags & BL_EP_HOST_NAT) &&
	    nf_ct_natted(skb, t.saddr, t.daddr, bpf_htons(t.sport),
			 bpf_htons(t.dport), t.proto))
		return BL_PASS_HOST_NAT;
	return BL_NOT_MINE;
}

/*
 * to_pod: a connection the host stack delivers to a pod from inside the
 * cluster, which netfilter translated on the way (kube-proxy's DNAT of a
 * service address, a hostPort): record it so that the pod's replies go
 * back through the host (VIA_HOST), and mark the pod so from_pod looks.
 * Conntrack knows the flow by its reply tuple, the packet's reversed.
 */
static __always_inline void svc_note_host_nat(struct __sk_buff *skb, struct iphdr *ip,
					      struct bl_endpoint *ep)
{
	struct nat_tuple t = {};
	__u32 l4_off;

	if (svc_tuple(skb, ip, &t, &l4_off))
		return;
	if (!nf_ct_natted(skb, t.daddr, t.saddr, bpf_htons(t.dport),
			  bpf_htons(t.sport), t.proto))
		return;
	nat_note_inbound(skb, ip, BL_NAT_VIA_HOST);
	ep_flag(ep, BL_EP_TX_TRACKED);
}

#endif
