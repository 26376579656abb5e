/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * `bridgeless monitor`: the datapath's drop events (and sampled trace events
 * of forwarded packets) from the pinned ring buffer, one line each, with the
 * interface and pod names resolved. How an operator finds why a packet died.
 */
#ifndef BL_MONITOR_H
#define BL_MONITOR_H

#include <signal.h>
#include <stdint.h>
#include "node/state.h"

struct monitor_opts {
	int json; /* JSON lines instead of text */
	unsigned long count; /* stop after this many events; 0: no limit */
	double duration_s; /* stop after this long; 0: no limit */
};

/*
 * Print events that happen from now on until *stop is set, or the count or
 * duration is reached, or stdout goes away. Events queued before the start
 * (the ring fills while nobody reads it) are skipped.
 */
int monitor_run(const struct ctx *c, const struct monitor_opts *o,
		volatile sig_atomic_t *stop);

/* Sample 1 in rate forwarded packets as trace events; 0 turns tracing off. */
int trace_set(const struct ctx *c, uint32_t rate);

#endif
