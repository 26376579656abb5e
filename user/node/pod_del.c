// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pod del: undo exactly what pod add made, the endpoint first. Also what
 * a pod add killed mid-way made, and what a pod whose record does not
 * parse had: what follows from the name alone (the host veth "bl" + its
 * hash, the endpoint pointing at that veth, the link pins by that name,
 * the reservations held in that name).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

struct other_owner {
	const char *name, *host_ifname;
	int found;
};

static int same_host_ifname(const struct pod_rec *p, void *data)
{
	struct other_owner *o = data;

	if (strcmp(p->name, o->name) && !strcmp(p->host_ifname, o->host_ifname))
		o->found = 1;
	return 0;
}

/*
 * Two names may hash to one host veth name; pod add refuses the second,
 * but an unfinished one's veth, known by name only, must be checked.
 */
static int veth_of_other_pod(const struct ctx *c, const struct pod_rec *p)
{
	struct other_owner o = { p->name, p->host_ifname, 0 };

	pod_foreach(c, same_host_ifname, &o);
	return o.found;
}

/* The endpoint of the pod: by its address, or (known by name only) by its veth. */
static void remove_endpoint(const struct ctx *c, struct pod_rec *p, int ifindex,
			    int partial)
{
	struct pinned pins = PINNED_INIT;
	struct bl_endpoint_key key, next, *prev = NULL;
	struct bl_endpoint6_key key6, next6, *prev6 = NULL;
	struct bl_endpoint ep;

	if (pinned_open(c, &pins))
		goto out;
	memcpy(key.ip, &p->ip, 4);
	if (p->ip && bpf_map_lookup_elem(pins.endpoints, &key, &ep) == 0 &&
	    (ep.ifindex == (__u32)p->host_ifindex || (ifindex && ep.ifindex == (__u32)ifindex)))
		bpf_map_delete_elem(pins.endpoints, &key);
	memcpy(key6.ip, p->ip6, 16);
	if (p->has_ip6 && bpf_map_lookup_elem(pins.endpoints6, &key6, &ep) == 0 &&
	    (ep.ifindex == (__u32)p->host_ifindex || (ifindex && ep.ifindex == (__u32)ifindex)))
		bpf_map_delete_elem(pins.endpoints6, &key6);
	if (!partial || !ifindex)
		goto out;
	/* Recovery only: the whole map, for the entry that points at the veth. */
	while (bpf_map_get_next_key(pins.endpoints, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(pins.endpoints, &key, &ep) == 0 &&
		    ep.ifindex == (__u32)ifindex) {
			if (!p->slot)
				p->slot = ep.slot;
			bpf_map_delete_elem(pins.endpoints, &key);
			prev = NULL; /* start over: the walk lost its place */
		}
	}
	while (bpf_map_get_next_key(pins.endpoints6, prev6, &next6) == 0) {
		key6 = next6;
		prev6 = &key6;
		if (bpf_map_lookup_elem(pins.endpoints6, &key6, &ep) == 0 &&
		    ep.ifindex == (__u32)ifindex) {
			if (!p->slot)
				p->slot = ep.slot;
			bpf_map_delete_elem(pins.endpoints6, &key6);
			prev6 = NULL;
		}
	}
out:
	pinned_close(&pins);
	error_clear();
}

int pod_del_unplugged(const struct ctx *c, const char *name,
		      void (*unplugged)(void *arg), void *arg)
{
	struct link_info li;
	struct pod_rec p;
	struct nl nl = {};
	int err, partial, ifindex = 0, have_veth;

	if (!pod_name_valid(name))
		return errorf_raw(-EINVAL,
				  "invalid pod name \"%s\": use 1-%d letters, digits, '-', '_' or '.'",
				  name, POD_NAME_MAX);
	err = pod_load(c, name, &p);
	if (err == -ENOENT) {
		/* A pod add killed before its record's rename leaves the temporary file. */
		pod_remove(c, name);
		ipam_remove_temp(c);
		pr_info("pod %s: not found, nothing to delete", name);
		return 0;
	}
	if (err == -EINVAL) {
		err = state_quarantine(c, "pods", name, error_message());
		if (err)
			return err;
		memset(&p, 0, sizeof(p));
		snprintf(p.name, sizeof(p.name), "%s", name);
		pod_host_ifname(name, p.host_ifname);
		p.state = POD_ADDING;
	} else if (err) {
		return err;
	}
	error_clear();
	partial = p.state == POD_ADDING;
	if (p.state == POD_READY) {
		/*
		 * Killed from here on, the record says to finish the delete
		 * (the agent would put a half-deleted pod back together else).
		 */
		p.state = POD_DELETING;
		if (pod_save(c, &p))
			pr_warn("pod %s: %s; deleting it all the same", name, error_message());
		error_clear();
	}

	err = nl_open(&nl);
	if (err)
		return err;
	have_veth = link_get(&nl, p.host_ifname, 0, &li) == 0 &&
		    !strcmp(li.kind, "veth") && !(partial && veth_of_other_pod(c, &p));
	error_clear();
	if (have_veth)
		ifindex = li.ifindex;

	/* The map entry first, so no packet is sent to a device going away. */
	remove_endpoint(c, &p, ifindex, partial);
	/* Its packets and bytes go with it, not to the slot's next pod. */
	pod_slot_clear(c, p.slot);

	/* tc filters by the veth there is now (a stale ifindex may be reused). */
	p.host_ifindex = ifindex;
	pod_detach(c, &p);
	if (unplugged)
		unplugged(arg);

	if (have_veth) {
		err = link_del(&nl, ifindex);
		if (err && err != -ENODEV) {
			nl_close(&nl);
			return error_prefix(err, "delete %s", p.host_ifname);
		}
	}
	nl_close(&nl);
	error_clear();

	/* Known by name only, its addresses may be any the name holds. */
	if (partial) {
		err = ipam_release_all(c, name);
	} else {
		err = p.ip ? ipam_release(c, p.ip, name) : 0;
		if (!err && p.has_ip6)
			err = ipam_release6(c, p.ip6, name);
	}
	if (err < 0)
		return err;
	ipam_remove_temp(c);
	if (partial)
		pr_info("pod %s: removed what an unfinished pod add left", name);
	return pod_remove(c, name);
}
