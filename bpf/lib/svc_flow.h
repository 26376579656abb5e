/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A service flow's two entries in the NAT table (bridgeless.h, SVC_*): the
 * forward entry, keyed by the client's tuple, holds the backend chosen for
 * the connection; the reply entry, keyed by the backend's reply, holds the
 * service address the client must see. Where the reply entry lives (and so
 * which program finds it) follows from where the backend is.
 */
#ifndef BL_SVC_FLOW_H
#define BL_SVC_FLOW_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "csum.h"
#include "l3.h"
#include "maps.h"
#include "nat_table.h"
#include "nat_tuple.h"

/* 1 if addr lies in one of the service CIDRs. */
static __always_inline int in_service_cidr(const struct bl_config *cfg, __be32 addr)
{
	return (cfg->svc_mask[0] && (addr & cfg->svc_mask[0]) == cfg->svc_cidr[0]) ||
	       (cfg->svc_mask[1] && (addr & cfg->svc_mask[1]) == cfg->svc_cidr[1]);
}

/*
 * The reply entry's key for client tuple t (client -> service) sent to
 * backend addr:port, and its svc bits. The backend answers to the client,
 * or (hairpin) to the service address and the client's port: the client
 * reached itself from there.
 */
static __always_inline __u8 svc_reply_key(struct bl_nat_key *k,
					  const struct bl_config *cfg,
					  const struct nat_tuple *t, __be32 be_addr,
					  __u16 be_port)
{
	if (be_addr == t->saddr) {
		key_from(k, be_addr, t->daddr, be_port, t->sport, t->proto,
			 BL_DIR_EGRESS);
		return BL_NAT_SVC_REPLY | BL_NAT_SVC_HAIRPIN;
	}
	/* a pod of this node answers through from_pod, anybody else on the uplink */
	if (in_prefix(be_addr, cfg->pod_cidr, cfg->pod_mask)) {
		key_from(k, be_addr, t->saddr, be_port, t->sport, t->proto,
			 BL_DIR_EGRESS);
		return BL_NAT_SVC_REPLY;
	}
	key_from(k, be_addr, t->saddr, be_port, t->sport, t->proto, BL_DIR_INGRESS);
	return BL_NAT_SVC_REPLY | BL_NAT_SVC_REMOTE;
}

/*
 * Write (or put back) the reply entry of forward entry fe of tuple t.
 * Returns its svc bits, or 0 where the table refused it.
 */
static __always_inline __u8 svc_reply_put(const struct bl_config *cfg,
					  const struct nat_tuple *t,
					  const struct bl_nat_entry *fe, __u64 now)
{
	struct bl_nat_entry rv = {};
	struct bl_nat_key rk;
	__be32 be;

	__builtin_memcpy(&be, fe->addr, 4);
	rv.svc = svc_reply_key(&rk, cfg, t, be, fe->port);
	__builtin_memcpy(rv.addr, &t->daddr, 4);
	rv.port = t->dport;
	rv.created_ns = rv.last_seen_ns = now;
	return bpf_map_update_elem(&nat, &rk, &rv, BPF_ANY) ? 0 : rv.svc;
}

/*
 * Make the flow of client tuple t to backend be (service id): both entries,
 * the reply one first so that no answer can come back untranslated.
 * Returns the forward entry, or NULL (table full: not even the LRU found
 * room).
 */
static __always_inline struct bl_nat_entry *
svc_flow_create(const struct bl_config *cfg, const struct nat_tuple *t,
		const struct bl_svc_backend *be, __u32 id, __u64 now)
{
	struct bl_nat_entry fv = {};
	struct bl_nat_key fk;
	__u8 reply;

	__builtin_memcpy(fv.addr, be->addr, 4);
	fv.port = be->port;
	fv.svc_id = id;
	fv.seen = tcp_seen(t->tcp_flags);
	fv.created_ns = fv.last_seen_ns = fv.fwd_ns = now;
	reply = svc_reply_put(cfg, t, &fv, now);
	if (!reply)
		return NULL;
	/* where its reply entry is, so the collector can find it too */
	fv.svc = BL_NAT_SVC_FWD | (reply & (BL_NAT_SVC_HAIRPIN | BL_NAT_SVC_REMOTE));
	key_from(&fk, t->saddr, t->daddr, t->sport, t->dport, t->proto,
		 BL_DIR_EGRESS);
	if (bpf_map_update_elem(&nat, &fk, &fv, BPF_ANY))
		return NULL;
	return bpf_map_lookup_elem(&nat, &fk);
}

/*
 * The LRU evicts a flow's entries one by one: a forward entry used again
 * checks its reply entry at most once a second (fwd_ns, unused by service
 * flows otherwise) and puts it back if it is gone.
 */
static __always_inline void svc_pair_check(const struct bl_config *cfg,
					   const struct nat_tuple *t,
					   struct bl_nat_entry *fe, __u64 now)
{
	struct bl_nat_key rk;
	__be32 be;

	if (now - fe->fwd_ns < BL_NAT_FWD_MAX_AGE_NS)
		return;
	fe->fwd_ns = now;
	__builtin_memcpy(&be, fe->addr, 4);
	svc_reply_key(&rk, cfg, t, be, fe->port);
	if (!bpf_map_lookup_elem(&nat, &rk))
		svc_reply_put(cfg, t, fe, now);
}

/*
 * Client -> backend in place: destination address and port; a hairpin's
 * source also becomes the service address (the pod would not take a
 * packet from its own address). t is the packet's tuple, l its layout for
 * the destination port. Returns 0 or -1.
 */
static __always_inline int svc_dnat(struct __sk_buff *skb, const struct nat_tuple *t,
				    __u32 l4_off, const struct l4_layout *l,
				    const struct bl_nat_entry *fe)
{
	__be32 be;

	__builtin_memcpy(&be, fe->addr, 4);
	if (rewrite_addr_port(skb, IP_DADDR_OFF, t->daddr, be, l4_off, l,
			      bpf_htons(t->dport), bpf_htons(fe->port)))
		return -1;
	if (fe->svc & BL_NAT_SVC_HAIRPIN)
		return rewrite_addr_port(skb, IP_SADDR_OFF, t->saddr, t->daddr, l4_off,
					 l, 0, 0);
	return 0;
}

/*
 * Backend -> client in place, by reply entry re of tuple t (backend's
 * packet): source -> service address and port; a hairpin's destination
 * (the service address) -> the client, which is the backend itself.
 * Returns 0 or -1.
 */
static __always_inline int svc_reply_rewrite(struct __sk_buff *skb,
					     const struct nat_tuple *t, __u32 l4_off,
					     const struct bl_nat_entry *re)
{
	struct l4_layout l;
	__be32 fe_addr;

	/* the source port is what changes: the egress layout's port */
	if (l4_layout(t->proto, BL_DIR_EGRESS, &l))
		return -1;
	__builtin_memcpy(&fe_addr, re->addr, 4);
	if (rewrite_addr_port(skb, IP_SADDR_OFF, t->saddr, fe_addr, l4_off, &l,
			      bpf_htons(t->sport), bpf_htons(re->port)))
		return -1;
	if (re->svc & BL_NAT_SVC_HAIRPIN)
		return rewrite_addr_port(skb, IP_DADDR_OFF, t->daddr, t->saddr, l4_off,
					 &l, 0, 0);
	return 0;
}

#endif
