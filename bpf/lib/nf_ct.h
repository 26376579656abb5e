/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Asking netfilter's conntrack whether it translated a flow (kube-proxy's
 * DNAT, a MASQUERADE): a reply of such a flow must pass netfilter again to
 * be translated back, so the datapath hands it to the host stack instead of
 * redirecting it past netfilter. The conntrack kfuncs (tc programs, Linux
 * 5.18+) find an entry by either direction's tuple; they cannot see a first
 * packet netfilter has not seen yet, which is why only replies are asked.
 * struct nf_conn is the kernel's: only its status is read, at the offset the
 * kernel's BTF gives (CO-RE), so no kernel header is needed.
 */
#ifndef BL_NF_CT_H
#define BL_NF_CT_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/*
 * 1 if conntrack has the flow of (saddr:sport -> daddr:dport, proto TCP or
 * UDP) in either direction and netfilter translated it (source or
 * destination NAT), 0 otherwise. Ports in network byte order, sport in the
 * upper half of ports. A global function of its own object (nf_ct.bpf.c):
 * libbpf 1.1's static linker cannot merge a kfunc declared in two objects,
 * so only that one declares them.
 */
extern int bl_nf_ct_natted(struct __sk_buff *skb, __be32 saddr, __be32 daddr,
			   __u32 ports, __u32 proto);

static __always_inline int nf_ct_natted(struct __sk_buff *skb, __be32 saddr,
					__be32 daddr, __be16 sport, __be16 dport,
					__u8 proto)
{
	return bl_nf_ct_natted(skb, saddr, daddr, (__u32)sport << 16 | dport, proto);
}

#endif
