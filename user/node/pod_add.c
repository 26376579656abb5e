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
#include "netlink/netns.h"
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

/*
 * Everything that needs no address first (veth, both sides up, the pod's
 * routes, the programs), then the address: req->get_ip, where set, waits
 * for it here, so an IPAM plugin started before pod_add() runs meanwhile.
 */
static int add_steps(const struct ctx *c, const struct pod_add_req *req,
		     const struct node_rec *node, struct pinned *pins,
		     struct nl *hnl, struct nl *pnl, int nsfd, struct pod_rec *p,
		     int *made)
{
	struct bl_endpoint_key key;
	struct bl_endpoint ep;
	struct veth_spec veth;
	struct link_info li, uplink;
	struct route_spec host_route;
	uint32_t want = req->ip;
	char ip[16];
	int err, pod_ifindex = 0;

	err = link_get(hnl, NULL, node->uplink_ifindex, &uplink);
	if (err)
		return error_prefix(err, "uplink %s", node->uplink);
	if (link_get(pnl, p->ifname, 0, &li) == 0)
		return errorf_raw(-EEXIST, "netns %s already has an interface %s",
				  p->netns, p->ifname);
	if (link_get(hnl, p->host_ifname, 0, &li) == 0)
		return errorf_raw(-EEXIST, "host interface %s already exists",
				  p->host_ifname);
	error_clear();

	if ((err = random_mac(p->mac)) || (err = random_mac(p->host_mac)))
		return err;
	veth = (struct veth_spec){ .host_name = p->host_ifname,
				   .host_mac = p->host_mac,
				   .peer_name = p->ifname,
				   .peer_mac = p->mac,
				   .peer_netns_fd = nsfd,
				   .mtu = uplink.mtu };
	err = link_add_veth(hnl, &veth);
	if (err)
		return error_prefix(err, "create veth %s", p->host_ifname);
	err = link_get(hnl, p->host_ifname, 0, &li);
	if (err)
		return err;
	p->host_ifindex = li.ifindex;
	made[1] = 1;

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
	}
	err = ipam_reserve(c, &node->pod_cidr, want, p->name, &p->ip);
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

	return pod_save(c, p);
}

int pod_add(const struct ctx *c, const struct pod_add_req *req, struct pod_rec *p)
{
	/* What exists so far: address, veth, attachment, endpoint. */
	int made[4] = { 0, 0, 0, 0 };
	struct pod_rec old;
	struct pinned pins = PINNED_INIT;
	struct nl hnl = {}, pnl = {};
	struct node_rec node;
	int err, nsfd;

	memset(p, 0, sizeof(*p));
	if (!pod_name_valid(req->name))
		return errorf_raw(-EINVAL,
				  "invalid pod name \"%s\": use 1-%d letters, digits, '-', '_' or '.'",
				  req->name, POD_NAME_MAX);
	snprintf(p->name, sizeof(p->name), "%s", req->name);
	snprintf(p->ifname, sizeof(p->ifname), "%s", req->ifname ? req->ifname : "eth0");
	if (req->ifname && (!*req->ifname || strlen(req->ifname) >= IF_NAMESIZE ||
			    strpbrk(req->ifname, "/: \t\n")))
		return errorf_raw(-EINVAL, "invalid interface name \"%s\"", req->ifname);
	p->id = pod_id(p->name);
	snprintf(p->host_ifname, sizeof(p->host_ifname), BL_IFNAME_PREFIX "%08x", p->id);

	err = node_load(c, &node);
	if (err == -ENOENT)
		return errorf_raw(err, "node not initialized (run `bridgeless node init` first)");
	if (err)
		return err;
	err = pinned_open(c, &pins);
	if (err)
		return err;
	if (pod_load(c, p->name, &old) != -ENOENT) {
		pinned_close(&pins);
		return errorf_raw(-EEXIST, "pod %s already exists", req->name);
	}
	nsfd = netns_open(req->netns, p->netns, sizeof(p->netns));
	if (nsfd < 0) {
		pinned_close(&pins);
		return nsfd;
	}
	err = nl_open(&hnl);
	if (!err)
		err = nl_open_in_netns(&pnl, nsfd);
	if (!err)
		err = add_steps(c, req, &node, &pins, &hnl, &pnl, nsfd, p, made);

	if (err) {
		/* Roll back, the endpoint first; the veth takes its routes with it. */
		struct bl_endpoint_key key;

		memcpy(key.ip, &p->ip, 4);

		if (made[3])
			bpf_map_delete_elem(pins.endpoints, &key);
		if (made[2])
			pod_detach(c, p);
		if (made[1] && link_del(&hnl, p->host_ifindex))
			pr_warn("pod add %s: rollback: could not delete %s", p->name,
				p->host_ifname);
		if (made[0])
			ipam_release(c, p->ip);
	}
	nl_close(&pnl);
	nl_close(&hnl);
	close(nsfd);
	pinned_close(&pins);
	return err;
}
