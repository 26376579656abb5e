// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include "bridgeless.h"
#include "datapath/attach.h"
#include "datapath/counters.h"
#include "datapath/datapath.h"
#include "node/ipam.h"
#include "netlink/link.h"
#include "lib/log.h"
#include "netlink/netns.h"
#include "node/pod.h"

uint32_t pod_id(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h;
}

static int random_mac(uint8_t *mac)
{
	if (getrandom(mac, 6, 0) != 6)
		return errorf(-errno, "getrandom");
	mac[0] = (mac[0] & 0xfe) | 0x02; /* unicast, locally administered */
	return 0;
}

static void egress_pin_path(const struct ctx *c, const struct pod_rec *p, char *buf)
{
	char name[IF_NAMESIZE + 8];

	snprintf(name, sizeof(name), "%s-egress", p->host_ifname);
	link_pin_path(c, name, buf);
}

int pod_attach(const struct ctx *c, const struct pod_rec *p, int from_pod,
	       int to_pod)
{
	char pin[PATH_MAX];
	int err;

	link_pin_path(c, p->host_ifname, pin);
	err = attach_ingress(p->host_ifindex, from_pod, pin, NULL);
	if (err < 0)
		return error_prefix(err, "attach from_pod to %s", p->host_ifname);
	egress_pin_path(c, p, pin);
	err = attach_egress(p->host_ifindex, to_pod, pin, NULL);
	if (err < 0) {
		pod_detach(c, p);
		return error_prefix(err, "attach to_pod to %s", p->host_ifname);
	}
	return 0;
}

void pod_detach(const struct ctx *c, const struct pod_rec *p)
{
	char pin[PATH_MAX];

	link_pin_path(c, p->host_ifname, pin);
	/* The veth goes next, with its qdisc; in between it is the pod's. */
	detach_ingress(p->host_ifindex, pin, 0);
	egress_pin_path(c, p, pin);
	detach_egress(p->host_ifindex, pin, 0);
}

void pod_endpoint(const struct pod_rec *p, struct bl_endpoint_key *key,
		  struct bl_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	memcpy(key->ip, &p->ip, 4);
	ep->ifindex = p->host_ifindex;
	ep->id = p->id;
	memcpy(ep->pod_mac, p->mac, 6);
	memcpy(ep->host_mac, p->host_mac, 6);
	ep->slot = p->slot;
}

static int mark_slot(const struct pod_rec *p, void *data)
{
	uint8_t *used = data;

	if (p->slot && p->slot < BL_MAX_EP_SLOTS)
		used[p->slot / 8] |= 1u << (p->slot % 8);
	return 0;
}

/*
 * The lowest ep_stats slot no other pod record holds. The caller holds the
 * state lock, so no other pod add can take it meanwhile. With every slot
 * taken the pod is forwarded as usual, only not counted on its own (0).
 */
static int slot_alloc(const struct ctx *c, const char *name, uint32_t *slot)
{
	uint8_t used[BL_MAX_EP_SLOTS / 8] = { 1 }; /* slot 0: nobody's */
	uint32_t i;
	int err;

	err = pod_foreach(c, mark_slot, used);
	if (err)
		return err;
	for (i = 1; i < BL_MAX_EP_SLOTS; i++) {
		if (!(used[i / 8] & (1u << (i % 8)))) {
			*slot = i;
			return 0;
		}
	}
	pr_warn("pod %s: all %d counter slots taken, the pod is not counted on its own",
		name, BL_MAX_EP_SLOTS - 1);
	*slot = 0;
	return 0;
}

/* A slot starts from zero, whatever a pod before left in it. */
static void slot_clear(const struct ctx *c, uint32_t slot)
{
	int fd;

	if (!slot)
		return;
	fd = pin_open(c, "ep_stats");
	if (fd >= 0) {
		if (ep_stats_clear(fd, slot))
			pr_warn("%s", error_message());
		close(fd);
	}
	error_clear();
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
				  "netns %s already routes the gateway 169.254.1.1 (one bridgeless interface per netns)",
				  p->netns);
	if (err)
		return error_prefix(err, "add route to gateway 169.254.1.1");
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
					  "add route %s/%d via 169.254.1.1: netns %s already has a route to it (listed twice?)",
					  ip_str(r.dst, dst), r.dst_len, p->netns);
		if (err)
			return error_prefix(err, "add route %s/%d via 169.254.1.1 in netns %s",
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

	err = slot_alloc(c, p->name, &p->slot);
	if (err)
		return err;
	slot_clear(c, p->slot);
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
	if (pinned_open(c, &pins) == 0 &&
	    bpf_map_lookup_elem(pins.endpoints, &key, &ep) == 0 &&
	    ep.ifindex == (__u32)p.host_ifindex)
		bpf_map_delete_elem(pins.endpoints, &key);
	pinned_close(&pins);
	error_clear();
	/* Its packets and bytes go with it, not to the slot's next pod. */
	slot_clear(c, p.slot);

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

	err = ipam_release(c, p.ip);
	if (err)
		return err;
	return pod_remove(c, name);
}
