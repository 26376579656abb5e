// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tc filters, counted (is anybody else's filter on a qdisc?). */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_sched.h>
#include "netlink/tc.h"

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
