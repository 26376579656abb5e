// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <linux/if_addr.h>
#include "lib/addr.h"
#include "netlink/link.h"
#include "lib/log.h"

struct link_parse {
	struct link_info *li;
	const char *prefix;
	int (*fn)(const struct link_info *li, void *data);
	void *data;
};

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type <= IFLA_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int linkinfo_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type <= IFLA_INFO_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static void link_from_msg(const struct nlmsghdr *nlh, struct link_info *li)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = {};
	const struct nlattr *info[IFLA_INFO_MAX + 1] = {};

	memset(li, 0, sizeof(*li));
	mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, tb);
	li->ifindex = ifm->ifi_index;
	if (tb[IFLA_IFNAME])
		snprintf(li->name, sizeof(li->name), "%s",
			 mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		li->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(li->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
	if (tb[IFLA_LINKINFO]) {
		mnl_attr_parse_nested(tb[IFLA_LINKINFO], linkinfo_attr_cb, info);
		if (info[IFLA_INFO_KIND])
			snprintf(li->kind, sizeof(li->kind), "%s",
				 mnl_attr_get_str(info[IFLA_INFO_KIND]));
	}
}

static int link_get_cb(const struct nlmsghdr *nlh, void *data)
{
	link_from_msg(nlh, data);
	return MNL_CB_OK;
}

int link_get(struct nl *nl, const char *name, int ifindex, struct link_info *li)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	int err;

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	li->ifindex = 0;
	err = nl_talk(nl, nlh, link_get_cb, li);
	if (!err && !li->ifindex)
		err = -ENODEV;
	if (err == -ENODEV)
		return errorf(err, "link %s", name ? name : "?");
	return err;
}

int link_no_ipv6_addrgen(struct nl *nl, int ifindex)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	struct nlattr *af, *in6;

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	af = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	in6 = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(nlh, in6);
	mnl_attr_nest_end(nlh, af);
	return nl_talk(nl, nlh, NULL, NULL);
}

int link_add_veth(struct nl *nl, const struct veth_spec *s)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	struct nlattr *linkinfo, *data, *peer;
	struct ifinfomsg *pifm;

	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, s->host_name);
	mnl_attr_put_u32(nlh, IFLA_MTU, s->mtu);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, s->host_mac);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, s->peer_name);
	mnl_attr_put_u32(nlh, IFLA_MTU, s->mtu);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, s->peer_mac);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, s->peer_netns_fd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return nl_talk(nl, nlh, NULL, NULL);
}

int link_del(struct nl *nl, int ifindex)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_DELLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nl_talk(nl, nlh, NULL, NULL);
}

int link_set_up(struct nl *nl, int ifindex)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	return nl_talk(nl, nlh, NULL, NULL);
}

int addr_add(struct nl *nl, int ifindex, uint32_t ip, int prefix_len)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefix_len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put_u32(nlh, IFA_LOCAL, ip);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, ip);
	return nl_talk(nl, nlh, NULL, NULL);
}

struct first_addr {
	int ifindex;
	uint32_t ip;
	int found;
};

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type <= IFA_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int first_addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {};
	struct first_addr *fa = data;

	if (fa->found || ifa->ifa_family != AF_INET ||
	    (int)ifa->ifa_index != fa->ifindex)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb);
	if (tb[IFA_LOCAL]) {
		fa->ip = mnl_attr_get_u32(tb[IFA_LOCAL]);
		fa->found = 1;
	}
	return MNL_CB_OK;
}

int addr_first_ipv4(struct nl *nl, int ifindex, uint32_t *ip)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct first_addr fa = { .ifindex = ifindex };
	int err;

	ifa->ifa_family = AF_INET;
	err = nl_talk(nl, nlh, first_addr_cb, &fa);
	if (err)
		return err;
	if (!fa.found)
		return errorf_raw(-EADDRNOTAVAIL, "no IPv4 address");
	*ip = fa.ip;
	return 0;
}

struct find_addr {
	uint32_t ip;
	int ifindex;
};

static int find_addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {};
	struct find_addr *fa = data;

	if (fa->ifindex || ifa->ifa_family != AF_INET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb);
	if (tb[IFA_LOCAL] && mnl_attr_get_u32(tb[IFA_LOCAL]) == fa->ip)
		fa->ifindex = ifa->ifa_index;
	return MNL_CB_OK;
}

int addr_find_ifindex(struct nl *nl, uint32_t ip, int *ifindex)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct find_addr fa = { .ip = ip };
	char s[16];
	int err;

	ifa->ifa_family = AF_INET;
	err = nl_talk(nl, nlh, find_addr_cb, &fa);
	if (err)
		return err;
	if (!fa.ifindex)
		return errorf_raw(-EADDRNOTAVAIL, "no interface has address %s",
				  ip_str(ip, s));
	*ifindex = fa.ifindex;
	return 0;
}

static struct nlmsghdr *route_msg(struct nl *nl, uint16_t type, uint16_t flags,
				  const struct route_spec *r)
{
	struct nlmsghdr *nlh = nl_msg(nl, type, flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = r->dst_len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = r->protocol ?: RTPROT_BOOT;
	rtm->rtm_scope = r->scope;
	rtm->rtm_type = RTN_UNICAST;
	if (r->dst_len)
		mnl_attr_put_u32(nlh, RTA_DST, r->dst);
	if (r->gateway)
		mnl_attr_put_u32(nlh, RTA_GATEWAY, r->gateway);
	if (r->oif)
		mnl_attr_put_u32(nlh, RTA_OIF, r->oif);
	return nlh;
}

int route_add(struct nl *nl, const struct route_spec *r)
{
	return nl_talk(nl, route_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r),
		       NULL, NULL);
}

int route_replace(struct nl *nl, const struct route_spec *r)
{
	return nl_talk(nl, route_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, r),
		       NULL, NULL);
}

int route_del(struct nl *nl, const struct route_spec *r)
{
	return nl_talk(nl, route_msg(nl, RTM_DELROUTE, 0, r), NULL, NULL);
}

struct route_walk {
	unsigned char protocol;
	int (*fn)(const struct route_spec *r, void *data);
	void *data;
};

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type <= RTA_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int route_walk_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = {};
	struct route_walk *w = data;
	struct route_spec r = {};
	uint32_t table;

	if (rtm->rtm_family != AF_INET || rtm->rtm_type != RTN_UNICAST ||
	    (w->protocol && rtm->rtm_protocol != w->protocol))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, tb);
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	r.dst_len = rtm->rtm_dst_len;
	r.scope = rtm->rtm_scope;
	r.protocol = rtm->rtm_protocol;
	if (tb[RTA_DST])
		r.dst = mnl_attr_get_u32(tb[RTA_DST]);
	if (tb[RTA_GATEWAY])
		r.gateway = mnl_attr_get_u32(tb[RTA_GATEWAY]);
	if (tb[RTA_OIF])
		r.oif = mnl_attr_get_u32(tb[RTA_OIF]);
	return w->fn(&r, w->data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int route_foreach(struct nl *nl, unsigned char protocol,
		  int (*fn)(const struct route_spec *r, void *data), void *data)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct route_walk w = { protocol, fn, data };

	rtm->rtm_family = AF_INET;
	return nl_talk(nl, nlh, route_walk_cb, &w);
}

static int foreach_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_parse *p = data;
	struct link_info li;

	link_from_msg(nlh, &li);
	if (strncmp(li.name, p->prefix, strlen(p->prefix)))
		return MNL_CB_OK;
	*p->li = li;
	return p->fn(&li, p->data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int link_foreach(struct nl *nl, const char *prefix,
		 int (*fn)(const struct link_info *li, void *data), void *data)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETLINK, NLM_F_DUMP);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	struct link_info li;
	struct link_parse p = { &li, prefix, fn, data };

	ifm->ifi_family = AF_UNSPEC;
	return nl_talk(nl, nlh, foreach_cb, &p);
}

struct route_match {
	const struct route_spec *want;
	int found;
};

static int route_match_cb(const struct route_spec *r, void *data)
{
	struct route_match *m = data;

	if (r->dst == m->want->dst && r->dst_len == m->want->dst_len &&
	    r->gateway == m->want->gateway && r->oif == m->want->oif)
		m->found = 1;
	return 0;
}

int route_exists(struct nl *nl, const struct route_spec *r)
{
	struct route_match m = { r, 0 };
	int err;

	err = route_foreach(nl, 0, route_match_cb, &m);
	return err ? err : m.found;
}

struct has_addr {
	int ifindex, prefix_len, found;
	uint32_t ip;
};

static int has_addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {};
	struct has_addr *h = data;

	if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != h->ifindex ||
	    ifa->ifa_prefixlen != h->prefix_len)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb);
	if (tb[IFA_LOCAL] && mnl_attr_get_u32(tb[IFA_LOCAL]) == h->ip)
		h->found = 1;
	return MNL_CB_OK;
}

int addr_exists(struct nl *nl, int ifindex, uint32_t ip, int prefix_len)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct has_addr h = { ifindex, prefix_len, 0, ip };
	int err;

	ifa->ifa_family = AF_INET;
	err = nl_talk(nl, nlh, has_addr_cb, &h);
	return err ? err : h.found;
}

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	(*(int *)data)++;
	return MNL_CB_OK;
}

int tc_filter_count(struct nl *nl, int ifindex, uint32_t parent, int *count)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETTFILTER, NLM_F_DUMP);
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));

	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	return nl_talk(nl, nlh, count_cb, count);
}
