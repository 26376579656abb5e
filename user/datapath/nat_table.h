/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The user-space side of the NAT table: walking it and collecting garbage.
 * Every flow in it has an anchor (a SNAT mapping's egress entry, a service
 * flow's forward entry, an inbound flow's entry) and, but for inbound
 * flows, a partner (the ingress entry, the reply entry).
 */
#ifndef BL_NAT_H
#define BL_NAT_H

#include <stdint.h>
#include "bridgeless.h"

/* One flow: its anchor and, if present, its partner. */
struct nat_flow {
	struct bl_nat_key ekey; /* the anchor's key */
	struct bl_nat_entry out; /* anchor: node IP and port, or the backend */
	struct bl_nat_entry in; /* partner; in_found says if it exists */
	int in_found;
	uint64_t idle_ns;
	uint64_t age_ns;
	unsigned int timeout_s;
};

struct nat_timeouts {
	unsigned int tcp_syn, tcp_established, tcp_closing, udp, icmp;
};
extern const struct nat_timeouts nat_default_timeouts;

/* 1 if entry e (key k) anchors its flow, 0 if it is the partner. */
int nat_is_anchor(const struct bl_nat_key *k, const struct bl_nat_entry *e);
/* The key of the other half of k's flow; -ENOENT for an entry that stands alone. */
int nat_partner_key(const struct bl_nat_key *k, const struct bl_nat_entry *e,
		    struct bl_nat_key *pk);
/* Delete a flow: entry k (value e) and its partner. */
int nat_flow_delete(int fd, const struct bl_nat_key *k, const struct bl_nat_entry *e);

/* Calls fn for every flow (by its anchor) in the table. */
int nat_foreach(int fd, const struct nat_timeouts *t,
		int (*fn)(const struct nat_flow *f, void *data), void *data);

struct nat_gc_stats {
	unsigned int scanned, expired, orphans, live;
	unsigned int entries; /* left in the table after the pass (both directions) */
};
/* Delete expired mappings (both directions) and half-mappings LRU left behind. */
int nat_gc(int fd, const struct nat_timeouts *t, struct nat_gc_stats *st);

#endif
