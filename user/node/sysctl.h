/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Sysctls of the node namespace that node init changes and node reset restores. */
#ifndef BL_SYSCTL_H
#define BL_SYSCTL_H

#include "node/state.h"

/*
 * If the NAT range overlaps the host's ephemeral ports, add it to
 * ip_local_reserved_ports, remembering the old value in n.
 */
int sysctl_reserve_nat_ports(struct node_rec *n);
void sysctl_restore_reserved_ports(const struct node_rec *n);
/* Turn net.ipv4.ip_forward on; *changed says whether it was off. */
int sysctl_enable_ip_forward(int *changed);
int sysctl_restore_ip_forward(void);
/*
 * IPv6: forwarding (net.ipv6.conf.all.forwarding, which bpf_fib_lookup()
 * checks on every pod's veth). Forwarding on makes the uplink ignore
 * router advertisements where accept_ra is 1, the default: a node that
 * got its address or default route from them would lose it when they
 * expire, so accept_ra goes to 2 then (n->uplink_accept_ra_prev keeps 1).
 */
int sysctl_enable_ip6_forward(struct node_rec *n, int *changed);
void sysctl_restore_ip6_forward(const struct node_rec *n);

#endif
