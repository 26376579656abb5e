/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The NAT table of the test node: emptied before every case, filled by
 * setups, checked by verify steps. Checks return 0, or -1 with why filled in.
 */
#ifndef UNIT_NAT_TABLE_H
#define UNIT_NAT_TABLE_H

#include <stddef.h>
#include <linux/types.h>

#include "env.h"
#include "packet.h"

void nat_key(struct bl_nat_key *k, const char *saddr, const char *daddr,
	     __u16 sport, __u16 dport, __u8 proto, __u8 dir);
/* The NAT state a case starts without: mappings, and fragments' routes. */
int nat_clear(struct env *env);
/* Entries in the NAT table, of one direction (0: all). */
int nat_count(struct env *env, __u8 dir);
/*
 * Claim node port PORT towards REMOTE:RPORT for another flow, as a mapping
 * of some other pod would: the ingress half is what allocation checks.
 */
int nat_occupy(struct env *env, const char *remote, __u16 rport, __u16 port,
	       __u8 proto);
/* An entry's address for a message; buf holds INET_ADDRSTRLEN bytes. */
const char *ipstr(const __u8 *a, char *buf);

/*
 * Both halves of one SNAT mapping must be in the table and point at each
 * other: egress (pod tuple) -> NODE_IP:node_port, ingress (reply tuple)
 * -> pod_ip:pod_port. For ICMP echo the ports are ids (remote side 0).
 * The egress entry is returned in *out when out is not NULL.
 */
int expect_mapping(struct env *env, __u8 proto, const char *pod_ip,
		   __u16 pod_port, const char *remote, __u16 rport,
		   __u16 node_port, struct bl_nat_entry *out, char *why,
		   size_t n);
int expect_n(struct env *env, int egress, int ingress, char *why, size_t n);
/* A verify step: the case made no entry at all. */
int nat_empty(struct env *env, const struct pkt *got, char *why, size_t n);
/* e keeps the test FIB's answer for SRV_IP (generation 1). */
int expect_fwd_cache(const struct bl_nat_entry *e, char *why, size_t n);
/* e keeps nothing: looked up again and met the unresolved neighbour. */
int expect_no_fwd_cache(const struct bl_nat_entry *e, char *why, size_t n);

#endif
