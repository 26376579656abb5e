// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* pod del: undo exactly what pod add made, the endpoint first. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include "datapath/datapath.h"
#include "lib/log.h"
#include "netlink/link.h"
#include "node/ipam.h"
#include "node/pod.h"

int pod_del_any(const struct ctx *c, const char *name, pod_del_hook *hook)
{
	int err = hook ? hook(c, name) : 1;

	return err == 1 ? pod_del(c, name) : err;
}

int pod_del(const struct ctx *c, const char *name)
{
	return pod_del_unplugged(c, name, NULL, NULL);
}

int pod_del_unplugged(const struct ctx *c, const char *name,
		      void (*unplugged)(void *arg), void *arg)
{
	struct pinned pins = PINNED_INIT;
	struct bl_endpoint_key key;
	struct bl_endpoint6_key key6;
	struct bl_endpoint ep;
	struct link_info li;
	struct pod_rec p;
	struct nl nl = {};
	int err;

	err = pod_load(c, name, &p);
	if (err == -ENOENT) {
		pr_info("pod %s: not found, nothing to delete", name);
		return 0;
	}
	if (err)
		return err;

	/* The map entry first, so no packet is sent to a device going away. */
	memcpy(key.ip, &p.ip, 4);
	memcpy(key6.ip, p.ip6, 16);
	if (pinned_open(c, &pins) == 0) {
		if (p.ip && bpf_map_lookup_elem(pins.endpoints, &key, &ep) == 0 &&
		    ep.ifindex == (__u32)p.host_ifindex)
			bpf_map_delete_elem(pins.endpoints, &key);
		if (p.has_ip6 && bpf_map_lookup_elem(pins.endpoints6, &key6, &ep) == 0 &&
		    ep.ifindex == (__u32)p.host_ifindex)
			bpf_map_delete_elem(pins.endpoints6, &key6);
	}
	pinned_close(&pins);
	error_clear();
	/* Its packets and bytes go with it, not to the slot's next pod. */
	pod_slot_clear(c, p.slot);

	pod_detach(c, &p);
	if (unplugged)
		unplugged(arg);

	err = nl_open(&nl);
	if (err)
		return err;
	if (link_get(&nl, p.host_ifname, 0, &li) == 0) {
		err = link_del(&nl, li.ifindex);
		if (err && err != -ENODEV) {
			nl_close(&nl);
			return error_prefix(err, "delete %s", p.host_ifname);
		}
	}
	nl_close(&nl);
	error_clear();

	err = p.ip ? ipam_release(c, p.ip) : 0;
	if (!err && p.has_ip6)
		err = ipam_release6(c, p.ip6);
	if (err)
		return err;
	return pod_remove(c, name);
}
