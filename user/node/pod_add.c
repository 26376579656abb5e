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

#define GATEWAY6 BL_GATEWAY_IP6_STR

static void gateway6(uint8_t *a)
{
	struct ipaddr g;

	ipaddr_parse(BL_GATEWAY_IP6_STR, &g);
	memcpy(a, g.a, 16);
}

/*
 * Inside the pod: up, a link route to the IPv4 gateway and the default via
 * it where the node has IPv4. Its IPv6 link-local address is kept where
 * the node has IPv6 (neighbour discovery with the gateway), generated
 * off otherwise. The addresses come later, see add_steps().
 */
static int configure_pod_side(struct nl *pnl, const struct pod_rec *p,
			      const struct node_rec *node, int *pod_ifindex)
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
	if (!node_has_ipv6(node))
		link_no_ipv6_addrgen(pnl, li.ifindex);
	err = link_set_up(pnl, li.ifindex);
	if (err)
		return error_prefix(err, "set %s up", p->ifname);
	if (!node_has_ipv4(node))
		return 0;
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

/* The pod's IPv6 default route, through fe80::1 on its interface oif. */
static int add_pod_default6(struct nl *pnl, const struct pod_rec *p, int oif)
{
	struct route_spec def = { .family = AF_INET6, .oif = oif,
				  .scope = RT_SCOPE_UNIVERSE };
	int err;

	gateway6(def.gateway6);
	err = route_add(pnl, &def);
	if (err == -EEXIST)
		return errorf_raw(err,
				  "netns %s already has an IPv6 default route (one bridgeless interface per netns)",
				  p->netns);
	return err ? error_prefix(err, "add IPv6 default route via " GATEWAY6) : 0;
}

/* The pod's extra routes, through the gateway of their family on its interface oif. */
static int add_pod_routes(struct nl *pnl, const struct pod_rec *p, int oif,
			  const struct pod_routes *rs)
{
	char dst[PREFIX_STRLEN];
	unsigned int i;
	int err;

	for (i = 0; rs && i < rs->n; i++) {
		const struct prefix *d = &rs->r[i];
		int v6 = d->family == AF_INET6;
		struct route_spec r = { .oif = oif, .scope = RT_SCOPE_UNIVERSE,
					.dst_len = d->len };

		if (v6 && !p->has_ip6)
			continue; /* a family the pod has no address of */
		if (!v6 && !p->ip)
			continue;
		if (v6) {
			r.family = AF_INET6;
			memcpy(r.dst6, d->net, 16);
			gateway6(r.gateway6);
		} else {
			memcpy(&r.dst, d->net, 4);
			r.gateway = htonl(BL_GATEWAY_IP);
		}
		err = route_add(pnl, &r);
		if (err == -EEXIST)
			return errorf_raw(err,
					  "add route %s via %s: netns %s already has a route to it (listed twice?)",
					  prefix_str(d, dst), v6 ? GATEWAY6 : BL_GATEWAY_IP_STR,
					  p->netns);
		if (err)
			return error_prefix(err, "add route %s via %s in netns %s",
					    prefix_str(d, dst),
					    v6 ? GATEWAY6 : BL_GATEWAY_IP_STR, p->netns);
	}
	return 0;
}

/* Which addresses the pod gets: the request's, or get_ip's. */
static int pod_addresses(const struct pod_add_req *req, const struct node_rec *node,
			 struct pod_ips *ips)
{
	char a[PREFIX_STRLEN];
	int err;

	memset(ips, 0, sizeof(*ips));
	ips->v4 = node_has_ipv4(node);
	ips->v6 = node_has_ipv6(node);
	ips->ip = req->ip;
	ips->ip_given = req->ip_given;
	if (req->ip6) {
		memcpy(ips->ip6, req->ip6, 16);
		ips->ip6_given = 1;
	}
	if (req->get_ip) {
		err = req->get_ip(req->get_ip_arg, ips);
		if (err)
			return err;
		/* what the IPAM plugin says, 0.0.0.0 or :: too, is taken as given */
		ips->ip_given = ips->v4;
		ips->ip6_given = ips->v6;
	}
	if (ips->v4 && !node_has_ipv4(node))
		return errorf_raw(-EINVAL, "node has no IPv4 pod CIDR (an IPv4 address for the pod: %s)",
				  ip_str(ips->ip, a));
	if (ips->v6 && !node_has_ipv6(node))
		return errorf_raw(-EINVAL, "node has no IPv6 pod CIDR (an IPv6 address for the pod: %s)",
				  ip6_str(ips->ip6, a));
	if (!ips->v4 && !ips->v6)
		return errorf_raw(-EINVAL, "no address for the pod");
	return 0;
}

/* What exists so far, to roll back. */
struct made {
	int ip, ip6, veth, attached, ep, ep6, record;
};

/*
 * Everything that needs no address first (veth, both sides up, the pod's
 * routes, the programs), then the addresses: req->get_ip, where set, waits
 * for them here, so an IPAM plugin started before pod_add() runs meanwhile.
 */
static int add_steps(const struct ctx *c, const struct pod_add_req *req,
		     const struct node_rec *node, const struct link_info *uplink,
		     struct pinned *pins, struct nl *hnl, struct nl *pnl,
		     struct pod_rec *p, struct made *made)
{
	struct bl_endpoint_key key;
	struct bl_endpoint6_key key6;
	struct bl_endpoint ep;
	struct veth_spec veth;
	struct link_info li;
	struct route_spec host_route;
	struct pod_ips ips;
	uint8_t gw6[16];
	char ip[IPADDR_STRLEN];
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
	made->veth = 1;
	err = link_get(hnl, p->host_ifname, 0, &li);
	if (err)
		return err;
	p->host_ifindex = li.ifindex;

	err = configure_pod_side(pnl, p, node, &pod_ifindex);
	if (err)
		return err;
	link_no_ipv6_addrgen(hnl, p->host_ifindex);
	err = link_set_up(hnl, p->host_ifindex);
	if (err)
		return error_prefix(err, "set %s up", p->host_ifname);
	/*
	 * The host end is the pod's IPv6 gateway too: with fe80::1 (no DAD)
	 * the host can solicit the pod's neighbours and answers what the
	 * datapath leaves to it.
	 */
	if (node_has_ipv6(node)) {
		gateway6(gw6);
		err = addr_add6(hnl, p->host_ifindex, gw6, 64);
		if (err)
			return error_prefix(err, "add " GATEWAY6 "/64 to %s", p->host_ifname);
	}
	err = pod_attach(c, p, pins->from_pod, pins->to_pod);
	if (err)
		return err;
	made->attached = 1;

	err = pod_addresses(req, node, &ips);
	if (err)
		return err;
	if (ips.v4) {
		err = ipam_reserve(c, &node->pod_cidr, ips.ip_given, ips.ip, p->name, &p->ip);
		if (err)
			return err;
		made->ip = 1;
	}
	if (ips.v6) {
		err = ipam_reserve6(c, &node->pod_cidr6, ips.ip6_given ? ips.ip6 : NULL,
				    p->name, p->ip6);
		if (err)
			return err;
		p->has_ip6 = made->ip6 = 1;
	}
	if (p->ip) {
		err = addr_add(pnl, pod_ifindex, p->ip, 32);
		if (err)
			return error_prefix(err, "add address %s/32 to %s",
					    ip_str(p->ip, ip), p->ifname);
	}
	if (p->has_ip6) {
		err = addr_add6(pnl, pod_ifindex, p->ip6, 128);
		if (!err)
			err = add_pod_default6(pnl, p, pod_ifindex);
		if (err)
			return error_prefix(err, "address %s/128 on %s", ip6_str(p->ip6, ip),
					    p->ifname);
	}
	err = add_pod_routes(pnl, p, pod_ifindex, req->routes);
	if (err)
		return err;
	if (p->ip) {
		host_route = (struct route_spec){ .dst = p->ip, .dst_len = 32,
						  .oif = p->host_ifindex,
						  .scope = RT_SCOPE_LINK };
		err = route_add(hnl, &host_route);
		if (err)
			return error_prefix(err, "add host route to pod");
	}
	if (p->has_ip6) {
		host_route = (struct route_spec){ .family = AF_INET6, .dst_len = 128,
						  .oif = p->host_ifindex,
						  .scope = RT_SCOPE_UNIVERSE };
		memcpy(host_route.dst6, p->ip6, 16);
		err = route_add(hnl, &host_route);
		if (err)
			return error_prefix(err, "add host route to pod (IPv6)");
	}

	err = pod_slot_alloc(c, p->name, &p->slot);
	if (err)
		return err;
	pod_slot_clear(c, p->slot);
	if (p->ip) {
		pod_endpoint(p, &key, &ep);
		if (bpf_map_update_elem(pins->endpoints, &key, &ep, BPF_NOEXIST))
			return errorf(-errno, "insert endpoint");
		made->ep = 1;
	}
	if (p->has_ip6) {
		pod_endpoint6(p, &key6, &ep);
		if (bpf_map_update_elem(pins->endpoints6, &key6, &ep, BPF_NOEXIST))
			return errorf(-errno, "insert IPv6 endpoint");
		made->ep6 = 1;
	}

	/* The commit: from here on the pod exists. */
	p->state = POD_READY;
	return pod_save(c, p);
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
	struct made made = {};
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
	if (!req->get_ip && req->ip_given && !node_has_ipv4(&node))
		return errorf_raw(-EINVAL, "--ip: node has no IPv4 pod CIDR");
	if (!req->get_ip && req->ip6 && !node_has_ipv6(&node))
		return errorf_raw(-EINVAL, "--ip: node has no IPv6 pod CIDR");
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
		made.record = !err;
	}
	if (!err)
		err = add_steps(c, req, &node, &uplink, &pins, &hnl, &pnl, p, &made);

	if (err) {
		/* Roll back, the endpoints first; the veth takes its routes with it. */
		struct bl_endpoint_key key;
		struct bl_endpoint6_key key6;
		char saved[ERR_MSG_MAX];

		snprintf(saved, sizeof(saved), "%s", error_message());
		memcpy(key.ip, &p->ip, 4);
		memcpy(key6.ip, p->ip6, 16);
		if (made.ep)
			bpf_map_delete_elem(pins.endpoints, &key);
		if (made.ep6)
			bpf_map_delete_elem(pins.endpoints6, &key6);
		if (made.attached)
			pod_detach(c, p);
		if (made.veth && !p->host_ifindex) {
			struct link_info li;

			if (link_get(&hnl, p->host_ifname, 0, &li) == 0)
				p->host_ifindex = li.ifindex;
		}
		if (made.veth && link_del(&hnl, p->host_ifindex))
			pr_warn("pod add %s: rollback: could not delete %s", p->name,
				p->host_ifname);
		if (made.ip)
			ipam_release(c, p->ip, p->name);
		if (made.ip6)
			ipam_release6(c, p->ip6, p->name);
		if (made.record)
			pod_remove(c, p->name);
		errorf_raw(err, "%s", saved);
	}
	nl_close(&pnl);
	nl_close(&hnl);
	pinned_close(&pins);
	return err;
}
