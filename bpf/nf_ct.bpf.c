// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Not an attach point: the one object that asks netfilter's conntrack, as a
 * global function the programs call (lib/nf_ct.h says why it lives apart).
 * Verified once on its own; the kernel's struct nf_conn is read through its
 * BTF (CO-RE), only its status.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "lib/nf_ct.h"

struct nf_conn {
	unsigned long status;
} __attribute__((preserve_access_index));

struct bpf_ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u16 ct_zone_id;
	__u8 ct_zone_dir;
	__u8 reserved[3];
};

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb,
					 struct bpf_sock_tuple *tuple, __u32 len,
					 struct bpf_ct_opts *opts, __u32 opts_len) __ksym;
extern void bpf_ct_release(struct nf_conn *ct) __ksym;

#define IPS_SRC_NAT (1ul << 4) /* enum ip_conntrack_status */
#define IPS_DST_NAT (1ul << 5)
#define NETNS_SELF (-1) /* BPF_F_CURRENT_NETNS */

__noinline int bl_nf_ct_natted(struct __sk_buff *skb, __be32 saddr, __be32 daddr,
			       __u32 ports, __u32 proto)
{
	struct bpf_ct_opts opts = { .netns_id = NETNS_SELF, .l4proto = proto };
	struct bpf_sock_tuple t = {};
	struct nf_conn *ct;
	int natted;

	t.ipv4.saddr = saddr;
	t.ipv4.daddr = daddr;
	t.ipv4.sport = ports >> 16;
	t.ipv4.dport = ports & 0xffff;
	ct = bpf_skb_ct_lookup(skb, &t, sizeof(t.ipv4), &opts, sizeof(opts));
	if (!ct)
		return 0;
	natted = !!(ct->status & (IPS_SRC_NAT | IPS_DST_NAT));
	bpf_ct_release(ct);
	return natted;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
