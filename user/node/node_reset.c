// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* node reset: every pod, the uplink attachment, the pins, the sysctls and the state go. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "datapath/attach.h"
#include "datapath/datapath.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "node/pod.h"
#include "node/sysctl.h"

struct reset {
	const struct ctx *c;
	pod_del_hook *del_hook;
};

/* A pod the CNI plugin added goes as CNI DEL takes it, IPAM reservation and all. */
static int del_pod(const struct pod_rec *p, void *data)
{
	const struct reset *r = data;
	int err;

	err = pod_del_any(r->c, p->name, r->del_hook);
	if (err) {
		pr_warn("node reset: pod %s: %s", p->name, error_message());
		error_clear();
	}
	return 0;
}

static void remove_state_files(const struct ctx *c)
{
	const char *files[] = { "ipam/last", "ipam/last6", "ipam", "pods", "node.json",
				"lock" };
	char path[PATH_MAX];
	size_t i;

	/* What killed writers left; the lock is ours. */
	remove_temp_files(c->state_dir, 1, NULL);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", c->state_dir, files[i]);
		if (remove(path) && errno != ENOENT)
			pr_warn("node reset: remove %s: %s", path, strerror(errno));
	}
	/* Only if empty: the directory may be shared with other files. */
	rmdir(c->state_dir);
}

int node_reset(const struct ctx *c, pod_del_hook *del_hook)
{
	struct reset r = { c, del_hook };
	char pin[PATH_MAX];
	struct node_rec n;
	int err, have_node;

	err = node_load(c, &n);
	have_node = err == 0;
	if (err && err != -ENOENT)
		return err;
	error_clear();
	pod_foreach_all(c, del_pod, &r);
	link_pin_path(c, "uplink", pin);
	detach_ingress(have_node ? n.uplink_ifindex : 0, pin,
		       have_node && n.uplink_clsact_made);
	err = datapath_unpin(c);
	if (err)
		return err;
	if (have_node && n.ip_forward_changed)
		sysctl_restore_ip_forward();
	if (have_node)
		sysctl_restore_ip6_forward(&n);
	if (have_node)
		sysctl_restore_reserved_ports(&n);
	remove_state_files(c);
	return 0;
}
