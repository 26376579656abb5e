/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv4 fragments through NAT. Only the first fragment of a datagram carries
 * the ports a mapping is found by: later ones going out take the node IP
 * whatever the mapping, later ones coming back follow where the first went
 * (the frags map).
 */
#ifndef BL_NAT_FRAG_H
#define BL_NAT_FRAG_H

#include <linux/bpf.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "count.h"
#include "csum.h"
#include "maps.h"
#include "parse.h"

/*
 * A pod's later fragment: its source becomes the node IP; the first
 * fragment carried the L4 checksum change, so only the IP header changes.
 * Returns 0 or -1.
 */
static __always_inline int frag_snat(struct __sk_buff *skb, __be32 saddr,
				     __be32 node_ip)
{
	return ip_addr_set(skb, IP_SADDR_OFF, saddr, node_ip);
}

/* What every fragment of ip's datagram shares. */
static __always_inline void frag_key(struct bl_frag_key *fk,
				     const struct iphdr *ip)
{
	fk->id = ip->id;
	fk->proto = ip->protocol;
	fk->pad = 0;
	__builtin_memcpy(fk->saddr, &ip->saddr, 4);
	__builtin_memcpy(fk->daddr, &ip->daddr, 4);
}

/*
 * The first fragment of a reply translated to pod: its later fragments go
 * there too.
 */
static __always_inline void frag_note_first(const struct iphdr *ip, __be32 pod)
{
	struct bl_frag_entry fv;
	struct bl_frag_key fk;

	if (!(ip->frag_off & bpf_htons(IP_MF)))
		return;
	frag_key(&fk, ip);
	__builtin_memcpy(fv.pod_ip, &pod, 4);
	bpf_map_update_elem(&frags, &fk, &fv, BPF_ANY);
}

/*
 * A later fragment arriving for the node IP: to the pod its first fragment
 * went to, if it was translated. Returns NAT_INGRESS with *pod_ip set,
 * BL_NOT_MINE for a fragment of no translated datagram, or
 * -DROP_NAT_UNSUPPORTED.
 */
static __always_inline int frag_follow_first(struct __sk_buff *skb,
					     const struct iphdr *ip,
					     __be32 *pod_ip)
{
	struct bl_frag_entry *fe;
	struct bl_frag_key fk;
	__be32 pod;

	frag_key(&fk, ip);
	fe = bpf_map_lookup_elem(&frags, &fk);
	if (!fe)
		return BL_NOT_MINE;
	__builtin_memcpy(&pod, fe->pod_ip, 4);
	/*
	 * The last one closes the entry, so a later datagram reusing the IP
	 * id cannot follow it (fragments out of order beyond this are lost,
	 * as without the entry).
	 */
	if (!(ip->frag_off & bpf_htons(IP_MF)))
		bpf_map_delete_elem(&frags, &fk);
	if (ip_addr_set(skb, IP_DADDR_OFF, ip->daddr, pod))
		return -BL_DROP_NAT_UNSUPPORTED;
	*pod_ip = pod;
	return BL_NAT_INGRESS;
}

#endif
