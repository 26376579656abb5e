// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The agent's start: node init with the options laid over what the node
 * record says, so `bridgeless agent` with no options adopts the datapath
 * that is there. Either way node_init() loads this binary's BPF object:
 * pinned maps keep their contents and every attachment is moved onto the
 * new programs atomically, which is how an upgraded agent upgrades the
 * datapath without dropping a packet.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "agent/agent.h"
#include "datapath/attach.h"
#include "lib/log.h"
#include "netlink/link.h"
#include "netlink/address.h"

/* Text for a node_init_req made from a node record. */
struct init_text {
	char uplink[IF_NAMESIZE];
	char pod_cidr[20], cluster_cidr[20], node_ip[16];
	char nat_ports[16], nat_max[16], masquerade[4];
	char nomasq[BL_MAX_NOMASQ][20];
};

static void req_from_record(const struct node_rec *n, struct init_text *t,
			    struct node_init_req *r)
{
	int i;

	memset(r, 0, sizeof(*r));
	snprintf(t->uplink, sizeof(t->uplink), "%s", n->uplink);
	cidr_str(&n->pod_cidr, t->pod_cidr);
	cidr_str(&n->cluster_cidr, t->cluster_cidr);
	ip_str(n->node_ip, t->node_ip);
	snprintf(t->nat_ports, sizeof(t->nat_ports), "%u-%u", n->nat_port_min,
		 n->nat_port_max);
	snprintf(t->nat_max, sizeof(t->nat_max), "%u", n->nat_max);
	snprintf(t->masquerade, sizeof(t->masquerade), "%s", n->masquerade ? "on" : "off");
	r->uplink = t->uplink;
	r->pod_cidr = t->pod_cidr;
	r->cluster_cidr = t->cluster_cidr;
	r->node_ip = t->node_ip;
	if (n->nat_port_min)
		r->nat_ports = t->nat_ports;
	if (n->nat_max)
		r->nat_max = t->nat_max;
	r->masquerade = t->masquerade;
	for (i = 0; i < n->n_nomasq && i < BL_MAX_NOMASQ - 1; i++) {
		cidr_str(&n->nomasq[i], t->nomasq[i]);
		r->no_masquerade[i] = t->nomasq[i];
	}
	r->n_no_masquerade = i;
}

/* "uplink = auto" (or none given, with a node IP): the interface with the node IP. */
static int find_uplink(const char *node_ip, char *name)
{
	struct link_info li;
	struct nl nl = {};
	uint32_t ip;
	int err, ifindex;

	if (!node_ip)
		return errorf_raw(-EINVAL, "uplink auto needs the node IP (--node-ip)");
	if (ip_parse(node_ip, &ip))
		return errorf_raw(-EINVAL, "node IP \"%s\" does not parse", node_ip);
	err = nl_open(&nl);
	if (err)
		return err;
	err = addr_find_ifindex(&nl, ip, &ifindex);
	if (!err)
		err = link_get(&nl, NULL, ifindex, &li);
	nl_close(&nl);
	if (err)
		return error_prefix(err, "uplink auto");
	snprintf(name, IF_NAMESIZE, "%s", li.name);
	return 0;
}

static void log_node(const char *what, const struct ctx *c)
{
	char a[20], b[20], ip[16];
	struct node_rec n;

	if (node_load(c, &n)) {
		error_clear();
		return;
	}
	pr_info("agent: %s: uplink %s, node IP %s, pod CIDR %s, cluster CIDR %s, programs attached with %s",
		what, n.uplink, ip_str(n.node_ip, ip), cidr_str(&n.pod_cidr, a),
		cidr_str(&n.cluster_cidr, b), attach_mode_name(n.attach_mode));
}

static int init_locked(const struct ctx *c, const struct node_init_req *r)
{
	int lock, err;

	lock = state_lock(c);
	if (lock < 0)
		return lock;
	err = node_init(c, r);
	state_unlock(lock);
	return err;
}

int agent_init_node(const struct ctx *c, const struct agent_opts *o,
		    const char *pod_cidr)
{
	struct node_init_req r = o->init;
	struct init_text t;
	struct node_rec n;
	char uplink[IF_NAMESIZE];
	int err, have;

	err = node_load(c, &n);
	have = err == 0;
	if (err && err != -ENOENT)
		return err;
	error_clear();
	if (pod_cidr && !r.pod_cidr)
		r.pod_cidr = pod_cidr;
	if (have) {
		struct node_init_req old;

		req_from_record(&n, &t, &old);
		/* A node IP found on the old uplink belongs to the old uplink. */
		if (!r.node_ip && (!r.uplink || !strcmp(r.uplink, "auto") ||
				   !strcmp(r.uplink, old.uplink)))
			r.node_ip = old.node_ip;
		if (!r.uplink)
			r.uplink = old.uplink;
		r.pod_cidr = r.pod_cidr ?: old.pod_cidr;
		r.cluster_cidr = r.cluster_cidr ?: old.cluster_cidr;
		r.nat_ports = r.nat_ports ?: old.nat_ports;
		r.nat_max = r.nat_max ?: old.nat_max;
		r.masquerade = r.masquerade ?: old.masquerade;
		if (!o->init.n_no_masquerade) {
			memcpy(r.no_masquerade, old.no_masquerade, sizeof(r.no_masquerade));
			r.n_no_masquerade = old.n_no_masquerade;
		}
	}
	if ((!r.uplink && r.node_ip) || (r.uplink && !strcmp(r.uplink, "auto"))) {
		err = find_uplink(r.node_ip, uplink);
		if (err)
			return err;
		r.uplink = uplink;
	}
	if (!r.uplink || !r.pod_cidr)
		return errorf_raw(-EINVAL,
				  "node not initialized: give uplink and pod-cidr (flags or the config file), or run `bridgeless node init` first");
	err = init_locked(c, &r);
	if (err)
		return error_prefix(err, "node init");
	log_node(have ? "adopted the datapath, programs replaced in place" :
			"node initialized",
		 c);
	return 0;
}

int agent_reinit_node(const struct ctx *c)
{
	struct node_init_req r;
	struct init_text t;
	struct node_rec n;
	int err;

	err = node_load(c, &n);
	if (err)
		return err;
	req_from_record(&n, &t, &r);
	err = node_init(c, &r);
	if (err)
		return error_prefix(err, "node init");
	log_node("node initialized again", c);
	return 0;
}
