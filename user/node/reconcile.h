/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One reconcile pass: make the node match its records again. Pods whose
 * netns or host veth is gone are removed (pod_del: endpoint, attachments,
 * address; those the CNI plugin added as CNI DEL removes them, the IPAM
 * plugin's reservation released too); bl* veths without a pod are deleted; missing attachments (pod
 * veths, uplink), endpoint entries and host routes are put back; endpoint
 * entries, link pins and address reservations without a pod are removed,
 * as are pods whose pod add was killed mid-way and the temporary files of
 * killed writers; pod records that do not parse are moved to quarantine.
 * Pins that are gone are pinned again from the programs attached (the
 * live maps) and the node initialized again in the same pass. Each repair
 * is one log line. The caller holds the state lock.
 */
#ifndef BL_RECONCILE_H
#define BL_RECONCILE_H

#include "node/pod.h"
#include "node/state.h"

struct reconcile_stats {
	unsigned int pods_removed; /* netns or veth gone */
	unsigned int veths_removed; /* stray bl* veths */
	unsigned int reattached; /* attachments put back, uplink included */
	unsigned int repaired; /* endpoint entries, routes, pins fixed */
	int need_init; /* internal: the uplink came back with a new ifindex */
	int reinit; /* the node was initialized again (pins gone, new uplink) */
};

/* del_hook: how pods that are gone are deleted (see pod_del_hook). */
int reconcile(const struct ctx *c, pod_del_hook *del_hook, struct reconcile_stats *st);

#endif
