/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Internet checksums computed from scratch (RFC 1071), never updated
 * incrementally as the datapath does: an expected frame must not share the
 * datapath's way of getting a checksum wrong.
 */
#ifndef UNIT_CSUM_H
#define UNIT_CSUM_H

#include <linux/ip.h>
#include <linux/types.h>

__u32 csum_add(__u32 sum, const void *data, __u32 len);
/* The folded, complemented sum in network byte order, ready to store. */
__u16 csum_fold(__u32 sum);
/* The TCP/UDP pseudo-header's sum. */
__u32 pseudo_sum(const struct iphdr *ip, __u8 proto, __u16 l4_len);
/* Where the TCP/UDP checksum field is, from the L4 header; 0: none. */
__u32 l4_csum_off(__u8 proto);

#endif
