/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Room for the IPv6 paths' large temporaries, per CPU. The IPv6 paths run
 * behind the IPv4 ones (from_uplink's own frame is IPv4's NAT, some 200
 * bytes) and four or five calls deep, and BPF gives all the frames of a
 * call chain 512 bytes together: 40-byte keys, 80-byte entries and quoted
 * 40-byte headers live here instead. Each region has its users, which never
 * call each other; tc programs do not interleave on a CPU (ingress runs in
 * softirq, egress with bottom halves off), so a region holds one packet's
 * data at a time.
 */
#ifndef BL_SCRATCH6_H
#define BL_SCRATCH6_H

#include <linux/bpf.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include "bridgeless.h"
#include "nat6_tuple.h"

/* An entry being written, and its key. */
struct nat6_kv {
	struct bl_nat6_entry v;
	struct bl_nat6_key k;
};

struct scratch6 {
	/* nat6_create, nat6_pair_check, nat6_note_inbound, svc6_open, svc6_pair_check */
	struct nat6_kv kv;
	/* the quote of an ICMPv6 error: icmp6_error_to_pod/_from_pod, svc6_icmp_error */
	struct ipv6hdr inner;
	struct nat6_tuple in;
	struct bl_nat6_key qk;
	/* a fragmented reply's: frag6_note_first, frag6_follow_first */
	struct bl_frag6_key fk;
	struct bl_frag6_entry fv;
	/* a packet's flow: svc6_tracked_tx/_rx, snat6_ingress, the SNAT and service paths */
	struct nat6_tuple t;
	struct bl_nat6_key tk;
	/* a message built whole: the gateway's advertisement, a port unreachable */
	__u8 msg[144] __attribute__((aligned(8)));
};

/* Not pinned: it holds nothing from one packet to the next. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch6);
} scratch6 SEC(".maps") __weak;

static __always_inline struct scratch6 *scratch6_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch6, &zero);
}

#endif
