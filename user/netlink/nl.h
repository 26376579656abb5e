/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* rtnetlink through libmnl, with extended acks. */
#ifndef BL_NL_H
#define BL_NL_H

#include <stdint.h>
#include <libmnl/libmnl.h>

struct nl {
	struct mnl_socket *sock;
	unsigned int seq;
	unsigned int portid;
	char buf[16384];
};

/* A socket in the caller's network namespace, or in the one nsfd names. */
int nl_open(struct nl *nl);
int nl_open_in_netns(struct nl *nl, int nsfd);
void nl_close(struct nl *nl);

/* Start a request in nl->buf. */
struct nlmsghdr *nl_msg(struct nl *nl, uint16_t type, uint16_t flags);

/*
 * Index the attributes of a message (after its fixed header of hdrlen
 * bytes) or of a nested attribute by type: tb[0..max], types above max
 * ignored. Callers zero tb first.
 */
void nl_attrs(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb,
	      int max);
void nl_attrs_nested(const struct nlattr *nest, const struct nlattr **tb, int max);

/*
 * Send the request and read replies until the ack. cb, if given, is called
 * for each data message (dumps). On failure the error message is the
 * kernel's extended ack when it gave one.
 */
int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

#endif
