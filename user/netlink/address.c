// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Addresses of links: add, find, check (IPv4, and IPv6 below). */
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

int addr_add6(struct nl *nl, int ifindex, const uint8_t *ip, int prefix_len)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	int ll = ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80;

	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = prefix_len;
	ifa->ifa_scope = ll ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	ifa->ifa_flags = IFA_F_NODAD;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, 16, ip);
	mnl_attr_put(nlh, IFA_ADDRESS, 16, ip);
	mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	return nl_talk(nl, nlh, NULL, NULL);
}

struct walk6 {
	int ifindex; /* 0: any interface */
	const uint8_t *want; /* NULL: the first global one */
	int prefix_len; /* with want: -1 any */
	uint8_t ip[16];
	int found, found_ifindex;
};

static int walk6_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {};
	struct walk6 *w = data;
	const struct nlattr *a;
	uint32_t flags;

	if (w->found || ifa->ifa_family != AF_INET6 ||
	    (w->ifindex && (int)ifa->ifa_index != w->ifindex))
		return MNL_CB_OK;
	nl_attrs(nlh, sizeof(*ifa), tb, IFA_MAX);
	a = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) != 16)
		return MNL_CB_OK;
	flags = tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	if (w->want) {
		if (memcmp(mnl_attr_get_payload(a), w->want, 16) ||
		    (w->prefix_len >= 0 && ifa->ifa_prefixlen != w->prefix_len))
			return MNL_CB_OK;
	} else if (ifa->ifa_scope != RT_SCOPE_UNIVERSE ||
		   (flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED | IFA_F_DEPRECATED))) {
		return MNL_CB_OK;
	}
	memcpy(w->ip, mnl_attr_get_payload(a), 16);
	w->found_ifindex = ifa->ifa_index;
	w->found = 1;
	return MNL_CB_OK;
}

static int walk6(struct nl *nl, struct walk6 *w)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_INET6;
	return nl_talk(nl, nlh, walk6_cb, w);
}

int addr_first_ipv6(struct nl *nl, int ifindex, uint8_t *ip)
{
	struct walk6 w = { .ifindex = ifindex };
	int err = walk6(nl, &w);

	if (err)
		return err;
	if (!w.found)
		return errorf_raw(-EADDRNOTAVAIL, "no global IPv6 address");
	memcpy(ip, w.ip, 16);
	return 0;
}

int addr_find_ifindex6(struct nl *nl, const uint8_t *ip, int *ifindex)
{
	struct walk6 w = { .want = ip, .prefix_len = -1 };
	char s[IPADDR_STRLEN];
	int err = walk6(nl, &w);

	if (err)
		return err;
	if (!w.found)
		return errorf_raw(-EADDRNOTAVAIL, "no interface has address %s", ip6_str(ip, s));
	*ifindex = w.found_ifindex;
	return 0;
}

int addr_exists6(struct nl *nl, int ifindex, const uint8_t *ip, int prefix_len)
{
	struct walk6 w = { .ifindex = ifindex, .want = ip, .prefix_len = prefix_len };
	int err = walk6(nl, &w);

	return err ? err : w.found;
}

struct each_addr {
	int (*fn)(int ifindex, uint32_t ip, int prefix_len, void *data);
	int (*fn6)(int ifindex, const uint8_t *ip, int prefix_len, void *data);
	void *data;
	int err;
};

static int each_addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {};
	struct each_addr *e = data;

	if (e->err || ifa->ifa_family != (e->fn6 ? AF_INET6 : AF_INET))
		return MNL_CB_OK;
	nl_attrs(nlh, sizeof(*ifa), tb, IFA_MAX);
	if (e->fn6) {
		/* IPv6: IFA_ADDRESS, IFA_LOCAL only on point-to-point links */
		const struct nlattr *a = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];

		if (a && mnl_attr_get_payload_len(a) == 16)
			e->err = e->fn6(ifa->ifa_index, mnl_attr_get_payload(a),
					ifa->ifa_prefixlen, e->data);
		return MNL_CB_OK;
	}
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
	struct each_addr e = { fn, NULL, data, 0 };
	int err;

	ifa->ifa_family = AF_INET;
	err = nl_talk(nl, nlh, each_addr_cb, &e);
	return err ? err : e.err;
}

int addr_foreach6(struct nl *nl,
		  int (*fn)(int ifindex, const uint8_t *ip, int prefix_len, void *data),
		  void *data)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct each_addr e = { NULL, fn, data, 0 };
	int err;

	ifa->ifa_family = AF_INET6;
	err = nl_talk(nl, nlh, each_addr_cb, &e);
	return err ? err : e.err;
}
