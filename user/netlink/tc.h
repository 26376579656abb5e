/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* tc filters, counted. */
#ifndef BL_TC_H
#define BL_TC_H

#include <stdint.h>
#include "netlink/nl.h"

/* Add the number of tc filters under parent (e.g. clsact ingress) of ifindex to *count. */
int tc_filter_count(struct nl *nl, int ifindex, uint32_t parent, int *count);

#endif
