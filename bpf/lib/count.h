/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Every verdict goes through here, so every drop is counted with its reason. */
#ifndef BL_COUNT_H
#define BL_COUNT_H

#include <linux/pkt_cls.h>
#include "maps.h"

static __always_inline void count(struct __sk_buff *skb, enum bl_counter reason)
{
	__u32 key = reason;
	struct bl_counter_val *v = bpf_map_lookup_elem(&counters, &key);

	if (v) {
		v->packets++;
		v->bytes += skb->len;
	}
}

static __always_inline int drop(struct __sk_buff *skb, enum bl_counter reason)
{
	count(skb, reason);
	return TC_ACT_SHOT;
}

static __always_inline int pass(struct __sk_buff *skb, enum bl_counter reason)
{
	count(skb, reason);
	return TC_ACT_OK;
}

#endif
