/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The service table into this node's BPF service maps. */
#ifndef BL_SVC_APPLY_H
#define BL_SVC_APPLY_H

#include "datapath/services.h"
#include "node/services.h"

/*
 * Make the datapath serve table t as node node_name (for Local traffic
 * policies; NULL: no endpoint counts as local). Atomic per frontend.
 */
int svc_table_apply(const struct ctx *c, const struct svc_table *t,
		    const char *node_name, struct dp_sync_stats *st);

#endif
