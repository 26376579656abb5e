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

/* "--uplink auto": the interface that has the node IP (IPv4, else IPv6). */
static int find_uplink(struct nl *nl, const struct node_init_req *req,
		       struct link_info *uplink)
{
	int err, ifindex;

	if (req->given & NI_NODE_IP)
		err = addr_find_ifindex(nl, req->node_ip, &ifindex);
	else if (req->given & NI_NODE_IP6)
		err = addr_find_ifindex6(nl, req->node_ip6, &ifindex);
	else
		return errorf_raw(-EINVAL, "uplink auto needs the node IP (--node-ip)");
	if (!err)
		err = link_get(nl, NULL, ifindex, uplink);
	return err ? error_prefix(err, "uplink auto") : 0;
}

/* The IPv4 half of the request, where it has an IPv4 pod CIDR. */
static int parse_ipv4(struct nl *nl, const struct node_init_req *req, struct node_rec *n,
		      const struct link_info *uplink)
{
	char a[20], b[20];
	int err, i;

	n->pod_cidr = req->pod_cidr;
	if (n->pod_cidr.len > 30 || n->pod_cidr.len < 8)
		return errorf_raw(-EINVAL, "pod CIDR %s: prefix length must be 8 to 30",
				  cidr_str(&n->pod_cidr, a));
	n->cluster_cidr = req->given & NI_CLUSTER_CIDR ? req->cluster_cidr : n->pod_cidr;
	if (n->cluster_cidr.len > n->pod_cidr.len ||
	    !cidr_contains(&n->cluster_cidr, n->pod_cidr.net))
		return errorf_raw(-EINVAL, "pod CIDR %s is not inside cluster CIDR %s",
				  cidr_str(&n->pod_cidr, a), cidr_str(&n->cluster_cidr, b));
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
	for (i = 0; i < req->n_nomasq; i++)
		n->nomasq[n->n_nomasq++] = req->nomasq[i];
	return 0;
}

/*
 * The IPv6 half: a pod CIDR of /64 to /120 (its host part fits the IPAM's
 * 64 bits), the cluster CIDR around it, the node's address (given, or
 * the uplink's first global one) outside it.
 */
static int parse_ipv6(struct nl *nl, const struct node_init_req *req, struct node_rec *n,
		      const struct link_info *uplink)
{
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN], ip[IPADDR_STRLEN];
	int err, i;

	n->pod_cidr6 = req->pod_cidr6;
	if (n->pod_cidr6.len > 120 || n->pod_cidr6.len < 64)
		return errorf_raw(-EINVAL, "IPv6 pod CIDR %s: prefix length must be 64 to 120",
				  prefix_str(&n->pod_cidr6, a));
	n->cluster_cidr6 = req->given & NI_CLUSTER_CIDR6 ? req->cluster_cidr6 : n->pod_cidr6;
	if (n->cluster_cidr6.len > n->pod_cidr6.len ||
	    !prefix_contains(&n->cluster_cidr6, n->pod_cidr6.net))
		return errorf_raw(-EINVAL, "pod CIDR %s is not inside cluster CIDR %s",
				  prefix_str(&n->pod_cidr6, a), prefix_str(&n->cluster_cidr6, b));
	if (req->given & NI_NODE_IP6) {
		memcpy(n->node_ip6, req->node_ip6, 16);
	} else {
		err = addr_first_ipv6(nl, uplink->ifindex, n->node_ip6);
		if (err)
			return errorf_raw(err,
					  "uplink %s has no global IPv6 address; give --node-ip",
					  n->uplink);
	}
	if (prefix_contains(&n->cluster_cidr6, n->node_ip6))
		return errorf_raw(-EINVAL, "node IP %s is inside the cluster CIDR %s",
				  ip6_str(n->node_ip6, ip), prefix_str(&n->cluster_cidr6, b));
	n->masquerade6 = req->given & NI_MASQUERADE6 ? req->masquerade6 : 1;
	for (i = 0; i < req->n_nomasq6; i++)
		n->nomasq6[n->n_nomasq6++] = req->nomasq6[i];
	return 0;
}

static int parse_request(struct nl *nl, const struct node_init_req *req,
			 struct node_rec *n, struct link_info *uplink)
{
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN];
	struct prefix svc;
	int err, i;

	memset(n, 0, sizeof(*n));
	n->uplink_accept_ra_prev = -1;
	if (!(req->given & NI_UPLINK) || !(req->given & (NI_POD_CIDR | NI_POD_CIDR6)))
		return errorf_raw(-EINVAL, "--uplink and --pod-cidr are required");
	if ((req->given & NI_CLUSTER_CIDR) && !(req->given & NI_POD_CIDR))
		return errorf_raw(-EINVAL, "an IPv4 --cluster-cidr without an IPv4 --pod-cidr");
	if ((req->given & NI_CLUSTER_CIDR6) && !(req->given & NI_POD_CIDR6))
		return errorf_raw(-EINVAL, "an IPv6 --cluster-cidr without an IPv6 --pod-cidr");

	if (!strcmp(req->uplink, "auto"))
		err = find_uplink(nl, req, uplink);
	else if ((err = link_get(nl, req->uplink, 0, uplink)))
		err = errorf_raw(err, "uplink %s: no such interface", req->uplink);
	if (err)
		return err;
	snprintf(n->uplink, sizeof(n->uplink), "%s", uplink->name);
	n->uplink_ifindex = uplink->ifindex;
	if ((req->given & NI_POD_CIDR) && (err = parse_ipv4(nl, req, n, uplink)))
		return err;
	if ((req->given & NI_POD_CIDR6) && (err = parse_ipv6(nl, req, n, uplink)))
		return err;

	n->masquerade = req->given & NI_MASQUERADE ? req->masquerade : 1;
	n->nat_port_min = BL_NAT_PORT_MIN_DEFAULT;
	n->nat_port_max = BL_NAT_PORT_MAX_DEFAULT;
	if (req->given & NI_NAT_PORTS) {
		n->nat_port_min = req->nat_port_min;
		n->nat_port_max = req->nat_port_max;
	}
	/* 0: decided against the pinned table in node_init */
	n->nat_max = req->given & NI_NAT_MAX ? req->nat_max : 0;
	if (req->given & NI_SVC_CIDR) {
		n->n_svc_cidr = req->n_svc_cidr;
		memcpy(n->svc_cidr, req->svc_cidr, sizeof(n->svc_cidr));
	} else {
		n->n_svc_cidr = 1;
		cidr_parse(SVC_CIDR_DEFAULT, &n->svc_cidr[0]);
	}
	for (i = 0; i < n->n_svc_cidr && node_has_ipv4(n); i++)
		if (cidr_contains(&n->cluster_cidr, n->svc_cidr[i].net) ||
		    cidr_contains(&n->svc_cidr[i], n->cluster_cidr.net))
			return errorf_raw(-EINVAL, "service CIDR %s overlaps the cluster CIDR %s",
					  cidr_str(&n->svc_cidr[i], a), cidr_str(&n->cluster_cidr, b));
	if (req->given & NI_SVC_CIDR6) {
		n->svc_cidr6 = req->svc_cidr6;
		svc = n->svc_cidr6;
		if (node_has_ipv6(n) && prefix_overlaps(&svc, &n->cluster_cidr6))
			return errorf_raw(-EINVAL, "service CIDR %s overlaps the cluster CIDR %s",
					  prefix_str(&svc, a), prefix_str(&n->cluster_cidr6, b));
	}
	n->bpf_services = req->given & NI_BPF_SERVICES ? req->bpf_services : 0;
	/* 0: the pinned maps' sizes, decided in node_init */
	n->svc_max = req->given & NI_SVC_MAX ? req->svc_max : 0;
	n->svc_backends_max = req->given & NI_SVC_BACKENDS_MAX ? req->svc_backends_max : 0;
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
	if (node_has_ipv6(n)) {
		cfg->flags |= BL_CFG_IPV6 | (n->masquerade6 ? BL_CFG_MASQUERADE6 : 0);
		memcpy(cfg->node_ip6, n->node_ip6, 16);
		memcpy(cfg->pod_cidr6, n->pod_cidr6.net, 16);
		memcpy(cfg->pod_mask6, n->pod_cidr6.mask, 16);
	}
	if (n->svc_cidr6.family == AF_INET6) {
		memcpy(cfg->svc_cidr6, n->svc_cidr6.net, 16);
		memcpy(cfg->svc_mask6, n->svc_cidr6.mask, 16);
	}
}

/*
 * The NAT66 table's size: the IPv4 table's where the node has IPv6, else
 * a token one (an LRU table is allocated whole). A pinned one of another
 * size is made anew where it held nothing of use (the node had no IPv6,
 * or will have none); between two IPv6 nodes the size follows the IPv4
 * table's, which node init has already checked.
 */
static int nat6_size(const struct ctx *c, const struct node_rec *n, int old_ipv6,
		     __u32 *size)
{
	__u32 pinned = pinned_map_size(c, BL_PIN(BL_MAP_NAT6));

	*size = node_has_ipv6(n) ? n->nat_max : nat_table_size(NAT6_IDLE_SIZE);
	if (!pinned || pinned == *size)
		return 0;
	if (old_ipv6 && node_has_ipv6(n))
		return errorf_raw(-EBUSY,
				  "NAT66 table already has %u entries (asked %u); run `bridgeless node reset` to resize it",
				  pinned, *size);
	return datapath_drop_pin(c, BL_PIN(BL_MAP_NAT6));
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
	struct prefix nomasq6[BL_MAX_NOMASQ + 1];
	struct datapath *dp = NULL;
	struct dp_sizes sizes;
	struct link_info uplink;
	struct node_rec n, old;
	struct bl_config cfg;
	char pin[PATH_MAX], a[PREFIX_STRLEN];
	int err, fresh, pods = 0, mode, fwd_changed = 0, fwd6_changed = 0;
	__u32 nat_size, nat_flags, nat6_max;
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
					  pods, node_has_ipv4(&old) ? cidr_str(&old.pod_cidr, a) :
								      "(none)");
		if (pods && !prefix_equal(&old.pod_cidr6, &n.pod_cidr6))
			return errorf_raw(-EBUSY,
					  "node already has %d pods in IPv6 pod CIDR %s; run `bridgeless node reset` first",
					  pods, node_has_ipv6(&old) ? prefix_str(&old.pod_cidr6, a) :
								      "(none)");
		if (old.uplink_ifindex != n.uplink_ifindex) {
			link_pin_path(c, "uplink", pin);
			detach_ingress(old.uplink_ifindex, pin, old.uplink_clsact_made);
		}
	}

	if (!fresh) {
		/* What an earlier init changed stays ours to restore. */
		n.uplink_accept_ra_prev = old.uplink_accept_ra_prev;
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
	err = nat6_size(c, &n, !fresh && node_has_ipv6(&old), &nat6_max);
	if (err)
		goto fail;
	/* the service maps keep their size unless asked for another one */
	if (!n.svc_max)
		n.svc_max = pinned_map_size(c, BL_PIN(BL_MAP_SVC_FRONTENDS)) ?: BL_SVC_MAX_DEFAULT;
	if (!n.svc_backends_max)
		n.svc_backends_max = pinned_map_size(c, BL_PIN(BL_MAP_SVC_BACKENDS)) ?:
				     BL_SVC_BACKENDS_MAX_DEFAULT;
	sizes = (struct dp_sizes){ .nat_max = n.nat_max, .nat6_max = nat6_max,
				   .svc_max = n.svc_max, .svc_backends_max = n.svc_backends_max };
	err = datapath_load(c, &sizes, &dp);
	if (err)
		goto fail;
	fill_config(&n, &uplink, &cfg);
	err = datapath_set_config(dp, &cfg);
	if (err)
		goto fail;
	/* The cluster CIDR and every --no-masquerade prefix. */
	nomasq[0] = n.cluster_cidr;
	memcpy(nomasq + 1, n.nomasq, n.n_nomasq * sizeof(n.nomasq[0]));
	err = datapath_set_nomasq(dp, nomasq, node_has_ipv4(&n) ? n.n_nomasq + 1 : 0);
	if (err)
		goto fail;
	/* IPv6's: its cluster CIDR and no-masquerade prefixes */
	nomasq6[0] = n.cluster_cidr6;
	memcpy(nomasq6 + 1, n.nomasq6, n.n_nomasq6 * sizeof(n.nomasq6[0]));
	err = datapath_set_nomasq6(dp, nomasq6, node_has_ipv6(&n) ? n.n_nomasq6 + 1 : 0);
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
	if (node_has_ipv6(&n)) {
		err = sysctl_enable_ip6_forward(&n, &fwd6_changed);
		if (err)
			goto fail;
	}
	n.ip6_forward_changed = fresh ? fwd6_changed : old.ip6_forward_changed || fwd6_changed;
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
		n.ip6_forward_changed = fwd6_changed;
		sysctl_restore_ip6_forward(&n);
		sysctl_restore_reserved_ports(&n);
	}
	datapath_close(dp);
	return err;
}

