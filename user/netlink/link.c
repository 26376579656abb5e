// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Links: find, create (veth), delete, bring up, walk. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <stdio.h>
#include "lib/log.h"
#include "netlink/link.h"

struct link_parse {
	struct link_info *li;
	const char *prefix;
	int (*fn)(const struct link_info *li, void *data);
	void *data;
};

/* A link request with its ifinfomsg filled in for ifindex (0: none). */
static struct nlmsghdr *link_msg(struct nl *nl, uint16_t type, uint16_t flags,
				 int ifindex, struct ifinfomsg **ifm)
{
	struct nlmsghdr *nlh = nl_msg(nl, type, flags);

	*ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(**ifm));
	(*ifm)->ifi_family = AF_UNSPEC;
	(*ifm)->ifi_index = ifindex;
	return nlh;
}

static void link_from_msg(const struct nlmsghdr *nlh, struct link_info *li)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = {};
	const struct nlattr *info[IFLA_INFO_MAX + 1] = {};

	memset(li, 0, sizeof(*li));
	nl_attrs(nlh, sizeof(*ifm), tb, IFLA_MAX);
	li->ifindex = ifm->ifi_index;
	if (tb[IFLA_IFNAME])
		snprintf(li->name, sizeof(li->name), "%s",
			 mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		li->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(li->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
	if (tb[IFLA_LINKINFO]) {
		nl_attrs_nested(tb[IFLA_LINKINFO], info, IFLA_INFO_MAX);
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
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh = link_msg(nl, RTM_GETLINK, 0, ifindex, &ifm);
	int err;

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
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, 0, ifindex, &ifm);
	struct nlattr *af, *in6;

	af = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	in6 = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(nlh, in6);
	mnl_attr_nest_end(nlh, af);
	return nl_talk(nl, nlh, NULL, NULL);
}

int link_add_veth(struct nl *nl, const struct veth_spec *s)
{
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0,
						&ifm);
	struct nlattr *linkinfo, *data, *peer;
	struct ifinfomsg *pifm;

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
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh = link_msg(nl, RTM_DELLINK, 0, ifindex, &ifm);

	return nl_talk(nl, nlh, NULL, NULL);
}

int link_set_up(struct nl *nl, int ifindex)
{
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, 0, ifindex, &ifm);

	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	return nl_talk(nl, nlh, NULL, NULL);
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
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh = link_msg(nl, RTM_GETLINK, NLM_F_DUMP, 0, &ifm);
	struct link_info li;
	struct link_parse p = { &li, prefix, fn, data };

	return nl_talk(nl, nlh, foreach_cb, &p);
}
