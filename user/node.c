// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bridgeless.h"
#include "attach.h"
#include "datapath.h"
#include "datapath.skel.h"
#include "link.h"
#include "log.h"
#include "node.h"
#include "pod.h"

#define IP_FORWARD "/proc/sys/net/ipv4/ip_forward"

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
	return 0;
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
}

static int count_pods(const struct pod_rec *p, void *data)
{
	(*(int *)data)++;
	return 0;
}

struct reattach {
	const struct ctx *c;
	int prog_fd;
};

/* New programs were pinned: move every pod's attachment onto them. */
static int reattach_pod(const struct pod_rec *p, void *data)
{
	struct reattach *r = data;
	char pin[PATH_MAX];
	int ret;

	link_pin_path(r->c, p->host_ifname, pin);
	ret = attach_ingress(p->host_ifindex, r->prog_fd, pin);
	if (ret < 0)
		pr_warn("pod %s: reattach to %s: %s", p->name, p->host_ifname,
			error_message());
	return 0;
}

/* Forwarding must be on for the host-routed paths; remember if we turned it on. */
static int enable_ip_forward(int *changed)
{
	char v = '0';
	int fd, err = 0;

	*changed = 0;
	fd = open(IP_FORWARD, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errorf(-errno, "open %s", IP_FORWARD);
	if (read(fd, &v, 1) == 1 && v == '0') {
		if (pwrite(fd, "1\n", 2, 0) != 2)
			err = errorf(-errno, "enable %s", IP_FORWARD);
		else
			*changed = 1;
	}
	close(fd);
	return err;
}

static int restore_ip_forward(void)
{
	int fd = open(IP_FORWARD, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (write(fd, "0\n", 2) != 2)
		pr_warn("could not restore %s", IP_FORWARD);
	close(fd);
	return 0;
}

int node_init(const struct ctx *c, const struct node_init_req *req)
{
	struct datapath *skel = NULL;
	struct link_info uplink;
	struct node_rec n, old;
	struct bl_config cfg;
	char pin[PATH_MAX], a[20];
	int err, fresh, pods = 0, mode, fwd_changed = 0;
	struct nl nl = {};
	__u32 zero = 0;

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
			detach_ingress(old.uplink_ifindex, pin);
		}
	}

	err = bpffs_prepare(c->pin_dir);
	if (err)
		goto fail;
	err = datapath_load(c, &skel);
	if (err)
		goto fail;
	fill_config(&n, &uplink, &cfg);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.config), &zero, &cfg, BPF_ANY)) {
		err = errorf(-errno, "write config map");
		goto fail;
	}
	link_pin_path(c, "uplink", pin);
	mode = attach_ingress(n.uplink_ifindex, bpf_program__fd(skel->progs.from_uplink),
			      pin);
	if (mode < 0) {
		err = error_prefix(mode, "uplink %s", n.uplink);
		goto fail;
	}
	n.attach_mode = mode;
	if (!fresh) {
		struct reattach r = { c, bpf_program__fd(skel->progs.from_pod) };

		pod_foreach(c, reattach_pod, &r);
	}
	err = enable_ip_forward(&fwd_changed);
	if (err)
		goto fail;
	n.ip_forward_changed = fresh ? fwd_changed : old.ip_forward_changed || fwd_changed;
	err = node_save(c, &n);
	if (err)
		goto fail;
	datapath__destroy(skel);
	return 0;

fail:
	if (fresh) {
		/* Leave nothing behind on a node that was not initialized. */
		link_pin_path(c, "uplink", pin);
		detach_ingress(n.uplink_ifindex, pin);
		datapath_unpin(c);
		if (fwd_changed)
			restore_ip_forward();
	}
	datapath__destroy(skel);
	return err;
}

static int del_pod(const struct pod_rec *p, void *data)
{
	const struct ctx *c = data;

	if (pod_del(c, p->name))
		pr_warn("node reset: pod %s: %s", p->name, error_message());
	return 0;
}

static void remove_state_files(const struct ctx *c)
{
	const char *files[] = { "ipam/last", "ipam", "pods", "node.json", "lock" };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", c->state_dir, files[i]);
		if (remove(path) && errno != ENOENT)
			pr_warn("node reset: remove %s: %s", path, strerror(errno));
	}
	/* Only if empty: the directory may be shared with other files. */
	rmdir(c->state_dir);
}

int node_reset(const struct ctx *c)
{
	char pin[PATH_MAX];
	struct node_rec n;
	int err, have_node;

	err = node_load(c, &n);
	have_node = err == 0;
	if (err && err != -ENOENT)
		return err;
	error_clear();
	pod_foreach(c, del_pod, (void *)c);
	link_pin_path(c, "uplink", pin);
	detach_ingress(have_node ? n.uplink_ifindex : 0, pin);
	err = datapath_unpin(c);
	if (err)
		return err;
	if (have_node && n.ip_forward_changed)
		restore_ip_forward();
	remove_state_files(c);
	return 0;
}
