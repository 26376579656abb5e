// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bridgeless.h"
#include "datapath/attach.h"
#include "datapath/datapath.h"
#include "node/sysctl.h"
#include "lib/log.h"
#include "node/node.h"
#include "node/pod.h"
#include "netlink/link.h"
#include "netlink/address.h"

static int parse_nat_options(const struct node_init_req *req, struct node_rec *n)
{
	unsigned long lo, hi, max;
	char *end;
	int i;

	n->masquerade = 1;
	if (req->masquerade && !strcmp(req->masquerade, "off"))
		n->masquerade = 0;
	else if (req->masquerade && strcmp(req->masquerade, "on"))
		return errorf_raw(-EINVAL, "--masquerade \"%s\": want on or off",
				  req->masquerade);

	n->nat_port_min = BL_NAT_PORT_MIN_DEFAULT;
	n->nat_port_max = BL_NAT_PORT_MAX_DEFAULT;
	if (req->nat_ports) {
		errno = 0;
		lo = strtoul(req->nat_ports, &end, 10);
		if (errno || end == req->nat_ports || *end != '-' ||
		    (hi = strtoul(end + 1, &end, 10), errno || *end) || lo < 1 ||
		    hi > 65535 || lo > hi)
			return errorf_raw(-EINVAL,
					  "--nat-ports \"%s\": want LO-HI with 1 <= LO <= HI <= 65535",
					  req->nat_ports);
		n->nat_port_min = lo;
		n->nat_port_max = hi;
	}

	n->nat_max = 0; /* decided against the pinned table in node_init */
	if (req->nat_max) {
		errno = 0;
		max = strtoul(req->nat_max, &end, 10);
		if (errno || end == req->nat_max || *end || max < 16 || max > (1ul << 26))
			return errorf_raw(-EINVAL,
					  "--nat-max \"%s\": want a number of entries from 16 to %lu",
					  req->nat_max, 1ul << 26);
		n->nat_max = max;
	}

	n->n_nomasq = 0;
	for (i = 0; i < req->n_no_masquerade; i++) {
		if (cidr_parse(req->no_masquerade[i], &n->nomasq[n->n_nomasq]))
			return errorf_raw(-EINVAL,
					  "--no-masquerade \"%s\" does not parse (want a.b.c.d/len with no host bits)",
					  req->no_masquerade[i]);
		n->n_nomasq++;
	}
	return 0;
}

static int parse_request(struct nl *nl, const struct node_init_req *req,
			 struct node_rec *n, struct link_info *uplink)
{
	char a[20], b[20];
	int err;

	memset(n, 0, sizeof(*n));
	if (!req->uplink || !req->pod_cidr)
		return errorf_raw(-EINVAL, "--uplink and --pod-cidr are required");
	if (cidr_parse(req->pod_cidr, &n->pod_cidr))
		return errorf_raw(-EINVAL,
				  "pod CIDR \"%s\" does not parse (want a.b.c.d/len with no host bits)",
				  req->pod_cidr);
	if (n->pod_cidr.len > 30 || n->pod_cidr.len < 8)
		return errorf_raw(-EINVAL, "pod CIDR %s: prefix length must be 8 to 30",
				  req->pod_cidr);
	n->cluster_cidr = n->pod_cidr;
	if (req->cluster_cidr && cidr_parse(req->cluster_cidr, &n->cluster_cidr))
		return errorf_raw(-EINVAL,
				  "cluster CIDR \"%s\" does not parse (want a.b.c.d/len with no host bits)",
				  req->cluster_cidr);
	if (n->cluster_cidr.len > n->pod_cidr.len ||
	    !cidr_contains(&n->cluster_cidr, n->pod_cidr.net))
		return errorf_raw(-EINVAL, "pod CIDR %s is not inside cluster CIDR %s",
				  cidr_str(&n->pod_cidr, a), cidr_str(&n->cluster_cidr, b));

	err = link_get(nl, req->uplink, 0, uplink);
	if (err)
		return errorf_raw(err, "uplink %s: no such interface", req->uplink);
	snprintf(n->uplink, sizeof(n->uplink), "%s", uplink->name);
	n->uplink_ifindex = uplink->ifindex;
	if (req->node_ip) {
		if (ip_parse(req->node_ip, &n->node_ip))
			return errorf_raw(-EINVAL, "node IP \"%s\" does not parse",
					  req->node_ip);
	} else {
		err = addr_first_ipv4(nl, uplink->ifindex, &n->node_ip);
		if (err)
			return errorf_raw(err,
					  "uplink %s has no IPv4 address; give --node-ip",
					  req->uplink);
	}
	if (cidr_contains(&n->cluster_cidr, n->node_ip))
		return errorf_raw(-EINVAL, "node IP %s is inside the cluster CIDR %s",
				  ip_str(n->node_ip, a), cidr_str(&n->cluster_cidr, b));
	return parse_nat_options(req, n);
}

static void fill_config(const struct node_rec *n, const struct link_info *uplink,
			struct bl_config *cfg)
{
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
	cfg->flags = n->masquerade ? BL_CFG_MASQUERADE : 0;
	cfg->nat_port_min = n->nat_port_min;
	cfg->nat_port_max = n->nat_port_max;
}

static int count_pods(const struct pod_rec *p, void *data)
{
	(*(int *)data)++;
	return 0;
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

