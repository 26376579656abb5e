// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* pod add: the veth, both ends configured, the programs, the address, the endpoint. */
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
#include "netlink/address.h"
#include "netlink/link.h"
#include "netlink/route.h"
#include "node/ipam.h"
#include "node/pod.h"

static int random_mac(uint8_t *mac)
{
	if (getrandom(mac, 6, 0) != 6)
		return errorf(-errno, "getrandom");
	mac[0] = (mac[0] & 0xfe) | 0x02; /* unicast, locally administered */
	return 0;
}

/*
 * Inside the pod: up (no IPv6 link-local), a link route to the gateway,
 * default via it. The address comes later, see add_steps().
 */
static int configure_pod_side(struct nl *pnl, const struct pod_rec *p,
			      int *pod_ifindex)
{
	struct route_spec gw = { .dst = htonl(BL_GATEWAY_IP), .dst_len = 32,
				 .scope = RT_SCOPE_LINK };
	struct route_spec def = { .gateway = htonl(BL_GATEWAY_IP),
				  .scope = RT_SCOPE_UNIVERSE };
	struct link_info li;
	int err;

	err = link_get(pnl, p->ifname, 0, &li);
	if (err)
		return error_prefix(err, "pod side");
	*pod_ifindex = gw.oif = def.oif = li.ifindex;
	link_no_ipv6_addrgen(pnl, li.ifindex);
	err = link_set_up(pnl, li.ifindex);
	if (err)
		return error_prefix(err, "set %s up", p->ifname);
	err = route_add(pnl, &gw);
	if (err == -EEXIST)
		return errorf_raw(err,
				  "netns %s already routes the gateway " BL_GATEWAY_IP_STR " (one bridgeless interface per netns)",
				  p->netns);
	if (err)
		return error_prefix(err, "add route to gateway " BL_GATEWAY_IP_STR);
	err = route_add(pnl, &def);
	if (err)
		return error_prefix(err, "add default route");
	return 0;
}

/* The pod's extra routes, through the gateway on its interface oif. */
static int add_pod_routes(struct nl *pnl, const struct pod_rec *p, int oif,
			  const struct pod_routes *rs)
{
	struct route_spec r = { .gateway = htonl(BL_GATEWAY_IP), .oif = oif,
				.scope = RT_SCOPE_UNIVERSE };
	char dst[16];
	unsigned int i;
	int err;

	for (i = 0; rs && i < rs->n; i++) {
		r.dst = rs->r[i].dst;
		r.dst_len = rs->r[i].dst_len;
		err = route_add(pnl, &r);
		if (err == -EEXIST)
			return errorf_raw(err,
					  "add route %s/%d via " BL_GATEWAY_IP_STR ": netns %s already has a route to it (listed twice?)",
					  ip_str(r.dst, dst), r.dst_len, p->netns);
		if (err)
			return error_prefix(err, "add route %s/%d via " BL_GATEWAY_IP_STR " in netns %s",
					    ip_str(r.dst, dst), r.dst_len, p->netns);
	}
	return 0;
}

/* What must hold before anything is made; refused here, nothing was. */
static int precheck(const struct node_rec *node, struct nl *hnl, struct nl *pnl,
		    struct pod_rec *p, struct link_info *uplink)
{
	struct link_info li;
	int err;

	err = link_get(hnl, NULL, node->uplink_ifindex, uplink);
	if (err)
		return error_prefix(err, "uplink %s", node->uplink);
	if (link_get(pnl, p->ifname, 0, &li) == 0)
		return errorf_raw(-EEXIST, "netns %s already has an interface %s",
				  p->netns, p->ifname);
	if (link_get(hnl, p->host_ifname, 0, &li) == 0)
		return errorf_raw(-EEXIST, "host interface %s already exists",
				  p->host_ifname);
	error_clear();
	return 0;
}

/*
 * Everything that needs no address first (veth, both sides up, the pod's
 * routes, the programs), then the address: req->get_ip, where set, waits
 * for it here, so an IPAM plugin started before pod_add() runs meanwhile.
 */
static int add_steps(const struct ctx *c, const struct pod_add_req *req,
		     const struct node_rec *node, const struct link_info *uplink,
		     struct pinned *pins, struct nl *hnl, struct nl *pnl,
		     struct pod_rec *p, int *made)
{
	struct bl_endpoint_key key;
	struct bl_endpoint ep;
	struct veth_spec veth;
	struct link_info li;
	struct route_spec host_route;
	uint32_t want = req->ip;
	int given = req->ip_given;
	char ip[16];
	int err, pod_ifindex = 0;

	if ((err = random_mac(p->mac)) || (err = random_mac(p->host_mac)))
		return err;
	veth = (struct veth_spec){ .host_name = p->host_ifname,
				   .host_mac = p->host_mac,
				   .peer_name = p->ifname,
				   .peer_mac = p->mac,
				   .peer_netns_fd = req->nsfd,
				   .mtu = uplink->mtu };
	err = link_add_veth(hnl, &veth);
	if (err)
		return error_prefix(err, "create veth %s", p->host_ifname);
	made[1] = 1;
	err = link_get(hnl, p->host_ifname, 0, &li);
	if (err)
		return err;
	p->host_ifindex = li.ifindex;

	err = configure_pod_side(pnl, p, &pod_ifindex);
	if (err)
		return err;
	link_no_ipv6_addrgen(hnl, p->host_ifindex);
	err = link_set_up(hnl, p->host_ifindex);
	if (err)
		return error_prefix(err, "set %s up", p->host_ifname);
	err = pod_attach(c, p, pins->from_pod, pins->to_pod);
	if (err)
		return err;
	made[2] = 1;

	if (req->get_ip) {
		err = req->get_ip(req->get_ip_arg, &want);
		if (err)
			return err;
		given = 1;
	}
	err = ipam_reserve(c, &node->pod_cidr, given, want, p->name, &p->ip);
	if (err)
		return err;
	made[0] = 1;
	err = addr_add(pnl, pod_ifindex, p->ip, 32);
	if (err)
		return error_prefix(err, "add address %s/32 to %s", ip_str(p->ip, ip),
				    p->ifname);
	err = add_pod_routes(pnl, p, pod_ifindex, req->routes);
	if (err)
		return err;
	host_route = (struct route_spec){ .dst = p->ip, .dst_len = 32,
					  .oif = p->host_ifindex,
					  .scope = RT_SCOPE_LINK };
	err = route_add(hnl, &host_route);
	if (err)
		return error_prefix(err, "add host route to pod");

	err = pod_slot_alloc(c, p->name, &p->slot);
	if (err)
		return err;
	pod_slot_clear(c, p->slot);
	pod_endpoint(p, &key, &ep);
	if (bpf_map_update_elem(pins->endpoints, &key, &ep, BPF_NOEXIST))
		return errorf(-errno, "insert endpoint");
	made[3] = 1;

	/* The commit: from here on the pod exists. */
	p->state = POD_READY;
	return pod_save(c, p);
}

/* A record of the same name: an add that died mid-way goes, anything else stays. */
static int existing(const struct ctx *c, const char *name)
{
	struct pod_rec old;
	int err;

	err = pod_load(c, name, &old);
	if (err == -ENOENT) {
		error_clear();
		return 0;
	}
	if (err == -EINVAL)
		return errorf_raw(-EEXIST,
				  "pod %s already exists, but its record does not load (%s); `bridgeless pod del %s` removes it",
				  name, error_message(), name);
	if (err)
		return err;
	if (old.state == POD_READY)
		return errorf_raw(-EEXIST, "pod %s already exists", name);
	/* We hold the lock: the command that wrote it is gone. */
	pr_info("pod %s: an earlier pod %s did not finish; removing what it left", name,
		old.state == POD_ADDING ? "add" : "del");
	err = pod_del(c, name);
	return err ? error_prefix(err, "pod %s: an earlier pod %s did not finish", name,
				  old.state == POD_ADDING ? "add" : "del") : 0;
}

int pod_add(const struct ctx *c, const struct pod_add_req *req, struct pod_rec *p)
{
	/* What exists so far: address, veth, attachment, endpoint, record. */
	int made[5] = { 0, 0, 0, 0, 0 };
	struct pinned pins = PINNED_INIT;
	struct nl hnl = {}, pnl = {};
	struct link_info uplink;
	struct node_rec node;
	int err;

	memset(p, 0, sizeof(*p));
	if (!pod_name_valid(req->name))
		return errorf_raw(-EINVAL,
				  "invalid pod name \"%s\": use 1-%d letters, digits, '-', '_' or '.'",
				  req->name, POD_NAME_MAX);
	snprintf(p->name, sizeof(p->name), "%s", req->name);
	if (req->ifname && !ifname_valid(req->ifname))
		return errorf_raw(-EINVAL,
				  "invalid interface name \"%s\": 1-15 characters, no '/', ':', blanks or control characters, not . or ..",
				  req->ifname);
	snprintf(p->ifname, sizeof(p->ifname), "%s", req->ifname ? req->ifname : "eth0");
	if (snprintf(p->netns, sizeof(p->netns), "%s", req->netns) >= (int)sizeof(p->netns))
		return errorf_raw(-ENAMETOOLONG, "netns path is over %zu bytes",
				  sizeof(p->netns) - 1);
	p->id = pod_id(p->name);
	pod_host_ifname(p->name, p->host_ifname);

	err = node_load(c, &node);
	if (err == -ENOENT)
		return errorf_raw(err, "node not initialized (run `bridgeless node init` first)");
	if (err)
		return err;
	err = pinned_open(c, &pins);
	if (err)
		return err;
	err = existing(c, p->name);
	if (!err)
		err = nl_open(&hnl);
	if (!err)
		err = nl_open_in_netns(&pnl, req->nsfd);
	if (!err)
		err = precheck(&node, &hnl, &pnl, p, &uplink);
	/*
	 * The record of intent, before anything is made: killed from here on,
	 * pod del (or the agent, or the next pod add of the name) finds what
	 * follows from it and removes it.
	 */
	if (!err) {
		p->state = POD_ADDING;
		err = pod_save(c, p);
		made[4] = !err;
	}
	if (!err)
		err = add_steps(c, req, &node, &uplink, &pins, &hnl, &pnl, p, made);

	if (err) {
		/* Roll back, the endpoint first; the veth takes its routes with it. */
		struct bl_endpoint_key key;
		char saved[ERR_MSG_MAX];

		snprintf(saved, sizeof(saved), "%s", error_message());
		memcpy(key.ip, &p->ip, 4);

		if (made[3])
			bpf_map_delete_elem(pins.endpoints, &key);
		if (made[2])
			pod_detach(c, p);
		if (made[1] && !p->host_ifindex) {
			struct link_info li;

			if (link_get(&hnl, p->host_ifname, 0, &li) == 0)
				p->host_ifindex = li.ifindex;
		}
		if (made[1] && link_del(&hnl, p->host_ifindex))
			pr_warn("pod add %s: rollback: could not delete %s", p->name,
				p->host_ifname);
		if (made[0])
			ipam_release(c, p->ip, p->name);
		if (made[4])
			pod_remove(c, p->name);
		errorf_raw(err, "%s", saved);
	}
	nl_close(&pnl);
	nl_close(&hnl);
	pinned_close(&pins);
	return err;
}
