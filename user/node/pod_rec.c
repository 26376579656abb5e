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

uint32_t pod_id(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h;
}

void pod_host_ifname(const char *name, char *buf)
{
	snprintf(buf, IF_NAMESIZE, BL_IFNAME_PREFIX "%08x", pod_id(name));
}

static void pod_path(const struct ctx *c, const char *name, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/pods/%s", c->state_dir, name);
}

json_t *pod_rec_to_json(const struct pod_rec *p)
{
	char ip[16], m1[18], m2[18], ip6[IPADDR_STRLEN];
	json_t *j;

	/* a pod without IPv4 has "ip": "" */
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:I, s:I}", "name",
		      p->name, "ip", !p->ip && p->has_ip6 ? "" : ip_str(p->ip, ip), "netns", p->netns, "ifname",
		      p->ifname, "host_ifname", p->host_ifname, "host_ifindex",
		      p->host_ifindex, "mac", mac_str(p->mac, m1), "host_mac",
		      mac_str(p->host_mac, m2), "id", (json_int_t)p->id, "slot",
		      (json_int_t)p->slot);
	if (j && p->has_ip6)
		json_object_set_new(j, "ip6", json_string(ip6_str(p->ip6, ip6)));
	if (j && p->state != POD_READY)
		json_object_set_new(j, "state", json_string(p->state == POD_ADDING ? "adding" :
										  "deleting"));
	return j;
}

static int int_member(json_t *j, const char *key, json_int_t min, json_int_t max,
		      json_int_t *out)
{
	json_t *v = json_object_get(j, key);

	if (!v) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return -EINVAL;
	*out = json_integer_value(v);
	return 0;
}

static int str_member(json_t *j, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(j, key);

	if (!json_is_string(v) || json_string_length(v) >= len ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -EINVAL;
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int pod_rec_from_json(json_t *j, const char *name, struct pod_rec *p)
{
	json_int_t ifindex, id, slot;
	char want[IF_NAMESIZE];
	const char *state;

	memset(p, 0, sizeof(*p));
	if (!json_is_object(j))
		return -EINVAL;
	if (str_member(j, "name", p->name, sizeof(p->name)) || strcmp(p->name, name) ||
	    str_member(j, "netns", p->netns, sizeof(p->netns)) ||
	    str_member(j, "ifname", p->ifname, sizeof(p->ifname)) ||
	    !ifname_valid(p->ifname) ||
	    str_member(j, "host_ifname", p->host_ifname, sizeof(p->host_ifname)))
		return -EINVAL;
	/* The host end's name follows from the pod's: pod del finds it by it. */
	pod_host_ifname(name, want);
	if (strcmp(p->host_ifname, want))
		return -EINVAL;
	if (int_member(j, "host_ifindex", 0, INT32_MAX, &ifindex) ||
	    int_member(j, "id", 0, UINT32_MAX, &id) ||
	    int_member(j, "slot", 0, INT64_MAX, &slot))
		return -EINVAL;
	p->host_ifindex = ifindex;
	p->id = id;
	/* records written before per-pod counters have none: 0 */
	p->slot = slot < BL_MAX_EP_SLOTS ? slot : 0;
	state = json_string_value(json_object_get(j, "state"));
	if (json_object_get(j, "state")) {
		if (state && !strcmp(state, "adding"))
			p->state = POD_ADDING;
		else if (state && !strcmp(state, "deleting"))
			p->state = POD_DELETING;
		else
			return -EINVAL;
	}
	if (json_object_get(j, "ip6")) {
		struct ipaddr a;

		if (!json_is_string(json_object_get(j, "ip6")) ||
		    ipaddr_parse(json_str(j, "ip6"), &a) || a.family != AF_INET6)
			return -EINVAL;
		memcpy(p->ip6, a.a, 16);
		p->has_ip6 = 1;
	}
	/* IPv4: an address, or none ("") where the pod has IPv6 */
	if (((*json_str(j, "ip") || !p->has_ip6) && ip_parse(json_str(j, "ip"), &p->ip)) ||
	    mac_parse(json_str(j, "mac"), p->mac) ||
	    mac_parse(json_str(j, "host_mac"), p->host_mac))
		return -EINVAL;
	/* Only an unfinished add may lack what pod add gives a pod. */
	if (p->state != POD_ADDING &&
	    ((!p->ip && !p->has_ip6) || !p->host_ifindex || p->id != pod_id(name)))
		return -EINVAL;
	return 0;
}

int pod_save(const struct ctx *c, const struct pod_rec *p)
{
	char path[PATH_MAX], dir[PATH_MAX];
	int err;

	snprintf(dir, sizeof(dir), "%s/pods", c->state_dir);
	err = mkdir_state(dir);
	if (err)
		return err;
	pod_path(c, p->name, path);
	return json_file_save(pod_rec_to_json(p), path);
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
	err = pod_rec_from_json(j, name, p);
	json_decref(j);
	if (err)
		return errorf_raw(-EINVAL, "%s: bad pod record", path);
	return 0;
}

int pod_remove(const struct ctx *c, const char *name)
{
	char path[PATH_MAX];

	pod_path(c, name, path);
	return file_remove(path);
}

int state_quarantine(const struct ctx *c, const char *kind, const char *name,
		     const char *why)
{
	char dir[PATH_MAX], from[PATH_MAX], to[PATH_MAX + 256];
	int err;

	snprintf(dir, sizeof(dir), "%s/quarantine", c->state_dir);
	err = mkdir_state(dir);
	snprintf(dir, sizeof(dir), "%s/quarantine/%s", c->state_dir, kind);
	if (!err)
		err = mkdir_state(dir);
	snprintf(from, sizeof(from), "%s/%s/%s", c->state_dir, kind, name);
	snprintf(to, sizeof(to), "%s/%s", dir, name);
	if (!err && rename(from, to))
		err = errorf(-errno, "move %s to %s", from, to);
	if (err)
		return error_prefix(err, "quarantine %s", from);
	pr_warn("%s: %s; moved it to %s, out of the way", from, why, to);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int foreach(const struct ctx *c, int all,
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
			char **nn;

			cap = cap ? cap * 2 : 64;
			nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				err = errorf(-ENOMEM, "list %s", dir);
				break;
			}
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	/* qsort(NULL, 0, ...) is undefined: pods/ may be empty. */
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	p = malloc(sizeof(*p));
	if (!p && n && !err)
		err = errorf(-ENOMEM, "list %s", dir);
	for (i = 0; i < n; i++) {
		int e = err ? 0 : pod_load(c, names[i], p);

		if (!err && !e && (all || p->state == POD_READY))
			err = fn(p, data);
		/*
		 * A record that does not load is skipped (one removed since
		 * readdir, or one that does not parse). all: the caller holds
		 * the lock, so moving one aside races no writer; it goes to
		 * quarantine, said once, so that it blocks neither pod del nor
		 * the agent's cleanup.
		 */
		if (all && e == -EINVAL &&
		    state_quarantine(c, "pods", names[i], error_message()))
			pr_warn("%s", error_message());
		if (e)
			error_clear();
		free(names[i]);
	}
	/* A failure of fn keeps its message for the caller; nothing else is one. */
	if (!err)
		error_clear();
	free(p);
	free(names);
	return err;
}

int pod_foreach(const struct ctx *c,
		int (*fn)(const struct pod_rec *p, void *data), void *data)
{
	return foreach(c, 0, fn, data);
}

int pod_foreach_all(const struct ctx *c,
		    int (*fn)(const struct pod_rec *p, void *data), void *data)
{
	return foreach(c, 1, fn, data);
}
