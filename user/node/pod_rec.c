// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "lib/fs.h"
#include "lib/jsonfile.h"
#include "lib/log.h"
#include "node/state.h"

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
	char path[PATH_MAX], dir[PATH_MAX], ip[16], m1[18], m2[18], ip6[IPADDR_STRLEN];
	json_t *j;
	int err;

	snprintf(dir, sizeof(dir), "%s/pods", c->state_dir);
	err = mkdir_p(dir, 0700);
	if (err)
		return err;
	pod_path(c, p->name, path);
	/* a pod without IPv4 has "ip": "" */
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:I, s:I}",
				   "name", p->name, "ip", p->ip ? ip_str(p->ip, ip) : "",
				   "netns", p->netns, "ifname", p->ifname,
				   "host_ifname", p->host_ifname, "host_ifindex",
				   p->host_ifindex, "mac", mac_str(p->mac, m1),
				   "host_mac", mac_str(p->host_mac, m2), "id",
				   (json_int_t)p->id, "slot", (json_int_t)p->slot);
	if (j && p->has_ip6)
		json_object_set_new(j, "ip6", json_string(ip6_str(p->ip6, ip6)));
	return json_file_save(j, path);
}

int pod_load(const struct ctx *c, const char *name, struct pod_rec *p)
{
	char path[PATH_MAX];
	json_t *j;
	int err;

	if (!pod_name_valid(name))
		return -ENOENT;
	pod_path(c, name, path);
	err = json_file_load(path, &j);
	if (err)
		return err;
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", json_str(j, "name"));
	snprintf(p->netns, sizeof(p->netns), "%s", json_str(j, "netns"));
	snprintf(p->ifname, sizeof(p->ifname), "%s", json_str(j, "ifname"));
	snprintf(p->host_ifname, sizeof(p->host_ifname), "%s",
		 json_str(j, "host_ifname"));
	p->host_ifindex = json_integer_value(json_object_get(j, "host_ifindex"));
	p->id = json_integer_value(json_object_get(j, "id"));
	/* records written before per-pod counters have none: 0 */
	p->slot = json_integer_value(json_object_get(j, "slot"));
	if (p->slot >= BL_MAX_EP_SLOTS)
		p->slot = 0;
	if (json_object_get(j, "ip6")) {
		struct ipaddr a;

		if (ipaddr_parse(json_str(j, "ip6"), &a) || a.family != AF_INET6)
			err = errorf_raw(-EINVAL, "%s: bad pod record (ip6)", path);
		memcpy(p->ip6, a.a, 16);
		p->has_ip6 = 1;
	}
	/* IPv4: an address, or none where the pod has IPv6 */
	if (!err && (*json_str(j, "ip") || !p->has_ip6) && ip_parse(json_str(j, "ip"), &p->ip))
		err = errorf_raw(-EINVAL, "%s: bad pod record", path);
	if (!err && (mac_parse(json_str(j, "mac"), p->mac) ||
		     mac_parse(json_str(j, "host_mac"), p->host_mac)))
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
