// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "datapath/attach.h"
#include "datapath/datapath.h"
#include "lib/log.h"
#include "netlink/address.h"
#include "netlink/link.h"
#include "node/node.h"
#include "node/sysctl.h"

/* "--uplink auto": the interface that has the node IP. */
static int find_uplink(struct nl *nl, const struct node_init_req *req,
		       struct link_info *uplink)
{
	int err, ifindex;

	if (!(req->given & NI_NODE_IP))
		return errorf_raw(-EINVAL, "uplink auto needs the node IP (--node-ip)");
	err = addr_find_ifindex(nl, req->node_ip, &ifindex);
	if (!err)
		err = link_get(nl, NULL, ifindex, uplink);
	return err ? error_prefix(err, "uplink auto") : 0;
}

static int parse_request(struct nl *nl, const struct node_init_req *req,
			 struct node_rec *n, struct link_info *uplink)
{
	char a[20], b[20];
	int err, i;

	memset(n, 0, sizeof(*n));
	if (!(req->given & NI_UPLINK) || !(req->given & NI_POD_CIDR))
		return errorf_raw(-EINVAL, "--uplink and --pod-cidr are required");
	n->pod_cidr = req->pod_cidr;
	if (n->pod_cidr.len > 30 || n->pod_cidr.len < 8)
		return errorf_raw(-EINVAL, "pod CIDR %s: prefix length must be 8 to 30",
				  cidr_str(&n->pod_cidr, a));
	n->cluster_cidr = req->given & NI_CLUSTER_CIDR ? req->cluster_cidr : n->pod_cidr;
	if (n->cluster_cidr.len > n->pod_cidr.len ||
	    !cidr_contains(&n->cluster_cidr, n->pod_cidr.net))
		return errorf_raw(-EINVAL, "pod CIDR %s is not inside cluster CIDR %s",
				  cidr_str(&n->pod_cidr, a), cidr_str(&n->cluster_cidr, b));

	if (!strcmp(req->uplink, "auto"))
		err = find_uplink(nl, req, uplink);
	else if ((err = link_get(nl, req->uplink, 0, uplink)))
		err = errorf_raw(err, "uplink %s: no such interface", req->uplink);
	if (err)
		return err;
	snprintf(n->uplink, sizeof(n->uplink), "%s", uplink->name);
	n->uplink_ifindex = uplink->ifindex;
	if (req->given & NI_NODE_IP) {
		n->node_ip = req->node_ip;
	} else {
		err = addr_first_ipv4(nl, uplink->ifindex, &n->node_ip);
		if (err)
			return errorf_raw(err,
					  "uplink %s has no IPv4 address; give --node-ip",
					  n->uplink);
	}
	if (cidr_contains(&n->cluster_cidr, n->node_ip))
		return errorf_raw(-EINVAL, "node IP %s is inside the cluster CIDR %s",
				  ip_str(n->node_ip, a), cidr_str(&n->cluster_cidr, b));

	n->masquerade = req->given & NI_MASQUERADE ? req->masquerade : 1;
	n->nat_port_min = BL_NAT_PORT_MIN_DEFAULT;
	n->nat_port_max = BL_NAT_PORT_MAX_DEFAULT;
	if (req->given & NI_NAT_PORTS) {
		n->nat_port_min = req->nat_port_min;
		n->nat_port_max = req->nat_port_max;
	}
	/* 0: decided against the pinned table in node_init */
	n->nat_max = req->given & NI_NAT_MAX ? req->nat_max : 0;
	for (i = 0; i < req->n_nomasq; i++)
		n->nomasq[n->n_nomasq++] = req->nomasq[i];
	if (req->given & NI_SVC_CIDR) {
		n->n_svc_cidr = req->n_svc_cidr;
		memcpy(n->svc_cidr, req->svc_cidr, sizeof(n->svc_cidr));
	} else {
		n->n_svc_cidr = 1;
		cidr_parse(SVC_CIDR_DEFAULT, &n->svc_cidr[0]);
	}
	for (i = 0; i < n->n_svc_cidr; i++)
		if (cidr_contains(&n->cluster_cidr, n->svc_cidr[i].net) ||
		    cidr_contains(&n->svc_cidr[i], n->cluster_cidr.net))
			return errorf_raw(-EINVAL, "service CIDR %s overlaps the cluster CIDR %s",
					  cidr_str(&n->svc_cidr[i], a), cidr_str(&n->cluster_cidr, b));
	n->bpf_services = req->given & NI_BPF_SERVICES ? req->bpf_services : 0;
	return 0;
}

static void fill_config(const struct node_rec *n, const struct link_info *uplink,
			struct bl_config *cfg)
{
	int i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->node_ip = n->node_ip;
	cfg->pod_cidr = n->pod_cidr.net;
	cfg->pod_mask = n->pod_cidr.mask;
	cfg->pod_prefix_len = n->pod_cidr.len;
	cfg->cluster_cidr = n->cluster_cidr.net;
	cfg->cluster_mask = n->cluster_cidr.mask;
	cfg->cluster_prefix_len = n->cluster_cidr.len;
	cfg->uplink_ifindex = n->uplink_ifindex;
	memcpy(cfg->uplink_mac, uplink->mac, 6);
	cfg->flags = (n->masquerade ? BL_CFG_MASQUERADE : 0) |
		     (n->bpf_services ? BL_CFG_SERVICES : 0);
	cfg->nat_port_min = n->nat_port_min;
	cfg->nat_port_max = n->nat_port_max;
	for (i = 0; i < n->n_svc_cidr && i < BL_MAX_SVC_CIDRS; i++) {
		cfg->svc_cidr[i] = n->svc_cidr[i].net;
		cfg->svc_mask[i] = n->svc_cidr[i].mask;
	}
}

static int count_pods(const struct pod_rec *p, void *data)
{
	(*(int *)data)++;
	return 0;
}

struct ifindexes {
	int *v;
	size_t n, cap;
};

static int add_ifindex(struct ifindexes *l, int ifindex)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		int *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = ifindex;
	return 0;
}

static int pod_ifindex(const struct pod_rec *p, void *data)
{
	return add_ifindex(data, p->host_ifindex);
}

/*
 * Maps whose pins went (a stray rm, bpffs mounted again) while the
 * programs kept running: pin the live ones again, from the programs on
 * the uplink or any pod's veth, so the load below reuses them.
 */
static void repin_live_maps(const struct ctx *c, const struct node_rec *old)
{
	struct ifindexes l = {};

	if (add_ifindex(&l, old->uplink_ifindex) == 0 &&
	    pod_foreach(c, pod_ifindex, &l) == 0 && datapath_repin(c, l.v, l.n) < 0) {
		pr_warn("node init: %s", error_message());
	}
	error_clear();
	free(l.v);
}

struct reattach {
	const struct ctx *c;
	int from_pod, to_pod;
};

/* New programs were pinned: move every pod's attachment onto them. */
static int reattach_pod(const struct pod_rec *p, void *data)
{
	struct reattach *r = data;

	if (pod_attach(r->c, p, r->from_pod, r->to_pod))
		pr_warn("pod %s: reattach to %s: %s", p->name, p->host_ifname,
			error_message());
	return 0;
}

int node_init(const struct ctx *c, const struct node_init_req *req)
{
	struct cidr nomasq[BL_MAX_NOMASQ + 1];
	struct datapath *dp = NULL;
	struct link_info uplink;
	struct node_rec n, old;
	struct bl_config cfg;
	char pin[PATH_MAX], a[20];
	int err, fresh, pods = 0, mode, fwd_changed = 0;
	__u32 nat_size, nat_flags;
	struct nl nl = {};

	err = nl_open(&nl);
	if (err)
		return err;
	err = parse_request(&nl, req, &n, &uplink);
	nl_close(&nl);
	if (err)
		return err;

	err = node_load(c, &old);
	fresh = err == -ENOENT;
	if (err && !fresh)
		return err;
	error_clear();
	if (!fresh) {
		pod_foreach(c, count_pods, &pods);
		if (pods && (old.pod_cidr.net != n.pod_cidr.net ||
			     old.pod_cidr.len != n.pod_cidr.len))
			return errorf_raw(-EBUSY,
					  "node already has %d pods in pod CIDR %s; run `bridgeless node reset` first",
					  pods, cidr_str(&old.pod_cidr, a));
		if (old.uplink_ifindex != n.uplink_ifindex) {
			link_pin_path(c, "uplink", pin);
			detach_ingress(old.uplink_ifindex, pin, old.uplink_clsact_made);
		}
	}

	if (!fresh) {
		/* What an earlier init changed stays ours to restore. */
		n.reserved_ports_changed = old.reserved_ports_changed;
		memcpy(n.reserved_ports_prev, old.reserved_ports_prev,
		       sizeof(n.reserved_ports_prev));
		if (n.reserved_ports_changed)
			sysctl_restore_reserved_ports(&old);
		n.reserved_ports_changed = 0;
	}

	err = bpffs_prepare(c->pin_dir);
	if (err)
		goto fail;
	if (!fresh)
		repin_live_maps(c, &old);
	nat_size = pinned_nat_table(c, &nat_flags);
	if (nat_size && !(nat_flags & BPF_F_NO_COMMON_LRU)) {
		err = errorf_raw(-EBUSY,
				 "NAT table %s/nat has a shared LRU (an older bridgeless made it); run `bridgeless node reset` to recreate it (its mappings are lost)",
				 c->pin_dir);
		goto fail;
	}
	if (n.nat_max)
		n.nat_max = nat_table_size(n.nat_max);
	if (nat_size && n.nat_max && n.nat_max != nat_size) {
		err = errorf_raw(-EBUSY,
				 "NAT table already has %u entries (asked %u); run `bridgeless node reset` to resize it",
				 nat_size, n.nat_max);
		goto fail;
	}
	if (!n.nat_max)
		n.nat_max = nat_size ?: nat_table_size(BL_NAT_MAX_DEFAULT);
	err = datapath_load(c, n.nat_max, &dp);
	if (err)
		goto fail;
	fill_config(&n, &uplink, &cfg);
	err = datapath_set_config(dp, &cfg);
	if (err)
		goto fail;
	/* The cluster CIDR and every --no-masquerade prefix. */
	nomasq[0] = n.cluster_cidr;
	memcpy(nomasq + 1, n.nomasq, n.n_nomasq * sizeof(n.nomasq[0]));
	err = datapath_set_nomasq(dp, nomasq, n.n_nomasq + 1);
	if (err)
		goto fail;
	err = sysctl_reserve_nat_ports(&n);
	if (err)
		goto fail;
	link_pin_path(c, "uplink", pin);
	/* Made by an earlier init on the same uplink: still ours. */
	n.uplink_clsact_made = !fresh && old.uplink_ifindex == n.uplink_ifindex &&
			       old.uplink_clsact_made;
	mode = attach_ingress(n.uplink_ifindex, datapath_prog_fd(dp, DP_FROM_UPLINK),
			      pin, &n.uplink_clsact_made);
	if (mode < 0) {
		err = error_prefix(mode, "uplink %s", n.uplink);
		goto fail;
	}
	n.attach_mode = mode;
	if (!fresh) {
		struct reattach r = { c, datapath_prog_fd(dp, DP_FROM_POD),
				      datapath_prog_fd(dp, DP_TO_POD) };

		pod_foreach(c, reattach_pod, &r);
	}
	err = sysctl_enable_ip_forward(&fwd_changed);
	if (err)
		goto fail;
	n.ip_forward_changed = fresh ? fwd_changed : old.ip_forward_changed || fwd_changed;
	err = node_save(c, &n);
	if (err)
		goto fail;
	datapath_close(dp);
	return 0;

fail:
	if (fresh) {
		/* Leave nothing behind on a node that was not initialized. */
		link_pin_path(c, "uplink", pin);
		detach_ingress(n.uplink_ifindex, pin, n.uplink_clsact_made);
		datapath_unpin(c);
		if (fwd_changed)
			sysctl_restore_ip_forward();
		sysctl_restore_reserved_ports(&n);
	}
	datapath_close(dp);
	return err;
}

