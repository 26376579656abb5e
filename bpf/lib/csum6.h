/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Rewriting IPv6 addresses and ports in place with the checksums that cover
 * them kept right. IPv6 has no header checksum, but every upper-layer
 * checksum (TCP, UDP and, unlike ICMP for IPv4, ICMPv6) covers the
 * addresses through the pseudo-header: a 16-byte change is folded in as
 * one difference (bpf_csum_diff), with the kernel's helpers handling
 * CHECKSUM_PARTIAL as for IPv4.
 */
#ifndef BL_CSUM6_H
#define BL_CSUM6_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include "csum.h"
#include "parse6.h"

/*
 * Where proto keeps its checksum and the pod side's port, as l4_layout()
 * for IPv4; ICMPv6's checksum covers the pseudo-header. Returns 0, or -1
 * for a protocol NAT66 cannot translate.
 */
static __always_inline int l4_layout6(__u8 proto, enum bl_nat_dir dir,
				      struct l4_layout *l)
{
	if (proto == IPPROTO_ICMPV6) {
		*l = (struct l4_layout){ offsetof(struct icmp6hdr, icmp6_identifier),
					 offsetof(struct icmp6hdr, icmp6_cksum), 0, 1 };
		return 0;
	}
	/* IPv4's ICMP has no place in an IPv6 packet */
	return proto == IPPROTO_ICMP ? -1 : l4_layout(proto, dir, l);
}

/*
 * Fold the change of a 16-byte field from old to new (both on the stack
 * or in a map value) into the checksum at csum_off: pseudo for a field of
 * the pseudo-header (the IPv6 addresses), else for one inside what the
 * checksum covers (a quoted header). flags: extra bpf_l4_csum_replace flags.
 */
static __always_inline int csum6_fold_addr(struct __sk_buff *skb, __u32 csum_off,
					   const void *old, const void *new, int pseudo,
					   __u64 flags)
{
	__s64 diff = bpf_csum_diff((__be32 *)old, 16, (__be32 *)new, 16, 0);

	if (diff < 0)
		return -1;
	return bpf_l4_csum_replace(skb, csum_off, 0, diff,
				   (pseudo ? BPF_F_PSEUDO_HDR : 0) | flags) ? -1 : 0;
}

/*
 * Rewrite the IPv6 address at addr_off (old -> new) and the port l says of
 * the upper-layer header at l4_off, with its checksum. Ports in network
 * byte order. Returns 0 or -1.
 */
static __always_inline int rewrite6_addr_port(struct __sk_buff *skb, __u32 addr_off,
					      const void *old, const void *new,
					      __u32 l4_off, const struct l4_layout *l,
					      __be16 old_port, __be16 new_port)
{
	__u32 csum = l4_off + l->csum_off;

	if (csum6_fold_addr(skb, csum, old, new, 1, l->csum_flags) ||
	    bpf_skb_store_bytes(skb, addr_off, new, 16, 0))
		return -1;
	if (old_port != new_port) {
		if (bpf_l4_csum_replace(skb, csum, old_port, new_port,
					l->csum_flags | 2) ||
		    bpf_skb_store_bytes(skb, l4_off + l->port_off, &new_port, 2, 0))
			return -1;
	}
	return 0;
}

#endif
