// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* IPv4 addresses of links: add, find, check. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include "lib/addr.h"
#include "lib/log.h"
#include "netlink/address.h"

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

static int first_addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {};
	struct first_addr *fa = data;

	if (fa->found || ifa->ifa_family != AF_INET ||
	    (int)ifa->ifa_index != fa->ifindex)
		return MNL_CB_OK;
	nl_attrs(nlh, sizeof(*ifa), tb, IFA_MAX);
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
	nl_attrs(nlh, sizeof(*ifa), tb, IFA_MAX);
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
	nl_attrs(nlh, sizeof(*ifa), tb, IFA_MAX);
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

struct each_addr {
	int (*fn)(int ifindex, uint32_t ip, int prefix_len, void *data);
	void *data;
	int err;
};

static int each_addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {};
	struct each_addr *e = data;

	if (e->err || ifa->ifa_family != AF_INET)
		return MNL_CB_OK;
	nl_attrs(nlh, sizeof(*ifa), tb, IFA_MAX);
	if (tb[IFA_LOCAL])
		e->err = e->fn(ifa->ifa_index, mnl_attr_get_u32(tb[IFA_LOCAL]),
			       ifa->ifa_prefixlen, e->data);
	return MNL_CB_OK;
}

int addr_foreach(struct nl *nl, int (*fn)(int ifindex, uint32_t ip, int prefix_len,
					  void *data), void *data)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct each_addr e = { fn, data, 0 };
	int err;

	ifa->ifa_family = AF_INET;
	err = nl_talk(nl, nlh, each_addr_cb, &e);
	return err ? err : e.err;
}
