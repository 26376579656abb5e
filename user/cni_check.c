// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * CNI CHECK: is everything ADD made still there and as it was? The result
 * the runtime kept (prevResult), the IPAM reservation, both veth ends, the
 * pod's address and routes, the node's route to the pod, the program on
 * the host end and the endpoint in the map. Routes and addresses added by
 * later plugins in a chain are allowed; ours must be present.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include "bridgeless.h"
#include "attach.h"
#include "cni.h"
#include "datapath.h"
#include "link.h"
#include "log.h"
#include "netns.h"
#include "pod.h"

struct want {
	uint32_t dst; /* network byte order */
	int dst_len;
	uint32_t gw;
	int oif;
	int found;
};

static int rt_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type <= RTA_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = {};
	struct want *w = data;
	uint32_t table = rtm->rtm_table;

	if (rtm->rtm_family != AF_INET || rtm->rtm_dst_len != w->dst_len)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), rt_attr_cb, tb);
	if (tb[RTA_TABLE])
		table = mnl_attr_get_u32(tb[RTA_TABLE]);
	if (table == RT_TABLE_MAIN &&
	    (tb[RTA_DST] ? mnl_attr_get_u32(tb[RTA_DST]) : 0) == w->dst &&
	    (tb[RTA_GATEWAY] ? mnl_attr_get_u32(tb[RTA_GATEWAY]) : 0) == w->gw &&
	    tb[RTA_OIF] && (int)mnl_attr_get_u32(tb[RTA_OIF]) == w->oif)
		w->found = 1;
	return MNL_CB_OK;
}

static int route_has(struct nl *nl, struct want *w)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = AF_INET;
	w->found = 0;
	return nl_talk(nl, nlh, route_cb, w);
}

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type <= IFA_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {};
	struct want *w = data;

	if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != w->oif ||
	    ifa->ifa_prefixlen != w->dst_len)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb);
	if (tb[IFA_LOCAL] && mnl_attr_get_u32(tb[IFA_LOCAL]) == w->dst)
		w->found = 1;
	return MNL_CB_OK;
}

static int addr_has(struct nl *nl, struct want *w)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_INET;
	w->found = 0;
	return nl_talk(nl, nlh, addr_cb, w);
}

/* Something ADD made is missing or changed. */
#define bad(...) cni_errorf(CNI_ERR_CHECK, -EINVAL, __VA_ARGS__)

/* The runtime's prevResult must list our interface and address. */
static int check_prev(const struct cni_req *r, const struct pod_rec *p)
{
	json_t *ifs = json_object_get(r->prev_result, "interfaces"), *o;
	char ip[16], mac[18], want[20];
	const char *name, *sb, *m, *a;
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
	snprintf(want, sizeof(want), "%s/", ip_str(p->ip, ip));
	json_array_foreach(json_object_get(r->prev_result, "ips"), i, o) {
		a = json_string_value(json_object_get(o, "address"));
		if (a && !strncmp(a, want, strlen(want)))
			return 0;
	}
	return bad("prevResult does not list %s, the address of %s (pod %s)", ip,
		   r->ifname, p->name);
}

static int check_host(const struct cni_req *r, const struct pod_rec *p, struct nl *nl)
{
	struct pinned pins;
	struct bl_endpoint_key key;
	struct bl_endpoint ep;
	struct link_info li;
	struct want w = { .dst = p->ip, .dst_len = 32, .oif = p->host_ifindex };
	char ip[16], m1[18];
	int err;

	ip_str(p->ip, ip);
	if (link_get(nl, p->host_ifname, 0, &li))
		return bad("host veth %s of pod %s is missing (deleted outside bridgeless?): DEL and ADD the container again",
			   p->host_ifname, p->name);
	if (li.ifindex != p->host_ifindex || memcmp(li.mac, p->host_mac, 6))
		return bad("host veth %s is not the one pod %s was made with (recreated outside bridgeless?): DEL and ADD the container again",
			   p->host_ifname, p->name);
	err = route_has(nl, &w);
	if (err)
		return cni_error_code(CNI_ERR_DATAPATH, error_prefix(err, "list node routes"));
	if (!w.found)
		return bad("node has no route to %s/32 through %s (pod %s)", ip,
			   p->host_ifname, p->name);

	err = pinned_open(&r->ctx, &pins);
	if (err)
		return cni_error_code(CNI_ERR_CHECK, err);
	memcpy(key.ip, &p->ip, 4);
	err = 0;
	if (bpf_map_lookup_elem(pins.endpoints, &key, &ep))
		err = bad("endpoints map has no entry for %s (pod %s)", ip, p->name);
	else if (ep.ifindex != (__u32)p->host_ifindex || memcmp(ep.pod_mac, p->mac, 6) ||
		 memcmp(ep.host_mac, p->host_mac, 6))
		err = bad("endpoints map entry for %s does not match pod %s (MAC %s)", ip,
			  p->name, mac_str(ep.pod_mac, m1));
	else if (!attach_check(p->host_ifindex, pins.from_pod))
		err = bad("program from_pod is not attached to %s ingress (pod %s)",
			  p->host_ifname, p->name);
	pinned_close(&pins);
	return err;
}

static int check_pod(const struct cni_req *r, const struct pod_rec *p, struct nl *nl)
{
	struct want gw = { .dst = htonl(BL_GATEWAY_IP), .dst_len = 32 };
	struct want def = { .gw = htonl(BL_GATEWAY_IP) };
	struct want addr = { .dst = p->ip, .dst_len = 32 };
	struct link_info li;
	char ip[16];
	int err;

	if (link_get(nl, r->ifname, 0, &li))
		return bad("netns %s has no interface %s (pod %s)", r->netns, r->ifname,
			   p->name);
	if (strcmp(li.kind, "veth") || memcmp(li.mac, p->mac, 6))
		return bad("%s in netns %s is not the veth pod %s was made with", r->ifname,
			   r->netns, p->name);
	addr.oif = gw.oif = def.oif = li.ifindex;
	if ((err = addr_has(nl, &addr)) || (err = route_has(nl, &gw)) ||
	    (err = route_has(nl, &def)))
		return cni_error_code(CNI_ERR_DATAPATH,
				      error_prefix(err, "netns %s", r->netns));
	if (!addr.found)
		return bad("%s in netns %s lost its address %s/32", r->ifname, r->netns,
			   ip_str(p->ip, ip));
	if (!gw.found)
		return bad("netns %s has no route to the gateway 169.254.1.1 on %s",
			   r->netns, r->ifname);
	if (!def.found)
		return bad("netns %s has no default route via 169.254.1.1 on %s",
			   r->netns, r->ifname);
	return 0;
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
