/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef BL_NETNS_H
#define BL_NETNS_H

#include <stddef.h>

/*
 * Open a network namespace given as a path (/proc/PID/ns/net,
 * /run/netns/x) or a name under /run/netns. The resolved path goes to
 * path_out. Refuses anything that is not a network namespace, and the
 * caller's own namespace (a pod cannot live in the node's namespace).
 */
int netns_open(const char *spec, char *path_out, size_t len);

#endif
