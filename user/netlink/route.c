// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Routes of the main table, IPv4 and IPv6: add, replace, delete, walk, check. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include "netlink/route.h"

static struct nlmsghdr *route_msg(struct nl *nl, uint16_t type, uint16_t flags,
				  const struct route_spec *r)
{
	struct nlmsghdr *nlh = nl_msg(nl, type, flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	static const uint8_t none[16];

	rtm->rtm_family = r->family == AF_INET6 ? AF_INET6 : AF_INET;
	rtm->rtm_dst_len = r->dst_len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = r->protocol ?: RTPROT_BOOT;
	rtm->rtm_scope = r->scope;
	rtm->rtm_type = RTN_UNICAST;
	if (r->family == AF_INET6) {
		if (r->dst_len)
			mnl_attr_put(nlh, RTA_DST, 16, r->dst6);
		if (memcmp(r->gateway6, none, 16))
			mnl_attr_put(nlh, RTA_GATEWAY, 16, r->gateway6);
	} else {
		if (r->dst_len)
			mnl_attr_put_u32(nlh, RTA_DST, r->dst);
		if (r->gateway)
			mnl_attr_put_u32(nlh, RTA_GATEWAY, r->gateway);
	}
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
	unsigned char family;
	unsigned char protocol;
	int (*fn)(const struct route_spec *r, void *data);
	void *data;
};

static int route_walk_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = {};
	struct route_walk *w = data;
	struct route_spec r = {};
	uint32_t table;

	if (rtm->rtm_family != w->family || rtm->rtm_type != RTN_UNICAST ||
	    (w->protocol && rtm->rtm_protocol != w->protocol))
		return MNL_CB_OK;
	nl_attrs(nlh, sizeof(*rtm), tb, RTA_MAX);
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	r.dst_len = rtm->rtm_dst_len;
	r.scope = rtm->rtm_scope;
	r.protocol = rtm->rtm_protocol;
	r.family = w->family;
	if (w->family == AF_INET6) {
		if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) == 16)
			memcpy(r.dst6, mnl_attr_get_payload(tb[RTA_DST]), 16);
		if (tb[RTA_GATEWAY] && mnl_attr_get_payload_len(tb[RTA_GATEWAY]) == 16)
			memcpy(r.gateway6, mnl_attr_get_payload(tb[RTA_GATEWAY]), 16);
	} else {
		if (tb[RTA_DST])
			r.dst = mnl_attr_get_u32(tb[RTA_DST]);
		if (tb[RTA_GATEWAY])
			r.gateway = mnl_attr_get_u32(tb[RTA_GATEWAY]);
	}
	if (tb[RTA_OIF])
		r.oif = mnl_attr_get_u32(tb[RTA_OIF]);
	return w->fn(&r, w->data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int route_foreach_family(struct nl *nl, unsigned char family, unsigned char protocol,
			 int (*fn)(const struct route_spec *r, void *data), void *data)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct route_walk w = { family, protocol, fn, data };

	rtm->rtm_family = family;
	return nl_talk(nl, nlh, route_walk_cb, &w);
}

int route_foreach(struct nl *nl, unsigned char protocol,
		  int (*fn)(const struct route_spec *r, void *data), void *data)
{
	return route_foreach_family(nl, AF_INET, protocol, fn, data);
}

struct route_match {
	const struct route_spec *want;
	int found;
};

static int route_match_cb(const struct route_spec *r, void *data)
{
	struct route_match *m = data;

	if (r->dst == m->want->dst && r->dst_len == m->want->dst_len &&
	    r->gateway == m->want->gateway && r->oif == m->want->oif &&
	    !memcmp(r->dst6, m->want->dst6, 16) && !memcmp(r->gateway6, m->want->gateway6, 16))
		m->found = 1;
	return 0;
}

int route_exists(struct nl *nl, const struct route_spec *r)
{
	struct route_match m = { r, 0 };
	int err;

	err = route_foreach_family(nl, r->family == AF_INET6 ? AF_INET6 : AF_INET, 0,
				   route_match_cb, &m);
	return err ? err : m.found;
}
