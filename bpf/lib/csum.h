/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Rewriting addresses and ports in place with every checksum that covers
 * them kept right. The kernel's incremental helpers do it, which also
 * handle CHECKSUM_PARTIAL (offloaded TCP/UDP checksums) and UDP packets
 * without a checksum; where each protocol keeps its port and checksum is
 * struct l4_layout.
 */
#ifndef BL_CSUM_H
#define BL_CSUM_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include "bridgeless.h"
#include "parse.h"
#include "proto.h"

/* Where a protocol keeps what NAT rewrites, relative to its header. */
struct l4_layout {
	__u32 port_off; /* the pod side's port: ICMP id, TCP/UDP source port
			 * going out, destination port coming back */
	__u32 csum_off;
	__u64 csum_flags; /* extra bpf_l4_csum_replace flags */
	int pseudo; /* checksum covers the IP addresses */
};

/*
 * Where proto keeps its checksum and the pod side's port (which of the two
 * by dir: the source port going out, the destination port coming back).
 * Returns 0, or -1 for a protocol NAT cannot translate.
 */
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

/*
 * Rewrite the IPv4 address at addr_off (source or destination) and the port
 * l says of the L4 header at l4_off, keeping the IP, L4 and (pseudo-header)
 * checksums right. Ports in network byte order. Returns 0 or -1.
 */
static __always_inline int rewrite_addr_port(struct __sk_buff *skb,
					     __u32 addr_off, __be32 old_addr,
					     __be32 new_addr, __u32 l4_off,
					     const struct l4_layout *l,
					     __be16 old_port, __be16 new_port)
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
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_addr, new_addr, 4) ||
	    bpf_skb_store_bytes(skb, addr_off, &new_addr, 4, 0))
		return -1;
	if (old_port != new_port) {
		if (bpf_l4_csum_replace(skb, csum, old_port, new_port,
					l->csum_flags | 2) ||
		    bpf_skb_store_bytes(skb, l4_off + l->port_off, &new_port, 2, 0))
			return -1;
	}
	return 0;
}

/*
 * Set the IPv4 address at addr_off (source or destination) to new_addr, the
 * IP header's checksum with it. Returns 0 or -1.
 */
static __always_inline int ip_addr_set(struct __sk_buff *skb, __u32 addr_off,
				       __be32 old_addr, __be32 new_addr)
{
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_addr, new_addr, 4) ||
	    bpf_skb_store_bytes(skb, addr_off, &new_addr, 4, 0))
		return -1;
	return 0;
}

/*
 * What checksum check becomes when a 32-bit field it covers changes from old
 * to new (RFC 1624). Computed here, not by a helper, where the new checksum
 * must be known: the IP header an ICMP error quotes has one, and the
 * error's own checksum covers it.
 */
static __always_inline __u16 csum_update4(__u16 check, __be32 old, __be32 new)
{
	__u32 sum;

	sum = (__u16)~check;
	sum += (__u16)~(old & 0xffff) + (__u16)~(old >> 16);
	sum += (new & 0xffff) + (new >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

#endif
