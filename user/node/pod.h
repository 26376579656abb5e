/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Connecting a pod network namespace to the datapath, and disconnecting it. */
#ifndef BL_POD_H
#define BL_POD_H

#include "node/state.h"

/*
 * Routes a pod gets besides its default routes, each through the pod's
 * gateway of its family (169.254.1.1, fe80::1): the CNI IPAM plugin's
 * "routes".
 */
#define POD_ROUTES_MAX 32
struct pod_routes {
	unsigned int n;
	struct prefix r[POD_ROUTES_MAX]; /* either family, not a default route */
};

/*
 * The addresses a pod gets: v4 and v6 say which families, ip and ip6 the
 * address wanted (0, all zero: the next free one of the node's pod CIDR).
 */
struct pod_ips {
	int v4, v6;
	uint32_t ip; /* network byte order */
	uint8_t ip6[16];
	/* else allocated from the pod CIDR of that family (set by pod_add()) */
	int ip_given, ip6_given;
};

struct pod_add_req {
	const char *name;
	/*
	 * The pod's network namespace, opened by the caller with netns_open()
	 * before it took the state lock (so nothing blocks under the lock),
	 * and the path it resolved to. The caller closes nsfd.
	 */
	int nsfd;
	const char *netns;
	/*
	 * One address per family the node has: these where given (ip_given,
	 * ip6 not NULL), else allocated from the pod CIDR of that family.
	 */
	uint32_t ip; /* where ip_given */
	int ip_given; /* else allocate from the pod CIDR */
	const uint8_t *ip6;
	const char *ifname; /* NULL: eth0 */
	/*
	 * Where set, called for the addresses instead (it says which families
	 * the pod gets, and which addresses) once the pod's interfaces are
	 * made, before anything needs them (the CNI plugin waits for its IPAM
	 * plugin here); its error is pod_add()'s, as it is.
	 */
	int (*get_ip)(void *arg, struct pod_ips *ips);
	void *get_ip_arg;
	/*
	 * Where set, added in the pod's netns once it has its address; read
	 * after get_ip() returned, so get_ip() may fill it in.
	 */
	const struct pod_routes *routes;
};

/*
 * All or nothing: on failure everything made so far (veth, routes, tc
 * attachment, map entry, address reservation, record) is removed again.
 * Killed mid-way, it leaves its record of intent ("adding", written before
 * anything else), from which pod del, the agent or a retried pod add
 * remove the rest. The caller holds the state lock.
 */
int pod_add(const struct ctx *c, const struct pod_add_req *req, struct pod_rec *out);
/*
 * Idempotent: a pod that does not exist is not an error (an invalid name
 * is). Also takes what an interrupted pod add left, and a pod whose record
 * does not parse (moved to quarantine first): what follows from the name
 * goes (host veth, its endpoint and link pins, the name's reservations).
 * Caller holds the lock.
 */
int pod_del(const struct ctx *c, const char *name);
/*
 * The same, calling unplugged(arg) once the pod is out of the datapath (no
 * endpoint, no programs), before its veth (an RCU grace period or two) and
 * its records go: the CNI plugin has the address released meanwhile.
 */
int pod_del_unplugged(const struct ctx *c, const char *name,
		      void (*unplugged)(void *arg), void *arg);
/*
 * How a pod that another component added is deleted its own way: the CNI
 * plugin's DEL also releases the address through its IPAM plugin. Returns
 * 0 when done, 1 (having done nothing) for a pod that is not its own,
 * -errno on failure. The node core knows no plugin: the CLI and the agent
 * hand the CNI plugin's to node_reset() and reconcile().
 */
typedef int pod_del_hook(const struct ctx *c, const char *name);
/* hook's delete where the pod is the hook's, pod_del() otherwise (also for a NULL hook). */
int pod_del_any(const struct ctx *c, const char *name, pod_del_hook *hook);

/* Attach (or move to new programs) the pod's host-veth programs. */
int pod_attach(const struct ctx *c, const struct pod_rec *p, int from_pod,
	       int to_pod);
void pod_detach(const struct ctx *c, const struct pod_rec *p);
/* The pod's entry in the endpoints map, as pod add inserts it. */
void pod_endpoint(const struct pod_rec *p, struct bl_endpoint_key *key,
		  struct bl_endpoint *ep);
/* Its IPv6 entry (endpoints6): the same value, keyed by the IPv6 address. */
void pod_endpoint6(const struct pod_rec *p, struct bl_endpoint6_key *key,
		   struct bl_endpoint *ep);
/* "10.244.1.2", "fd00::2" or "10.244.1.2,fd00::2": the pod's addresses, for messages. */
const char *pod_ips_str(const struct pod_rec *p, char *buf, size_t len);
/*
 * The pod's counter slot in ep_stats: the lowest no other pod record holds
 * (0, uncounted, when all are taken). Caller holds the state lock. A slot
 * is cleared when it is given and when its pod goes.
 */
int pod_slot_alloc(const struct ctx *c, const char *name, uint32_t *slot);
void pod_slot_clear(const struct ctx *c, uint32_t slot);

#endif
