/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reading the datapath's per-CPU counters: the reasons (packet verdicts,
 * drops, NAT events) and the per-pod packets and bytes. Shared by `stats`,
 * `monitor` and the metrics endpoint, so a reason has one name everywhere.
 */
#ifndef BL_COUNTERS_H
#define BL_COUNTERS_H

#include <stdint.h>
#include "bridgeless.h"

/* "drop_spoof_ip": the enum name in lower case; NULL past the last reason. */
const char *reason_name(unsigned int reason);
const char *reason_text(unsigned int reason);
int reason_is_drop(unsigned int reason);

/* One counter, summed over all CPUs. */
int counter_read(int counters_fd, uint32_t reason, struct bl_counter_val *sum);
/* Every counter at once: sums[BL_COUNTER_MAX]. */
int counters_read_all(int counters_fd, struct bl_counter_val *sums);

/* One pod's slot in ep_stats, summed over all CPUs. */
int ep_stats_read(int ep_stats_fd, uint32_t slot, struct bl_ep_stats *sum);
/* Zero a slot on every CPU (a new pod starts from 0). */
int ep_stats_clear(int ep_stats_fd, uint32_t slot);

#endif
