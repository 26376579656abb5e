/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef BL_NODE_H
#define BL_NODE_H

#include "bridgeless.h"
#include "node/pod.h"
#include "node/state.h"

struct node_init_req {
	const char *uplink;
	const char *pod_cidr;
	const char *cluster_cidr; /* NULL: the pod CIDR */
	const char *node_ip; /* NULL: the uplink's first IPv4 address */
	const char *nat_ports; /* "LO-HI"; NULL: the default range */
	const char *nat_max; /* NULL: the default, or the existing table's size */
	const char *masquerade; /* "on" / "off"; NULL: on */
	const char *no_masquerade[BL_MAX_NOMASQ];
	int n_no_masquerade;
};

/* Idempotent; on a fresh node a failure leaves nothing behind. Caller holds the lock. */
int node_init(const struct ctx *c, const struct node_init_req *req);
/*
 * Removes every pod (through del_hook where it is the hook's, see
 * pod_del_hook), the programs, maps, pins and state. Caller holds the lock.
 */
int node_reset(const struct ctx *c, pod_del_hook *del_hook);

#endif
