// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * CNI CHECK: is everything ADD made still there and as it was? The result
 * the runtime kept (prevResult), the IPAM reservation, both veth ends, the
 * pod's address and routes, the node's route to the pod, the program on
 * the host end and the endpoint in the map. The pod's routes are those
 * through our gateway that prevResult lists. Routes and addresses added by
 * later plugins in a chain are allowed; ours must be present.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include "cni/cni.h"
#include "datapath/attach.h"
#include "datapath/datapath.h"
#include "lib/log.h"
#include "netlink/address.h"
#include "netlink/link.h"
#include "netlink/netns.h"
#include "netlink/route.h"

/* Something ADD made is missing or changed. */
#define bad(...) cni_errorf(CNI_ERR_CHECK, -EINVAL, __VA_ARGS__)

/* 1 if prevResult lists address ip (text) as ip/len. */
static int prev_lists(const struct cni_req *r, const char *ip)
{
	const char *a;
	json_t *o;
	size_t i, n = strlen(ip);

	json_array_foreach(json_object_get(r->prev_result, "ips"), i, o) {
		a = json_string_value(json_object_get(o, "address"));
		if (a && !strncmp(a, ip, n) && a[n] == '/')
			return 1;
	}
	return 0;
}

/* The runtime's prevResult must list our interface and addresses. */
static int check_prev(const struct cni_req *r, const struct pod_rec *p)
{
	json_t *ifs = json_object_get(r->prev_result, "interfaces"), *o;
	char ip[IPADDR_STRLEN], mac[18];
	const char *name, *sb, *m;
	long idx = -1;
	size_t i;

	json_array_foreach(ifs, i, o) {
		name = json_string_value(json_object_get(o, "name"));
		sb = json_string_value(json_object_get(o, "sandbox"));
		if (name && sb && *sb && !strcmp(name, r->ifname))
			idx = i;
	}
	if (idx < 0)
		return bad("prevResult lists no interface %s in a sandbox", r->ifname);
	m = json_string_value(json_object_get(json_array_get(ifs, idx), "mac"));
	if (m && strcasecmp(m, mac_str(p->mac, mac)))
		return bad("prevResult says %s has MAC %s, bridgeless made it with %s",
			   r->ifname, m, mac);
	if (p->ip && !prev_lists(r, ip_str(p->ip, ip)))
		return bad("prevResult does not list %s, the address of %s (pod %s)", ip,
			   r->ifname, p->name);
	if (p->has_ip6 && !prev_lists(r, ip6_str(p->ip6, ip)))
		return bad("prevResult does not list %s, the IPv6 address of %s (pod %s)", ip,
			   r->ifname, p->name);
	return 0;
}

/* The node's route to the pod's IPv6 address and its endpoints6 entry. */
static int check_host6(const struct cni_req *r, const struct pod_rec *p, struct nl *nl,
		       const struct pinned *pins)
{
	struct route_spec w = { .family = AF_INET6, .dst_len = 128, .oif = p->host_ifindex };
	struct bl_endpoint6_key key;
	struct bl_endpoint ep;
	char ip[IPADDR_STRLEN];
	int err;

	ip6_str(p->ip6, ip);
	memcpy(w.dst6, p->ip6, 16);
	err = route_exists(nl, &w);
	if (err < 0)
		return cni_error_code(CNI_ERR_DATAPATH, error_prefix(err, "list node routes"));
	if (!err)
		return bad("node has no route to %s/128 through %s (pod %s)", ip,
			   p->host_ifname, p->name);
	memcpy(key.ip, p->ip6, 16);
	if (bpf_map_lookup_elem(pins->endpoints6, &key, &ep))
		return bad("endpoints6 map has no entry for %s (pod %s)", ip, p->name);
	if (ep.ifindex != (__u32)p->host_ifindex || memcmp(ep.pod_mac, p->mac, 6) ||
	    memcmp(ep.host_mac, p->host_mac, 6))
		return bad("endpoints6 map entry for %s does not match pod %s", ip, p->name);
	return 0;
}

static int check_host(const struct cni_req *r, const struct pod_rec *p, struct nl *nl)
{
	struct pinned pins;
	struct bl_endpoint_key key;
	struct bl_endpoint ep;
	struct link_info li;
	struct route_spec w = { .dst = p->ip, .dst_len = 32, .oif = p->host_ifindex };
	char ip[16], m1[18];
	int err;

	ip_str(p->ip, ip);
	if (link_get(nl, p->host_ifname, 0, &li))
		return bad("host veth %s of pod %s is missing (deleted outside bridgeless?): DEL and ADD the container again",
			   p->host_ifname, p->name);
	if (li.ifindex != p->host_ifindex || memcmp(li.mac, p->host_mac, 6))
		return bad("host veth %s is not the one pod %s was made with (recreated outside bridgeless?): DEL and ADD the container again",
			   p->host_ifname, p->name);
	err = p->ip ? route_exists(nl, &w) : 1;
	if (err < 0)
		return cni_error_code(CNI_ERR_DATAPATH, error_prefix(err, "list node routes"));
	if (!err)
		return bad("node has no route to %s/32 through %s (pod %s)", ip,
			   p->host_ifname, p->name);

	err = pinned_open(&r->ctx, &pins);
	if (err)
		return cni_error_code(CNI_ERR_CHECK, err);
	memcpy(key.ip, &p->ip, 4);
	err = 0;
	if (p->ip && bpf_map_lookup_elem(pins.endpoints, &key, &ep))
		err = bad("endpoints map has no entry for %s (pod %s)", ip, p->name);
	else if (p->ip && (ep.ifindex != (__u32)p->host_ifindex ||
			   memcmp(ep.pod_mac, p->mac, 6) || memcmp(ep.host_mac, p->host_mac, 6)))
		err = bad("endpoints map entry for %s does not match pod %s (MAC %s)", ip,
			  p->name, mac_str(ep.pod_mac, m1));
	else if (p->has_ip6)
		err = check_host6(r, p, nl, &pins);
	if (!err && !attach_check(p->host_ifindex, pins.from_pod))
		err = bad("program from_pod is not attached to %s ingress (pod %s)",
			  p->host_ifname, p->name);
	pinned_close(&pins);
	return err;
}

static int check_pod(const struct cni_req *r, const struct pod_rec *p, struct nl *nl)
{
	struct route_spec gw = { .dst = htonl(BL_GATEWAY_IP), .dst_len = 32 };
	struct route_spec def = { .gateway = htonl(BL_GATEWAY_IP) };
	struct route_spec def6 = { .family = AF_INET6 };
	struct ipaddr g6;
	struct link_info li;
	char ip[IPADDR_STRLEN];
	int err;

	if (link_get(nl, r->ifname, 0, &li))
		return bad("netns %s has no interface %s (pod %s)", r->netns, r->ifname,
			   p->name);
	if (strcmp(li.kind, "veth") || memcmp(li.mac, p->mac, 6))
		return bad("%s in netns %s is not the veth pod %s was made with", r->ifname,
			   r->netns, p->name);
	gw.oif = def.oif = def6.oif = li.ifindex;
	if (p->has_ip6) {
		ipaddr_parse(BL_GATEWAY_IP6_STR, &g6);
		memcpy(def6.gateway6, g6.a, 16);
		err = addr_exists6(nl, li.ifindex, p->ip6, 128);
		if (err == 0)
			return bad("%s in netns %s lost its address %s/128", r->ifname,
				   r->netns, ip6_str(p->ip6, ip));
		if (err > 0)
			err = route_exists(nl, &def6);
		if (err == 0)
			return bad("netns %s has no IPv6 default route via " BL_GATEWAY_IP6_STR " on %s",
				   r->netns, r->ifname);
		if (err < 0)
			return cni_error_code(CNI_ERR_DATAPATH,
					      error_prefix(err, "netns %s", r->netns));
	}
	if (!p->ip)
		return cni_check_routes(r, nl, li.ifindex);
	err = addr_exists(nl, li.ifindex, p->ip, 32);
	if (err == 0)
		return bad("%s in netns %s lost its address %s/32", r->ifname, r->netns,
			   ip_str(p->ip, ip));
	if (err > 0)
		err = route_exists(nl, &gw);
	if (err == 0)
		return bad("netns %s has no route to the gateway " BL_GATEWAY_IP_STR " on %s",
			   r->netns, r->ifname);
	if (err > 0)
		err = route_exists(nl, &def);
	if (err == 0)
		return bad("netns %s has no default route via " BL_GATEWAY_IP_STR " on %s",
			   r->netns, r->ifname);
	if (err < 0)
		return cni_error_code(CNI_ERR_DATAPATH,
				      error_prefix(err, "netns %s", r->netns));
	return cni_check_routes(r, nl, li.ifindex);
}

int cni_check(struct cni_req *r)
{
	struct nl hnl = {}, pnl = {};
	struct node_rec node;
	struct pod_rec p;
	char path[PATH_MAX];
	int err, fd;

	if (r->vnum < 400)
		return cni_errorf(CNI_ERR_VERSION, -EINVAL,
				  "CHECK needs cniVersion 0.4.0 or later (config is %s)",
				  r->version);
	if (!r->prev_result)
		return cni_errorf(CNI_ERR_CONFIG, -EINVAL,
				  "CHECK without prevResult: the runtime must pass the result of ADD");
	err = pod_load(&r->ctx, r->pod_name, &p);
	if (err == -ENOENT)
		return cni_errorf(CNI_ERR_UNKNOWN_CONTAINER, err,
				  "container %s interface %s unknown to bridgeless (no pod %s in %s): ADD it first",
				  r->container_id, r->ifname, r->pod_name, r->ctx.state_dir);
	if (err)
		return cni_error_code(CNI_ERR_DATAPATH, err);
	if (p.state != POD_READY)
		return cni_errorf(CNI_ERR_CHECK, -EINVAL,
				  "pod %s: its %s did not finish (DEL it, or the agent removes it)",
				  r->pod_name, p.state == POD_ADDING ? "ADD" : "DEL");
	err = cni_node_ready(r, &node, CNI_ERR_CHECK);
	if (err)
		return err;
	err = check_prev(r, &p);
	if (err)
		return err;

	fd = netns_open(r->netns, path, sizeof(path));
	if (fd < 0)
		return cni_error_code(CNI_ERR_CHECK, error_prefix(fd, "CNI_NETNS"));
	err = nl_open(&hnl);
	if (!err)
		err = nl_open_in_netns(&pnl, fd);
	close(fd);
	if (err) {
		cni_error_code(CNI_ERR_DATAPATH, err);
		goto out;
	}
	err = check_host(r, &p, &hnl);
	if (!err)
		err = check_pod(r, &p, &pnl);
	/* Ours first: a missing veth says more than host-local's view of it. */
	if (!err)
		err = cni_ipam_exec(r, "CHECK", NULL);
out:
	nl_close(&pnl);
	nl_close(&hnl);
	return err;
}
