/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The private network namespace the tests run in: the kernel's FIB,
 * neighbours and sysctls that bpf_fib_lookup() sees are then only the ones
 * set up here, the results do not depend on the machine, and nothing outside
 * the namespace is touched.
 */
#ifndef UNIT_NETNS_H
#define UNIT_NETNS_H

#include <stdbool.h>

/* Move this process into a new network namespace; 0 or -errno. */
int netns_private(void);
/* lo, routes, the node IP, a neighbour and forwarding; NULL, or why not. */
const char *setup_fib(void);
/* The neighbour every lookup out of lo answers with (neigh_mac); -errno. */
int lo_neighbour(bool add);
/* Forwarding on lo, which bpf_fib_lookup() requires; -errno. */
int lo_forwarding(bool on);

#endif
