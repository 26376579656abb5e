// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "log.h"
#include "state.h"

int mkdir_p(const char *path, int mode)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return errorf(-ENAMETOOLONG, "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, mode) && errno != EEXIST)
			return errorf(-errno, "mkdir %s", buf);
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return errorf(-errno, "mkdir %s", buf);
	return 0;
}

int state_lock(const struct ctx *c)
{
	char path[PATH_MAX];
	int fd, err;

	err = mkdir_p(c->state_dir, 0700);
	if (err)
		return error_prefix(err, "state dir");
	snprintf(path, sizeof(path), "%s/lock", c->state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return errorf(-errno, "open %s", path);
	if (flock(fd, LOCK_EX)) {
		err = errorf(-errno, "lock %s", path);
		close(fd);
		return err;
	}
	return fd;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Write through a temporary file and rename, so readers never see half a file. */
static int json_save(json_t *j, const char *path)
{
	char tmp[PATH_MAX + 32];
	const char *slash = strrchr(path, '/');
	int err = 0;

	/* Not "<path>.tmp": a 253-character pod name leaves no room in NAME_MAX. */
	snprintf(tmp, sizeof(tmp), "%.*s/.tmp.%d", slash ? (int)(slash - path) : 1,
		 slash ? path : ".", getpid());
	if (json_dump_file(j, tmp, JSON_INDENT(2) | JSON_SORT_KEYS))
		err = errorf(-EIO, "write %s", tmp);
	else if (rename(tmp, path))
		err = errorf(-errno, "rename %s", tmp);
	if (err)
		unlink(tmp);
	json_decref(j);
	return err;
}

static int json_load(const char *path, json_t **out)
{
	json_error_t jerr;

	*out = json_load_file(path, 0, &jerr);
	if (*out)
		return 0;
	if (access(path, F_OK))
		return -ENOENT;
	return errorf_raw(-EINVAL, "%s: line %d: %s", path, jerr.line, jerr.text);
}

static const char *jstr(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "";
}

static int mac_parse(const char *s, uint8_t *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		      &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -EINVAL;
}

static void node_path(const struct ctx *c, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/node.json", c->state_dir);
}

int node_save(const struct ctx *c, const struct node_rec *n)
{
	char path[PATH_MAX], a[32], b[32], ip[16];
	json_t *j, *nm = json_array();
	int i;

	node_path(c, path);
	for (i = 0; i < n->n_nomasq; i++)
		json_array_append_new(nm, json_string(cidr_str(&n->nomasq[i], a)));
	j = json_pack("{s:s, s:i, s:s, s:s, s:s, s:i, s:b, s:b, s:i, s:i, s:I, s:o, s:s, s:b}",
		      "uplink", n->uplink, "uplink_ifindex", n->uplink_ifindex,
		      "pod_cidr", cidr_str(&n->pod_cidr, a), "cluster_cidr",
		      cidr_str(&n->cluster_cidr, b), "node_ip", ip_str(n->node_ip, ip),
		      "attach_mode", n->attach_mode, "ip_forward_changed",
		      n->ip_forward_changed, "masquerade", n->masquerade,
		      "nat_port_min", n->nat_port_min, "nat_port_max", n->nat_port_max,
		      "nat_max", (json_int_t)n->nat_max, "no_masquerade", nm,
		      "reserved_ports_prev", n->reserved_ports_prev,
		      "reserved_ports_changed", n->reserved_ports_changed);
	if (j && n->uplink_clsact_made)
		json_object_set_new(j, "uplink_clsact_made", json_true());
	return json_save(j, path);
}

int node_load(const struct ctx *c, struct node_rec *n)
{
	char path[PATH_MAX];
	json_t *j;
	int err;

	node_path(c, path);
	err = json_load(path, &j);
	if (err)
		return err;
	memset(n, 0, sizeof(*n));
	snprintf(n->uplink, sizeof(n->uplink), "%s", jstr(j, "uplink"));
	n->uplink_ifindex = json_integer_value(json_object_get(j, "uplink_ifindex"));
	n->attach_mode = json_integer_value(json_object_get(j, "attach_mode"));
	n->uplink_clsact_made = json_is_true(json_object_get(j, "uplink_clsact_made"));
	n->ip_forward_changed = json_is_true(json_object_get(j, "ip_forward_changed"));
	n->masquerade = json_is_true(json_object_get(j, "masquerade"));
	n->nat_port_min = json_integer_value(json_object_get(j, "nat_port_min"));
	n->nat_port_max = json_integer_value(json_object_get(j, "nat_port_max"));
	n->nat_max = json_integer_value(json_object_get(j, "nat_max"));
	snprintf(n->reserved_ports_prev, sizeof(n->reserved_ports_prev), "%s",
		 jstr(j, "reserved_ports_prev"));
	n->reserved_ports_changed = json_is_true(json_object_get(j, "reserved_ports_changed"));
	{
		json_t *nm = json_object_get(j, "no_masquerade"), *v;
		size_t i;

		json_array_foreach(nm, i, v) {
			if (n->n_nomasq < BL_MAX_NOMASQ &&
			    cidr_parse(json_string_value(v) ?: "", &n->nomasq[n->n_nomasq]) == 0)
				n->n_nomasq++;
		}
	}
	if (cidr_parse(jstr(j, "pod_cidr"), &n->pod_cidr) ||
	    cidr_parse(jstr(j, "cluster_cidr"), &n->cluster_cidr) ||
	    ip_parse(jstr(j, "node_ip"), &n->node_ip))
		err = errorf_raw(-EINVAL, "%s: bad node record", path);
	json_decref(j);
	return err;
}

int node_remove(const struct ctx *c)
{
	char path[PATH_MAX];

	node_path(c, path);
	if (unlink(path) && errno != ENOENT)
		return errorf(-errno, "remove %s", path);
	return 0;
}

/*
 * Pod names become file names: the characters of Kubernetes names and CNI
 * container ids, nothing that could walk out of the directory.
 */
int pod_name_valid(const char *name)
{
	size_t len = strlen(name), i;

	if (!len || len > POD_NAME_MAX || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < len; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		      ch == '.'))
			return 0;
	}
	return 1;
}

static void pod_path(const struct ctx *c, const char *name, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/pods/%s", c->state_dir, name);
}

int pod_save(const struct ctx *c, const struct pod_rec *p)
{
	char path[PATH_MAX], dir[PATH_MAX], ip[16], m1[18], m2[18];
	int err;

	snprintf(dir, sizeof(dir), "%s/pods", c->state_dir);
	err = mkdir_p(dir, 0700);
	if (err)
		return err;
	pod_path(c, p->name, path);
	return json_save(json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:I, s:I}",
				   "name", p->name, "ip", ip_str(p->ip, ip),
				   "netns", p->netns, "ifname", p->ifname,
				   "host_ifname", p->host_ifname, "host_ifindex",
				   p->host_ifindex, "mac", mac_str(p->mac, m1),
				   "host_mac", mac_str(p->host_mac, m2), "id",
				   (json_int_t)p->id, "slot", (json_int_t)p->slot),
			 path);
}

int pod_load(const struct ctx *c, const char *name, struct pod_rec *p)
{
	char path[PATH_MAX];
	json_t *j;
	int err;

	if (!pod_name_valid(name))
		return -ENOENT;
	pod_path(c, name, path);
	err = json_load(path, &j);
	if (err)
		return err;
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", jstr(j, "name"));
	snprintf(p->netns, sizeof(p->netns), "%s", jstr(j, "netns"));
	snprintf(p->ifname, sizeof(p->ifname), "%s", jstr(j, "ifname"));
	snprintf(p->host_ifname, sizeof(p->host_ifname), "%s",
		 jstr(j, "host_ifname"));
	p->host_ifindex = json_integer_value(json_object_get(j, "host_ifindex"));
	p->id = json_integer_value(json_object_get(j, "id"));
	/* records written before per-pod counters have none: 0 */
	p->slot = json_integer_value(json_object_get(j, "slot"));
	if (p->slot >= BL_MAX_EP_SLOTS)
		p->slot = 0;
	if (ip_parse(jstr(j, "ip"), &p->ip) || mac_parse(jstr(j, "mac"), p->mac) ||
	    mac_parse(jstr(j, "host_mac"), p->host_mac))
		err = errorf_raw(-EINVAL, "%s: bad pod record", path);
	json_decref(j);
	return err;
}

int pod_remove(const struct ctx *c, const char *name)
{
	char path[PATH_MAX];

	pod_path(c, name, path);
	if (unlink(path) && errno != ENOENT)
		return errorf(-errno, "remove %s", path);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pod_foreach(const struct ctx *c,
		int (*fn)(const struct pod_rec *p, void *data), void *data)
{
	char dir[PATH_MAX], **names = NULL;
	size_t n = 0, cap = 0, i;
	struct pod_rec *p;
	struct dirent *de;
	DIR *d;
	int err = 0;

	snprintf(dir, sizeof(dir), "%s/pods", c->state_dir);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : errorf(-errno, "open %s", dir);
	while ((de = readdir(d))) {
		if (!pod_name_valid(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names) {
				closedir(d);
				return -ENOMEM;
			}
		}
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	p = malloc(sizeof(*p));
	for (i = 0; i < n; i++) {
		if (!err && p && pod_load(c, names[i], p) == 0)
			err = fn(p, data);
		free(names[i]);
	}
	free(p);
	free(names);
	return err;
}
