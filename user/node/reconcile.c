// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include "datapath/attach.h"
#include "datapath/datapath.h"
#include "datapath/link_keep.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "netlink/link.h"
#include "netlink/route.h"
#include "node/ipam.h"
#include "node/node.h"
#include "node/reconcile.h"

/* What the pod walk found alive: names of host veths and pod addresses. */
struct alive {
	char (*ifnames)[IF_NAMESIZE];
	uint32_t *ips;
	uint8_t (*ip6s)[16]; /* all zero: none */
	int *ifindex;
	size_t n, cap;
};

struct walk {
	const struct ctx *c;
	pod_del_hook *del_hook;
	struct nl *nl;
	struct pinned *pins;
	struct reconcile_stats *st;
	struct alive alive;
};

static int alive_add(struct alive *a, const struct pod_rec *p)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		char(*names)[IF_NAMESIZE] = realloc(a->ifnames, cap * sizeof(*names));
		uint8_t(*ip6s)[16];
		uint32_t *ips;
		int *ifx;

		if (!names)
			return -ENOMEM;
		a->ifnames = names;
		ips = realloc(a->ips, cap * sizeof(*ips));
		if (!ips)
			return -ENOMEM;
		a->ips = ips;
		ip6s = realloc(a->ip6s, cap * sizeof(*ip6s));
		if (!ip6s)
			return -ENOMEM;
		a->ip6s = ip6s;
		ifx = realloc(a->ifindex, cap * sizeof(*ifx));
		if (!ifx)
			return -ENOMEM;
		a->ifindex = ifx;
		a->cap = cap;
	}
	snprintf(a->ifnames[a->n], IF_NAMESIZE, "%s", p->host_ifname);
	memset(a->ip6s[a->n], 0, 16);
	if (p->has_ip6)
		memcpy(a->ip6s[a->n], p->ip6, 16);
	a->ifindex[a->n] = p->host_ifindex;
	a->ips[a->n++] = p->ip;
	return 0;
}

static int alive_has_ip6(const struct alive *a, const uint8_t *ip)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (!memcmp(a->ip6s[i], ip, 16))
			return 1;
	return 0;
}

static int alive_has_ifname(const struct alive *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (!strcmp(a->ifnames[i], name))
			return 1;
	return 0;
}

static int alive_has_ip(const struct alive *a, uint32_t ip)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->ips[i] == ip)
			return 1;
	return 0;
}

/*
 * The netns file is gone. Only when its directory is visible, though: an
 * agent in a container without /run/netns mounted must not take every pod
 * for dead.
 */
static int netns_gone(const char *path)
{
	char dir[PATH_MAX];
	struct stat st;

	if (!path[0] || stat(path, &st) == 0 || errno != ENOENT)
		return 0;
	snprintf(dir, sizeof(dir), "%s", path);
	return stat(dirname(dir), &st) == 0;
}

/*
 * A pod the CNI plugin added goes the way CNI DEL takes it, its address
 * released through the IPAM plugin too; any other through pod_del().
 */
static void remove_pod(struct walk *w, const struct pod_rec *p, const char *why)
{
	struct pod_rec left;
	char ip[IPADDR_STRLEN + 16];
	int err;

	err = pod_del_any(w->c, p->name, w->del_hook);
	if (err && pod_load(w->c, p->name, &left) == -ENOENT) {
		w->st->pods_removed++;
		pr_warn("reconcile: pod %s: %s; removed the pod, but releasing %s failed: %s",
			p->name, why, pod_ips_str(p, ip, sizeof(ip)), error_message());
		error_clear();
		return;
	}
	if (err) {
		pr_warn("reconcile: pod %s: %s, but removing it failed: %s", p->name, why,
			error_message());
		error_clear();
		return;
	}
	w->st->pods_removed++;
	if (p->state == POD_ADDING)
		pr_warn("reconcile: pod %s: %s; removed what it made", p->name, why);
	else
		pr_warn("reconcile: pod %s: %s; removed the pod and released %s", p->name,
			why, pod_ips_str(p, ip, sizeof(ip)));
}

/* The pod's entry in map fd under key (either family's), as pod add made it. */
static void check_endpoint_in(struct walk *w, const struct pod_rec *p, int fd,
			      const void *key, struct bl_endpoint want, const char *ip)
{
	struct bl_endpoint have;
	int found;

	found = bpf_map_lookup_elem(fd, key, &have) == 0;
	/* The flags are the datapath's own (BL_EP_*): kept, never judged. */
	if (found && have.ifindex == want.ifindex)
		want.flags = have.flags;
	if (found && !memcmp(&have, &want, sizeof(want)))
		return;
	if (bpf_map_update_elem(fd, key, &want, BPF_ANY)) {
		pr_warn("reconcile: pod %s: endpoint %s: %s", p->name, ip, strerror(errno));
		return;
	}
	w->st->repaired++;
	pr_warn("reconcile: pod %s: endpoint %s was %s; restored", p->name, ip,
		found ? "wrong" : "missing");
}

static void check_endpoint(struct walk *w, const struct pod_rec *p)
{
	struct bl_endpoint want;
	struct bl_endpoint_key key;
	struct bl_endpoint6_key key6;
	char ip[IPADDR_STRLEN];

	if (p->has_ip6) {
		pod_endpoint6(p, &key6, &want);
		check_endpoint_in(w, p, w->pins->endpoints6, &key6, want, ip6_str(p->ip6, ip));
	}
	if (!p->ip)
		return;
	pod_endpoint(p, &key, &want);
	check_endpoint_in(w, p, w->pins->endpoints, &key, want, ip_str(p->ip, ip));
}

static void check_host_route(struct walk *w, const struct pod_rec *p, int v6)
{
	struct route_spec r = { .dst = p->ip, .dst_len = 32, .oif = p->host_ifindex,
				.scope = RT_SCOPE_LINK };
	char a[IPADDR_STRLEN], ip[IPADDR_STRLEN + 8];
	int err;

	if (v6) {
		r = (struct route_spec){ .family = AF_INET6, .dst_len = 128,
					 .oif = p->host_ifindex, .scope = RT_SCOPE_UNIVERSE };
		memcpy(r.dst6, p->ip6, 16);
		snprintf(ip, sizeof(ip), "%s/128", ip6_str(p->ip6, a));
	} else {
		snprintf(ip, sizeof(ip), "%s/32", ip_str(p->ip, a));
	}
	err = route_add(w->nl, &r);
	if (err == -EEXIST) {
		error_clear();
		return;
	}
	if (err) {
		pr_warn("reconcile: pod %s: host route to %s: %s", p->name, ip,
			error_message());
		error_clear();
		return;
	}
	w->st->repaired++;
	pr_warn("reconcile: pod %s: host route %s dev %s was missing; restored",
		p->name, ip, p->host_ifname);
}

static int check_pod(const struct pod_rec *p, void *data)
{
	struct walk *w = data;
	struct link_info li;
	char why[PATH_MAX + 64];
	int in, out;

	if (p->state != POD_READY) {
		/* We hold the lock: the command that wrote it was killed. */
		remove_pod(w, p, p->state == POD_ADDING ? "pod add did not finish" :
							  "pod del did not finish");
		return 0;
	}
	if (netns_gone(p->netns)) {
		snprintf(why, sizeof(why), "netns %s is gone", p->netns);
		remove_pod(w, p, why);
		return 0;
	}
	if (link_get(w->nl, p->host_ifname, 0, &li)) {
		error_clear();
		snprintf(why, sizeof(why), "host veth %s is gone", p->host_ifname);
		remove_pod(w, p, why);
		return 0;
	}
	if (li.ifindex != p->host_ifindex) {
		snprintf(why, sizeof(why), "host veth %s was replaced (ifindex %d, was %d)",
			 p->host_ifname, li.ifindex, p->host_ifindex);
		remove_pod(w, p, why);
		return 0;
	}
	if (alive_add(&w->alive, p))
		return errorf(-ENOMEM, "reconcile");

	in = attach_check_dir(p->host_ifindex, w->pins->from_pod, 0);
	out = attach_check_dir(p->host_ifindex, w->pins->to_pod, 1);
	if (!in || !out) {
		if (pod_attach(w->c, p, w->pins->from_pod, w->pins->to_pod)) {
			pr_warn("reconcile: pod %s: re-attach to %s: %s", p->name,
				p->host_ifname, error_message());
			error_clear();
		} else {
			w->st->reattached++;
			pr_warn("reconcile: pod %s: %s%s%s was not attached to %s; re-attached",
				p->name, in ? "" : "from_pod (ingress)",
				!in && !out ? " and " : "", out ? "" : "to_pod (egress)",
				p->host_ifname);
		}
	}
	check_endpoint(w, p);
	if (p->ip)
		check_host_route(w, p, 0);
	if (p->has_ip6)
		check_host_route(w, p, 1);
	return 0;
}

static void check_uplink(struct walk *w, const struct node_rec *n)
{
	static int warned_gone;
	struct link_info li;
	char pin[PATH_MAX];
	int err, made;

	if (link_get(w->nl, n->uplink, 0, &li)) {
		error_clear();
		if (!warned_gone)
			pr_warn("reconcile: uplink %s is gone; waiting for it", n->uplink);
		warned_gone = 1;
		return;
	}
	if (warned_gone)
		pr_info("reconcile: uplink %s is back", n->uplink);
	warned_gone = 0;
	if (li.ifindex != n->uplink_ifindex) {
		pr_warn("reconcile: uplink %s has a new ifindex (%d, was %d); initializing the node again",
			n->uplink, li.ifindex, n->uplink_ifindex);
		w->st->need_init = 1;
		return;
	}
	if (attach_check(li.ifindex, w->pins->from_uplink))
		return;
	link_pin_path(w->c, "uplink", pin);
	made = 0;
	err = attach_ingress(li.ifindex, w->pins->from_uplink, pin, &made);
	if (err < 0) {
		pr_warn("reconcile: uplink %s: re-attach from_uplink: %s", n->uplink,
			error_message());
		error_clear();
		return;
	}
	w->st->reattached++;
	pr_warn("reconcile: uplink %s: from_uplink was not attached; re-attached",
		n->uplink);
	if (made && !n->uplink_clsact_made) {
		/* Its clsact qdisc was gone too and is ours now: node reset removes it. */
		struct node_rec m = *n;

		m.uplink_clsact_made = 1;
		if (node_save(w->c, &m)) {
			pr_warn("reconcile: uplink %s: %s", n->uplink, error_message());
			error_clear();
		}
	}
}

struct veth_list {
	struct link_info *v;
	size_t n, cap;
};

/* Ours by name: "bl" and the 8 hex digits of pod_id(). */
static int our_ifname(const char *name)
{
	size_t i;

	if (strncmp(name, BL_IFNAME_PREFIX, 2) || strlen(name) != 10)
		return 0;
	for (i = 2; i < 10; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return 0;
	return 1;
}

static int collect_veth(const struct link_info *li, void *data)
{
	struct veth_list *l = data;

	if (strcmp(li->kind, "veth") || !our_ifname(li->name))
		return 0;
	if (l->n == l->cap) {
		struct link_info *nv;

		l->cap = l->cap ? l->cap * 2 : 16;
		nv = realloc(l->v, l->cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
	}
	l->v[l->n++] = *li;
	return 0;
}

/* After a dump, not inside it: one netlink socket, one request at a time. */
static void remove_stray_veths(struct walk *w)
{
	struct veth_list l = {};
	size_t i;

	if (link_foreach(w->nl, BL_IFNAME_PREFIX, collect_veth, &l)) {
		pr_warn("reconcile: list links: %s", error_message());
		error_clear();
	}
	for (i = 0; i < l.n; i++) {
		int err;

		if (alive_has_ifname(&w->alive, l.v[i].name))
			continue;
		err = link_del(w->nl, l.v[i].ifindex);
		if (err && err != -ENODEV) {
			pr_warn("reconcile: stray veth %s: delete: %s", l.v[i].name,
				error_message());
			error_clear();
			continue;
		}
		w->st->veths_removed++;
		pr_warn("reconcile: veth %s has no pod; deleted it", l.v[i].name);
	}
	free(l.v);
}

static void remove_stray_endpoints(struct walk *w)
{
	struct bl_endpoint_key *keys;
	size_t n = 0, i;
	uint32_t ip;
	char s[16];

	/* Snapshot first: deleting while walking would restart get_next_key. */
	keys = malloc(BL_MAX_ENDPOINTS * sizeof(*keys));
	if (!keys)
		return;
	while (n < BL_MAX_ENDPOINTS &&
	       bpf_map_get_next_key(w->pins->endpoints, n ? &keys[n - 1] : NULL,
				    &keys[n]) == 0)
		n++;
	for (i = 0; i < n; i++) {
		memcpy(&ip, keys[i].ip, 4);
		if (alive_has_ip(&w->alive, ip) ||
		    bpf_map_delete_elem(w->pins->endpoints, &keys[i]))
			continue;
		w->st->repaired++;
		pr_warn("reconcile: endpoint %s has no pod; removed it", ip_str(ip, s));
	}
	free(keys);
}

static void remove_stray_endpoints6(struct walk *w)
{
	struct bl_endpoint6_key *keys;
	char s[IPADDR_STRLEN];
	size_t n = 0, i;

	keys = malloc(BL_MAX_ENDPOINTS * sizeof(*keys));
	if (!keys)
		return;
	while (n < BL_MAX_ENDPOINTS &&
	       bpf_map_get_next_key(w->pins->endpoints6, n ? &keys[n - 1] : NULL,
				    &keys[n]) == 0)
		n++;
	for (i = 0; i < n; i++) {
		if (alive_has_ip6(&w->alive, keys[i].ip) ||
		    bpf_map_delete_elem(w->pins->endpoints6, &keys[i]))
			continue;
		w->st->repaired++;
		pr_warn("reconcile: endpoint %s has no pod; removed it", ip6_str(keys[i].ip, s));
	}
	free(keys);
}

/* Link pins of devices that have no pod: links of deleted veths. */
static void remove_stray_pins(struct walk *w)
{
	char dir[PATH_MAX], path[PATH_MAX + 256], base[256];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/links", w->c->pin_dir);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "uplink"))
			continue;
		snprintf(base, sizeof(base), "%s", de->d_name);
		base[strcspn(base, "-")] = 0;
		if (!our_ifname(base) || alive_has_ifname(&w->alive, base))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) == 0) {
			w->st->repaired++;
			pr_info("reconcile: removed link pin %s (no such pod)", path);
		}
	}
	closedir(d);
}

/* Pod records on disk, readable or not. */
static size_t count_pod_files(const struct ctx *c)
{
	char dir[PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/pods", c->state_dir);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (pod_name_valid(de->d_name))
			n++;
	closedir(d);
	return n;
}

struct stray_ips {
	struct walk *w;
	uint32_t *ip;
	char (*owner)[POD_NAME_MAX + 1];
	size_t n, cap;
};

static int collect_reservation(uint32_t ip, const char *owner, void *data)
{
	struct stray_ips *s = data;
	struct pod_rec p;
	int err;

	if (pod_name_valid(owner)) {
		err = pod_load(s->w->c, owner, &p);
		error_clear();
		/* Its owner's (or one we cannot judge): kept. */
		if (err != -ENOENT && (err || p.state != POD_READY || p.ip == ip))
			return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		uint32_t *v = realloc(s->ip, cap * sizeof(*v));
		char(*o)[POD_NAME_MAX + 1];

		if (!v)
			return -ENOMEM;
		s->ip = v;
		o = realloc(s->owner, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		s->owner = o;
		s->cap = cap;
	}
	s->ip[s->n] = ip;
	snprintf(s->owner[s->n], sizeof(s->owner[0]), "%s", owner);
	s->n++;
	return 0;
}

/*
 * Reservations no pod holds: a record lost some other way than the ones
 * we finish (a hand-removed record), or what an older version leaked (an
 * empty file: reservations appear whole now, see ipam.c). Collected after
 * the walk, which removed the unfinished pods with their reservations.
 */
static void release_stray_reservations(struct walk *w)
{
	struct stray_ips s = { .w = w };
	char ip[16];
	size_t i;

	if (ipam_foreach(w->c, collect_reservation, &s)) {
		pr_warn("reconcile: list reservations: %s", error_message());
		error_clear();
	}
	for (i = 0; i < s.n; i++) {
		if (ipam_release(w->c, s.ip[i], s.owner[i])) {
			pr_warn("reconcile: %s", error_message());
			error_clear();
			continue;
		}
		w->st->repaired++;
		if (s.owner[i][0])
			pr_warn("reconcile: address %s was reserved for %s, which has no pod with that address; released it",
				ip_str(s.ip[i], ip), s.owner[i]);
		else
			pr_warn("reconcile: address %s was reserved without an owner; released it",
				ip_str(s.ip[i], ip));
	}
	free(s.ip);
	free(s.owner);
}

static void temp_removed(const char *path)
{
	pr_info("reconcile: removed %s (a writer was killed before its rename)", path);
}

/*
 * Hold every link of the node from now on (link_keep.h): the uplink's and
 * each live pod's two, so that removing their pins detaches nothing.
 */
static void keep_links(struct walk *w, const struct node_rec *n)
{
	struct kept_link *l = calloc(2 * w->alive.n + 1, sizeof(*l));
	char (*egress)[IF_NAMESIZE + 8] = calloc(w->alive.n + 1, sizeof(*egress));
	size_t i, k = 0;

	if (!l || !egress)
		goto out;
	l[k++] = (struct kept_link){ "uplink", n->uplink_ifindex };
	for (i = 0; i < w->alive.n; i++) {
		snprintf(egress[i], sizeof(egress[i]), "%s-egress", w->alive.ifnames[i]);
		l[k++] = (struct kept_link){ w->alive.ifnames[i], w->alive.ifindex[i] };
		l[k++] = (struct kept_link){ egress[i], w->alive.ifindex[i] };
	}
	link_keep(w->c, l, k);
out:
	free(l);
	free(egress);
}

/* node init with the record's own settings, then the pass goes on. */
static int reinit(struct walk *w, struct pinned *pins, struct node_rec *n)
{
	struct node_init_req r;
	int err;

	pinned_close(pins);
	node_init_req_from_rec(n, &r);
	err = node_init(w->c, &r);
	if (!err)
		err = node_load(w->c, n);
	if (!err)
		err = pinned_open(w->c, pins);
	if (err)
		return error_prefix(err, "reconcile: node init");
	w->st->reattached++;
	w->st->reinit = 1;
	pr_warn("reconcile: node initialized again (maps and attachments kept, programs replaced in place)");
	return 0;
}

int reconcile(const struct ctx *c, pod_del_hook *del_hook, struct reconcile_stats *st)
{
	static int warned_unreadable;
	size_t files;
	struct pinned pins = PINNED_INIT;
	struct walk w = { .c = c, .del_hook = del_hook, .pins = &pins, .st = st };
	struct node_rec n;
	struct nl nl = {};
	int err;

	memset(st, 0, sizeof(*st));
	err = node_load(c, &n);
	if (err) {
		/* Reset (or never made): nothing of it is ours to hold. */
		link_keep(c, NULL, 0);
		return err;
	}
	/* Pins removed since the last pass, of links we held: pinned again first. */
	st->repaired += link_keep_repin(c);
	err = pinned_open(c, &pins);
	if (err) {
		pr_warn("reconcile: %s; initializing the node again", error_message());
		error_clear();
		err = reinit(&w, &pins, &n);
		if (err)
			goto out;
	}
	err = nl_open(&nl);
	if (err)
		goto out;
	w.nl = &nl;
	check_uplink(&w, &n);
	if (st->need_init) {
		st->need_init = 0;
		err = reinit(&w, &pins, &n);
		if (err)
			goto out;
	}
	/* Records that do not parse go aside here, so that the rest can be judged. */
	err = pod_foreach_all(c, check_pod, &w);
	if (err)
		goto out;
	/* We hold the lock: no writer is at work, each one is a dead writer's. */
	st->repaired += remove_temp_files(c->state_dir, 1, temp_removed);
	/*
	 * Only after every record was seen: the rest is what no pod owns. A
	 * record that did not load (and could not be moved aside) may own a
	 * veth we cannot name: then leave the strays alone rather than cut a
	 * running pod off.
	 */
	files = count_pod_files(c);
	if (files > w.alive.n) {
		if (!warned_unreadable)
			pr_warn("reconcile: %zu pod records under %s/pods do not load; not removing veths, endpoints, pins or reservations without a pod",
				files - w.alive.n, c->state_dir);
		warned_unreadable = 1;
		goto out;
	}
	warned_unreadable = 0;
	remove_stray_veths(&w);
	remove_stray_endpoints(&w);
	remove_stray_endpoints6(&w);
	remove_stray_pins(&w);
	release_stray_reservations(&w);
	keep_links(&w, &n);
out:
	nl_close(&nl);
	pinned_close(&pins);
	free(w.alive.ifnames);
	free(w.alive.ips);
	free(w.alive.ip6s);
	free(w.alive.ifindex);
	return err;
}
