/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The node: `node init` sets the datapath up on an uplink, `node reset` takes it all away. */
#ifndef BL_NODE_H
#define BL_NODE_H

#include <net/if.h>
#include "bridgeless.h"
#include "lib/options.h"
#include "node/pod.h"
#include "node/state.h"

/* What node init is asked for; `given` says which fields were. */
enum node_init_field {
	NI_UPLINK = 1u << 0, /* else required */
	NI_POD_CIDR = 1u << 1, /* else required */
	NI_CLUSTER_CIDR = 1u << 2, /* else the pod CIDR */
	NI_NODE_IP = 1u << 3, /* else the uplink's first IPv4 address */
	NI_NAT_PORTS = 1u << 4, /* else BL_NAT_PORT_{MIN,MAX}_DEFAULT */
	NI_NAT_MAX = 1u << 5, /* else the pinned table's size, or the default */
	NI_MASQUERADE = 1u << 6, /* else on */
	NI_NOMASQ = 1u << 7, /* else none */
	NI_SVC_CIDR = 1u << 8, /* else 10.96.0.0/12 */
	NI_BPF_SERVICES = 1u << 9, /* else off: service addresses to the host stack */
};

struct node_init_req {
	unsigned int given; /* enum node_init_field */
	char uplink[IF_NAMESIZE]; /* "auto": the interface that has node_ip */
	struct cidr pod_cidr;
	struct cidr cluster_cidr;
	uint32_t node_ip; /* network byte order */
	uint16_t nat_port_min, nat_port_max;
	uint32_t nat_max;
	int masquerade;
	int n_nomasq;
	struct cidr nomasq[BL_MAX_NOMASQ - 1]; /* the cluster CIDR takes one more */
	int n_svc_cidr;
	struct cidr svc_cidr[BL_MAX_SVC_CIDRS];
	int bpf_services;
};

/* node init's options, as flags of `node init` and `agent` and agent.conf keys. */
extern const struct opt_def node_init_opts[];
/*
 * Set d (an entry of node_init_opts) to its parsed value v and mark it
 * given. A repeated option (no-masquerade) adds to the list; where
 * *fresh_list is set (flags over a config file's list) it first empties
 * the list and clears *fresh_list. fresh_list may be NULL.
 */
int node_init_set(struct node_init_req *r, const struct opt_def *d,
		  const union opt_value *v, int *fresh_list);
/* The request that gives the node exactly its record's settings again. */
void node_init_req_from_rec(const struct node_rec *n, struct node_init_req *r);
/* What r was not given, from's (where from has it). */
void node_init_req_fill(struct node_init_req *r, const struct node_init_req *from);

/* Idempotent; on a fresh node a failure leaves nothing behind. Caller holds the lock. */
int node_init(const struct ctx *c, const struct node_init_req *req);
/*
 * Removes every pod (through del_hook where it is the hook's, see
 * pod_del_hook), the programs, maps, pins and state. Caller holds the lock.
 */
int node_reset(const struct ctx *c, pod_del_hook *del_hook);

#endif
