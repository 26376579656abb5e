/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Choosing a service's backend for a new connection: sessionAffinity
 * ClientIP first (the backend the client had, while it is younger than the
 * timeout and still in the set), otherwise one of the set at random. The
 * agent has already made the set what kube-proxy would use: ready
 * endpoints, or serving terminating ones when none is ready, only this
 * node's for internalTrafficPolicy Local.
 */
#ifndef BL_SVC_LB_H
#define BL_SVC_LB_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "nat_tuple.h"

static __always_inline const struct bl_svc_backend *
svc_backend_at(const struct bl_svc *fe, __u16 slot)
{
	struct bl_svc_backend_key k = { .id = fe->id, .rev = fe->rev, .slot = slot };

	return bpf_map_lookup_elem(&svc_backends, &k);
}

/*
 * The backend for a new connection of client tuple t to frontend fe (with
 * backends: fe->count > 0), or NULL when its slot is missing (the agent is
 * replacing the set).
 */
static __always_inline const struct bl_svc_backend *
svc_choose(const struct bl_svc *fe, const struct nat_tuple *t, __u64 now)
{
	const struct bl_svc_backend *be;
	struct bl_svc_affinity_key ak = {};
	struct bl_svc_affinity av = {}, *a = NULL;
	__u16 slot;

	if (fe->affinity_s) {
		__builtin_memcpy(ak.client, &t->saddr, 4);
		ak.id = fe->id;
		a = bpf_map_lookup_elem(&svc_affinity, &ak);
		if (a && now - a->last_ns < (__u64)fe->affinity_s * 1000000000ull &&
		    a->slot < fe->count) {
			be = svc_backend_at(fe, a->slot);
			/* the same backend, not just the same slot of a new set */
			if (be && !__builtin_memcmp(be->addr, a->addr, 4) &&
			    be->port == a->port) {
				a->last_ns = now;
				return be;
			}
		}
	}
	slot = bpf_get_prandom_u32() % fe->count;
	be = svc_backend_at(fe, slot);
	if (be && fe->affinity_s) {
		__builtin_memcpy(av.addr, be->addr, 4);
		av.port = be->port;
		av.slot = slot;
		av.last_ns = now;
		bpf_map_update_elem(&svc_affinity, &ak, &av, BPF_ANY);
	}
	return be;
}

/* Count what a service did, by its id (svc_stats). */
static __always_inline void svc_count(__u32 id, __u64 flows, __u64 refused)
{
	struct bl_svc_stats *s = bpf_map_lookup_elem(&svc_stats, &id);

	if (s) {
		s->flows += flows;
		s->refused += refused;
	}
}

static __always_inline void svc_count_packet(struct __sk_buff *skb, __u32 id)
{
	struct bl_svc_stats *s = bpf_map_lookup_elem(&svc_stats, &id);

	if (s) {
		s->packets++;
		s->bytes += skb->len;
	}
}

#endif
