// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include "lib/log.h"
#include "netlink/nl.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

int nl_open(struct nl *nl)
{
	int one = 1;

	nl->sock = mnl_socket_open(NETLINK_ROUTE);
	if (!nl->sock)
		return errorf(-errno, "netlink socket");
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return errorf(err, "netlink bind");
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = time(NULL);
	return 0;
}

/*
 * A netlink socket stays bound to the namespace it was created in, so enter
 * the target namespace only for socket() and come straight back.
 */
int nl_open_in_netns(struct nl *nl, int nsfd)
{
	int self, err, back;

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return errorf(-errno, "open /proc/self/ns/net");
	if (setns(nsfd, CLONE_NEWNET)) {
		err = errorf(-errno, "enter network namespace");
		close(self);
		return err;
	}
	err = nl_open(nl);
	back = setns(self, CLONE_NEWNET);
	close(self);
	if (back) {
		/* We cannot safely go on in the wrong namespace. */
		if (!err)
			nl_close(nl);
		return errorf(-errno, "return to own network namespace");
	}
	return err;
}

void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

struct nlmsghdr *nl_msg(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

static int extack_cb(const struct nlattr *attr, void *data)
{
	const char **msg = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		*msg = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

/* Turn an error ack into -errno with the kernel's message, if any. */
static int error_from_ack(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const char *msg = NULL;
	unsigned int off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return errorf(-EBADMSG, "netlink: short error message");
	if (e->error == 0)
		return 0;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(e->msg);
		mnl_attr_parse(nlh, off, extack_cb, &msg);
	}
	if (msg && *msg)
		return errorf_raw(e->error, "%s (%s)", strerror(-e->error), msg);
	return errorf_raw(e->error, "%s", strerror(-e->error));
}

int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned int seq = nlh->nlmsg_seq;
	int n, ret;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return errorf(-errno, "netlink send");
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0)
			return errorf(-errno, "netlink receive");
		for (nlh = (struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != nl->portid)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR)
				return error_from_ack(nlh);
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (cb) {
				ret = cb(nlh, data);
				if (ret < 0)
					return ret;
			}
		}
	}
}

struct attr_table {
	const struct nlattr **tb;
	int max;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct attr_table *t = data;
	int type = mnl_attr_get_type(attr);

	if (type <= t->max)
		t->tb[type] = attr;
	return MNL_CB_OK;
}

void nl_attrs(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb,
	      int max)
{
	struct attr_table t = { tb, max };

	mnl_attr_parse(nlh, hdrlen, attr_cb, &t);
}

void nl_attrs_nested(const struct nlattr *nest, const struct nlattr **tb, int max)
{
	struct attr_table t = { tb, max };

	mnl_attr_parse_nested(nest, attr_cb, &t);
}
