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
		    const struct peer *self)
{
	struct node_init_req r = o->init, old;
	struct node_rec n;
	int err, have;

	err = node_load(c, &n);
	have = err == 0;
	if (err && err != -ENOENT)
		return err;
	error_clear();
	if (self && self->n_cidrs && !(r.given & NI_POD_CIDR)) {
		r.pod_cidr = self->cidrs[0];
		r.given |= NI_POD_CIDR;
	}
	if (self && self->n_cidrs6 && !(r.given & NI_POD_CIDR6)) {
		r.pod_cidr6 = self->cidrs6[0];
		r.given |= NI_POD_CIDR6;
	}
	if (have) {
		node_init_req_from_rec(&n, &old);
		/* Node IPs found on the old uplink belong to the old uplink. */
		if ((r.given & NI_UPLINK) && strcmp(r.uplink, "auto") &&
		    strcmp(r.uplink, old.uplink))
			old.given &= ~(NI_NODE_IP | NI_NODE_IP6);
		node_init_req_fill(&r, &old);
	}
	/* No uplink, but a node IP: the interface that has it. */
	if (!(r.given & NI_UPLINK) && (r.given & NI_NODE_IP)) {
		snprintf(r.uplink, sizeof(r.uplink), "auto");
		r.given |= NI_UPLINK;
	}
	if (!(r.given & NI_UPLINK) || !(r.given & (NI_POD_CIDR | NI_POD_CIDR6)))
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
