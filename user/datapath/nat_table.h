/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The user-space side of the NAT tables (nat, and nat6 for NAT66): walking
 * them and collecting garbage. Every flow in a table has an anchor (a SNAT
 * mapping's egress entry, a service flow's forward entry, an inbound
 * flow's entry) and, but for inbound flows, a partner (the ingress entry,
 * the reply entry). Both tables are handled in IPv6's shape (16-byte
 * addresses; an IPv4 address in the first 4 bytes, the rest zero).
 */
#ifndef BL_NAT_H
#define BL_NAT_H

#include <stdint.h>
#include <sys/socket.h>
#include "bridgeless.h"

/* One flow: its anchor and, if present, its partner. */
struct nat_flow {
	int family; /* of the table: AF_INET (nat) or AF_INET6 (nat6) */
	struct bl_nat6_key ekey; /* the anchor's key */
	struct bl_nat6_entry out; /* anchor: node address and port, or the backend */
	struct bl_nat6_entry in; /* partner; in_found says if it exists */
	int in_found;
	uint64_t idle_ns;
	uint64_t age_ns;
	unsigned int timeout_s;
};

struct nat_timeouts {
	unsigned int tcp_syn, tcp_established, tcp_closing, udp, icmp;
};
extern const struct nat_timeouts nat_default_timeouts;

/* Delete an IPv4 flow: entry k (value e) and its partner. */
int nat_flow_delete(int fd, const struct bl_nat_key *k, const struct bl_nat_entry *e);
/* The same, of a table of family, in IPv6's shape. */
int nat_flow_delete_family(int fd, int family, const struct bl_nat6_key *k,
			   const struct bl_nat6_entry *e);

/* Calls fn for every flow (by its anchor) in the IPv4 table / a table of family. */
int nat_foreach(int fd, const struct nat_timeouts *t,
		int (*fn)(const struct nat_flow *f, void *data), void *data);
int nat_foreach_family(int fd, int family, const struct nat_timeouts *t,
		       int (*fn)(const struct nat_flow *f, void *data), void *data);

struct nat_gc_stats {
	unsigned int scanned, expired, orphans, live;
	unsigned int entries; /* left in the table after the pass (both directions) */
};
/* Delete expired mappings (both directions) and half-mappings LRU left behind. */
int nat_gc(int fd, const struct nat_timeouts *t, struct nat_gc_stats *st);
int nat_gc_family(int fd, int family, const struct nat_timeouts *t,
		  struct nat_gc_stats *st);

#endif
