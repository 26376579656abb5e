/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The test environment: the production datapath object loaded unpinned in
 * the private namespace (netns.h), its endpoints and no-masquerade prefixes
 * filled and its config written as `node init` leaves them.
 */
#ifndef UNIT_ENV_H
#define UNIT_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "bridgeless.h"

struct datapath;

/* from_pod: host veth ingress; from_uplink: uplink ingress; to_pod: host veth egress */
enum prog_id { FROM_POD, FROM_UPLINK, TO_POD };

struct env {
	struct datapath *skel;
	int endpoints_fd;
	int config_fd;
	int counters_fd;
	int nat_fd;
	int frags_fd; /* -1 if the datapath has none */
	int nomasq_fd;
	int svc_fe_fd, svc_be_fd, svc_aff_fd; /* services */
	int ncpus;
	const char *fib_skip; /* why the FIB cases cannot run, or NULL */
	bool nonlinear_checked;
	const char *nonlinear_skip;
};

/*
 * Load the datapath with a NAT table of nat_max entries (0: the object's own
 * size, BL_NAT_MAX_DEFAULT) and set the node up; call from inside the
 * private namespace. Returns 0, or -errno with why filled in.
 */
int env_open(struct env *env, __u32 nat_max, char *why, size_t n);
void env_close(struct env *env);
int prog_fd(struct env *env, enum prog_id prog);

/* The config as `node init` writes it, or all zeroes (not configured). */
int write_config(struct env *env, bool configured);
int update_config(struct env *env, __u32 flags, __u16 lo, __u16 hi);
/* A new forwarding generation, as `node init` makes. */
int fwd_gen_bump(struct env *env);
int read_nat_range(struct env *env, __u16 *lo, __u16 *hi);

int add_endpoint(struct env *env, const char *ip, __u32 ifindex, __u32 id,
		 const __u8 *pod_mac, const __u8 *host_mac);
int del_endpoint(struct env *env, const char *ip);

/* Every counter, summed over the CPUs. */
int read_counters(struct env *env, struct bl_counter_val *sum);

#endif
