/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The BPF service maps (svc_frontends, svc_backends, svc_stats), written
 * from a list of frontends: each a service address, port and protocol with
 * the backends the datapath may choose from. Every change is atomic for
 * packets: a changed backend set is written under a new revision, then the
 * frontend is switched to it in one map update, then the old revision goes
 * (after a grace period: a program that read the old frontend may still be
 * looking up its backends). Flows to backends that left their service are
 * removed from the NAT table, so their next packet chooses again; flows to
 * backends that stay are untouched.
 */
#ifndef BL_DP_SERVICES_H
#define BL_DP_SERVICES_H

#include <stddef.h>
#include <stdint.h>
#include "bridgeless.h"
#include "lib/ctx.h"

struct dp_backend {
	uint32_t addr; /* network byte order */
	uint16_t port;
};

struct dp_frontend {
	uint32_t addr; /* network byte order */
	uint16_t port;
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t affinity_s; /* ClientIP affinity timeout; 0: none */
	uint32_t flags; /* BL_SVC_* */
	struct dp_backend *be; /* in any order; sorted in place */
	size_t n_be; /* 0: refuse connections */
};

struct dp_sync_stats {
	unsigned int added, changed, removed, unchanged;
	unsigned int flows_removed; /* of backends that left */
};

/*
 * Make the service maps hold exactly frontends fe[0..n-1]. Sorts fe and
 * each backend list. Returns 0 or -errno (the maps then hold a mix of old
 * and new frontends, each of them whole).
 */
int dp_services_sync(const struct ctx *c, struct dp_frontend *fe, size_t n,
		     struct dp_sync_stats *st);

/* One frontend as the maps hold it, for `service list`. */
struct dp_frontend_state {
	struct bl_svc_key key;
	struct bl_svc svc;
	struct bl_svc_stats stats; /* summed over CPUs */
	struct bl_svc_backend be[64]; /* the first 64 of the revision in use */
	unsigned int n_be;
};
/* Calls fn for every frontend in the maps. */
int dp_services_foreach(const struct ctx *c,
			int (*fn)(const struct dp_frontend_state *s, void *data),
			void *data);

#endif
