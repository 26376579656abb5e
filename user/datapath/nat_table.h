/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The user-space side of SNAT: walking the NAT table and collecting garbage. */
#ifndef BL_NAT_H
#define BL_NAT_H

#include <stdint.h>
#include "bridgeless.h"

/* One mapping: its egress entry and, if present, its ingress partner. */
struct nat_flow {
	struct bl_nat_key ekey;
	struct bl_nat_entry out; /* egress entry: node IP and port */
	struct bl_nat_entry in; /* ingress entry; in_found says if it exists */
	int in_found;
	uint64_t idle_ns;
	uint64_t age_ns;
	unsigned int timeout_s;
};

struct nat_timeouts {
	unsigned int tcp_syn, tcp_established, tcp_closing, udp, icmp;
};
extern const struct nat_timeouts nat_default_timeouts;

/* The ingress key that pairs with an egress entry, and back. */
void nat_ingress_key(const struct bl_nat_key *ek, const struct bl_nat_entry *e,
		     struct bl_nat_key *ik);
void nat_egress_key(const struct bl_nat_key *ik, const struct bl_nat_entry *e,
		    struct bl_nat_key *ek);

/* Calls fn for every mapping (egress entry) in the table. */
int nat_foreach(int fd, const struct nat_timeouts *t,
		int (*fn)(const struct nat_flow *f, void *data), void *data);

struct nat_gc_stats {
	unsigned int scanned, expired, orphans, live;
	unsigned int entries; /* left in the table after the pass (both directions) */
};
/* Delete expired mappings (both directions) and half-mappings LRU left behind. */
int nat_gc(int fd, const struct nat_timeouts *t, struct nat_gc_stats *st);

#endif
