/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the node agent remembers between commands, in the state directory:
 *   node.json        the node's configuration (also in the pinned config map)
 *   pods/NAME        one record per pod (JSON); "state": "adding" while pod
 *                    add is under way (its record of intent, see pod_add()),
 *                    "deleting" once pod del has begun
 *   ipam/IP          one file per reserved address (either family), holding the pod name
 *   lock             flock()ed around every change; holds the holder's pid
 *                    and command line
 *   quarantine/      records that did not parse, moved out of the way
 * Every file is written whole through a temporary file and a rename, and
 * never opened through a symbolic link (lib/fs.h).
 */
#ifndef BL_STATE_H
#define BL_STATE_H

#include <limits.h>
#include <net/if.h>
#include <stdint.h>
#include <sys/socket.h>
#include <jansson.h>
#include "bridgeless.h"
#include "lib/addr.h"
#include "lib/ctx.h"

#define POD_NAME_MAX 253
#define SVC_CIDR_DEFAULT "10.96.0.0/12" /* Kubernetes' default service CIDR */

/*
 * A node has an IPv4 pod CIDR (pod_cidr.len != 0), an IPv6 one
 * (pod_cidr6.family == AF_INET6), or both: node_has_ipv4/6().
 */
struct node_rec {
	char uplink[IF_NAMESIZE];
	int uplink_ifindex;
	struct cidr pod_cidr;
	struct cidr cluster_cidr;
	uint32_t node_ip; /* 0 on a node without IPv4 */
	int attach_mode;
	int uplink_clsact_made; /* tc fallback: we created the uplink's clsact qdisc */
	int ip_forward_changed; /* node init turned ip_forward on */
	int masquerade;
	uint16_t nat_port_min, nat_port_max;
	uint32_t nat_max;
	int n_nomasq;
	struct cidr nomasq[BL_MAX_NOMASQ]; /* --no-masquerade, as given */
	struct cidr svc_cidr[BL_MAX_SVC_CIDRS]; /* --service-cidr */
	int n_svc_cidr;
	int bpf_services; /* services load-balanced in BPF (BL_CFG_SERVICES) */
	uint32_t svc_max; /* frontends the service maps hold (--svc-max) */
	uint32_t svc_backends_max; /* backend slots (--svc-backends-max) */
	/* ip_local_reserved_ports before init reserved the NAT range; "" if untouched */
	char reserved_ports_prev[256];
	int reserved_ports_changed;
	/* IPv6 (docs/IPV6.md) */
	struct prefix pod_cidr6;
	struct prefix cluster_cidr6;
	uint8_t node_ip6[16];
	int masquerade6; /* NAT66 to node_ip6 (--masquerade6) */
	int n_nomasq6;
	struct prefix nomasq6[BL_MAX_NOMASQ]; /* IPv6 --no-masquerade, as given */
	struct prefix svc_cidr6; /* an IPv6 --service-cidr; family 0: none */
	int ip6_forward_changed; /* node init turned net.ipv6.conf.all.forwarding on */
	/* the uplink's accept_ra before init made it 2 (RAs with forwarding on); -1: untouched */
	int uplink_accept_ra_prev;
};

static inline int node_has_ipv4(const struct node_rec *n)
{
	return n->pod_cidr.len != 0;
}

static inline int node_has_ipv6(const struct node_rec *n)
{
	return n->pod_cidr6.family == AF_INET6;
}

struct pod_rec {
	char name[POD_NAME_MAX + 1];
	uint32_t ip; /* 0: the pod has no IPv4 address */
	int has_ip6;
	uint8_t ip6[16];
	char netns[PATH_MAX];
	char ifname[IF_NAMESIZE];
	char host_ifname[IF_NAMESIZE];
	int host_ifindex;
	uint8_t mac[6];
	uint8_t host_mac[6];
	uint32_t id;
	uint32_t slot; /* ep_stats slot, 1..BL_MAX_EP_SLOTS-1; 0: none */
	/*
	 * POD_ADDING: pod add has not finished, what the record says may
	 * exist, nothing more (no address yet, say). POD_DELETING: pod del
	 * has begun. Seen by someone holding the state lock, either is what a
	 * command killed mid-way left: pod del (or the agent) finishes it.
	 */
	enum pod_state { POD_READY = 0, POD_ADDING, POD_DELETING } state;
};

/*
 * Exclusive lock on the state directory; returns the fd to unlock with.
 * Waits at most BRIDGELESS_LOCK_TIMEOUT seconds (default 60) and then
 * fails with a message naming the holder (its pid and command line, which
 * every holder writes into the lock file).
 */
int state_lock(const struct ctx *c);
/* What the lock file says besides pid and command line ("CNI ADD container ..."). */
void state_lock_describe(const char *what);
/* The same with a limit of its own (seconds). */
int state_lock_wait(const struct ctx *c, double timeout_s);
void state_unlock(int fd);
/* 0 if the state dir can be written (or made), -EROFS/-EACCES... if not. */
int state_writable(const struct ctx *c);

int node_save(const struct ctx *c, const struct node_rec *n);
int node_load(const struct ctx *c, struct node_rec *n); /* -ENOENT: none */
int node_remove(const struct ctx *c);

int node_rec_from_json(json_t *j, struct node_rec *n);
json_t *node_rec_to_json(const struct node_rec *n);

int pod_name_valid(const char *name);
/* The pod's id, FNV-1a of its name; its host end is "bl" + the id in hex. */
uint32_t pod_id(const char *name);
void pod_host_ifname(const char *name, char *buf /* IF_NAMESIZE */);
int pod_save(const struct ctx *c, const struct pod_rec *p);
/* -ENOENT (quietly, also for an invalid name); -EINVAL if it does not parse. */
int pod_load(const struct ctx *c, const char *name, struct pod_rec *p);
/* The record and its temporary file. */
int pod_remove(const struct ctx *c, const char *name);
json_t *pod_rec_to_json(const struct pod_rec *p);
/* -EINVAL unless j is a whole record of pod name. */
int pod_rec_from_json(json_t *j, const char *name, struct pod_rec *p);
/* Calls fn for each finished pod's record, in name order. */
int pod_foreach(const struct ctx *c,
		int (*fn)(const struct pod_rec *p, void *data), void *data);
/*
 * The same, unfinished ones (adding, deleting) included; records that do
 * not parse are moved to quarantine (state_quarantine). Caller holds the lock.
 */
int pod_foreach_all(const struct ctx *c,
		    int (*fn)(const struct pod_rec *p, void *data), void *data);
/*
 * Move STATE/kind/name (a record that does not parse) to
 * STATE/quarantine/kind/name, saying why in one warning. Caller holds the lock.
 */
int state_quarantine(const struct ctx *c, const char *kind, const char *name,
		     const char *why);

#endif
