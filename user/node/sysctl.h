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

#endif
