/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The agent holds an fd on every tcx link of the node (the uplink's, each
 * pod's two), so that a link pin removed by hand, or all the pins with
 * the pin dir, no longer detaches the program: the agent's next pass pins
 * the link again from its fd, and traffic never stopped. Detaching is
 * explicit (detach_*), so what we hold never keeps a program attached
 * that node reset or pod del took away. Process-wide (the agent's); tc
 * (clsact) filters need none of it.
 */
#ifndef BL_LINK_KEEP_H
#define BL_LINK_KEEP_H

#include <stddef.h>
#include "lib/ctx.h"

struct kept_link {
	const char *name; /* its pin under the pin dir's links folder */
	int ifindex; /* the device it is attached to */
};

/*
 * Hold exactly these links: ones not held yet are opened from their pins
 * (a pin that now holds another link replaces the one held), ones held
 * but not listed are let go.
 */
void link_keep(const struct ctx *c, const struct kept_link *links, size_t n);
/*
 * Pin again every held link whose pin is gone and which is still attached
 * to its device; how many (each one a warning).
 */
int link_keep_repin(const struct ctx *c);

#endif
