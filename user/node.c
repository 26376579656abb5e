// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bridgeless.h"
#include "attach.h"
#include "cni.h"
#include "datapath.h"
#include "datapath.skel.h"
#include "link.h"
#include "log.h"
#include "node.h"
#include "pod.h"

#define IP_FORWARD "/proc/sys/net/ipv4/ip_forward"

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

static int nomasq_wanted(const struct node_rec *n, const struct bl_prefix_key *k)
{
	int i;

	for (i = -1; i < n->n_nomasq; i++) {
		const struct cidr *c = i < 0 ? &n->cluster_cidr : &n->nomasq[i];

		if (k->prefixlen == (__u32)c->len && !memcmp(k->ip, &c->net, 4))
			return 1;
	}
	return 0;
}

/*
 * The cluster CIDR and every --no-masquerade prefix, replacing older entries.
 * New entries go in before stale ones go out: on a running node (agent
 * restart, upgrade) a packet in between must never find the cluster CIDR
 * missing, or it would be SNATed.
 */
static int fill_nomasq(int fd, const struct node_rec *n)
{
	struct bl_prefix_key k, keys[BL_MAX_NOMASQ * 2];
	__u32 one = 1;
	size_t nkeys = 0, j;
	int i, err;

	for (i = -1; i < n->n_nomasq; i++) {
		const struct cidr *c = i < 0 ? &n->cluster_cidr : &n->nomasq[i];

		memset(&k, 0, sizeof(k));
		k.prefixlen = c->len;
		memcpy(k.ip, &c->net, 4);
		if (bpf_map_update_elem(fd, &k, &one, BPF_ANY)) {
			err = -errno;
			return errorf(err, "no-masquerade map");
		}
	}
	while (nkeys < sizeof(keys) / sizeof(keys[0]) &&
	       bpf_map_get_next_key(fd, nkeys ? &keys[nkeys - 1] : NULL,
				    &keys[nkeys]) == 0)
		nkeys++;
	for (j = 0; j < nkeys; j++)
		if (!nomasq_wanted(n, &keys[j]))
			bpf_map_delete_elem(fd, &keys[j]);
	return 0;
}

#define RESERVED_PORTS "/proc/sys/net/ipv4/ip_local_reserved_ports"
#define PORT_RANGE "/proc/sys/net/ipv4/ip_local_port_range"

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	fclose(f);
	return 0;
}

static int write_line(const char *path, const char *s)
{
	FILE *f = fopen(path, "we");
	int err = 0;

	if (!f)
		return -errno;
	if (fprintf(f, "%s\n", s) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/*
 * If the NAT range overlaps the host's ephemeral ports, reserve it there, so
 * the node's own connections never take a port a mapping may use. The
 * default range lies above the default ephemeral range and needs nothing.
 */
static int reserve_nat_ports(struct node_rec *n)
{
	char range[64], prev[sizeof(n->reserved_ports_prev)], next[320];
	unsigned int lo, hi;
	int err;

	if (read_line(PORT_RANGE, range, sizeof(range)) ||
	    sscanf(range, "%u %u", &lo, &hi) != 2)
		return 0;
	if (n->nat_port_max < lo || n->nat_port_min > hi)
		return 0;
	err = read_line(RESERVED_PORTS, prev, sizeof(prev));
	if (err)
		return errorf(err, "read %s", RESERVED_PORTS);
	snprintf(next, sizeof(next), "%s%s%u-%u", prev, prev[0] ? "," : "",
		 n->nat_port_min, n->nat_port_max);
	err = write_line(RESERVED_PORTS, next);
	if (err)
		return errorf(err, "reserve NAT ports %u-%u in %s", n->nat_port_min,
			      n->nat_port_max, RESERVED_PORTS);
	if (!n->reserved_ports_changed)
		snprintf(n->reserved_ports_prev, sizeof(n->reserved_ports_prev), "%s",
			 prev);
	n->reserved_ports_changed = 1;
	pr_info("reserved NAT ports %u-%u in %s", n->nat_port_min,
		n->nat_port_max, RESERVED_PORTS);
	return 0;
}

static void restore_reserved_ports(const struct node_rec *n)
{
	if (n->reserved_ports_changed &&
	    write_line(RESERVED_PORTS, n->reserved_ports_prev))
		pr_warn("could not restore %s", RESERVED_PORTS);
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
	__u32 nat_size, nat_flags;
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
			detach_ingress(old.uplink_ifindex, pin, old.uplink_clsact_made);
		}
	}

	if (!fresh) {
		/* What an earlier init changed stays ours to restore. */
		n.reserved_ports_changed = old.reserved_ports_changed;
		memcpy(n.reserved_ports_prev, old.reserved_ports_prev,
		       sizeof(n.reserved_ports_prev));
		if (n.reserved_ports_changed)
			restore_reserved_ports(&old);
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
	err = datapath_load(c, n.nat_max, &skel);
	if (err)
		goto fail;
	fill_config(&n, &uplink, &cfg);
	{
		struct bl_config prev;

		/*
		 * A new forwarding generation: NAT entries of a reused map
		 * drop the next hops they cached before this init (the uplink
		 * or its routes may have changed).
		 */
		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.config), &zero, &prev))
			prev.fwd_gen = 0;
		cfg.fwd_gen = prev.fwd_gen + 1;
	}
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.config), &zero, &cfg, BPF_ANY)) {
		err = errorf(-errno, "write config map");
		goto fail;
	}
	err = fill_nomasq(bpf_map__fd(skel->maps.nomasq), &n);
	if (err)
		goto fail;
	err = reserve_nat_ports(&n);
	if (err)
		goto fail;
	link_pin_path(c, "uplink", pin);
	/* Made by an earlier init on the same uplink: still ours. */
	n.uplink_clsact_made = !fresh && old.uplink_ifindex == n.uplink_ifindex &&
			       old.uplink_clsact_made;
	mode = attach_ingress(n.uplink_ifindex, bpf_program__fd(skel->progs.from_uplink),
			      pin, &n.uplink_clsact_made);
	if (mode < 0) {
		err = error_prefix(mode, "uplink %s", n.uplink);
		goto fail;
	}
	n.attach_mode = mode;
	if (!fresh) {
		struct reattach r = { c, bpf_program__fd(skel->progs.from_pod),
				      bpf_program__fd(skel->progs.to_pod) };

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
		detach_ingress(n.uplink_ifindex, pin, n.uplink_clsact_made);
		datapath_unpin(c);
		if (fwd_changed)
			restore_ip_forward();
		restore_reserved_ports(&n);
	}
	datapath__destroy(skel);
	return err;
}

/* A pod the CNI plugin added goes as CNI DEL takes it, IPAM reservation and all. */
static int del_pod(const struct pod_rec *p, void *data)
{
	const struct ctx *c = data;
	int err;

	err = cni_del_recorded(c, p->name, NULL);
	if (err == 1)
		err = pod_del(c, p->name);
	if (err) {
		pr_warn("node reset: pod %s: %s", p->name, error_message());
		error_clear();
	}
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
	detach_ingress(have_node ? n.uplink_ifindex : 0, pin,
		       have_node && n.uplink_clsact_made);
	err = datapath_unpin(c);
	if (err)
		return err;
	if (have_node && n.ip_forward_changed)
		restore_ip_forward();
	if (have_node)
		restore_reserved_ports(&n);
	remove_state_files(c);
	return 0;
}
