/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the agent knows of the cluster, and what follows from it: the
 * Nodes (routes to the other nodes' pod CIDRs) and the Services with their
 * EndpointSlices (the service table, STATE/services.json). They come either
 * from the Kubernetes API (list + watch) or from files (--peers, --services,
 * re-read when they change), through the same decoders into the same
 * stores, so both give the same table for the same objects.
 *
 * Changes are found by comparing what the stores give with what was made
 * last: a relist, a reconnect or a re-read file that changes nothing
 * changes nothing (no route replaced, no table written).
 */
#ifndef BL_AGENT_CLUSTER_H
#define BL_AGENT_CLUSTER_H

#include <poll.h>
#include <pthread.h>
#include "agent/k8s/kubeconfig.h"
#include "lib/ctx.h"
#include "node/peer_routes.h"
#include "node/services.h"
#include "obs/metrics.h"

struct cluster;

struct cluster_opts {
	const struct ctx *c; /* where services.json goes */
	const char *peers_file; /* NULL: none */
	const char *services_file; /* NULL: none */
	const struct k8s_config *api; /* NULL: files; else both from the API */
	struct agent_stats *stats;
	pthread_mutex_t *lock; /* stats */
};

#define CLUSTER_POLLFDS 2

int cluster_open(const struct cluster_opts *o, struct cluster **out);
/* Stops the API watches (at once) and frees cl. */
void cluster_close(struct cluster *cl);
/* The fds to wake on (at most CLUSTER_POLLFDS); returns how many. */
int cluster_pollfds(struct cluster *cl, struct pollfd *fds);
/* Take in what arrived: API events, files that changed (force: look again anyway). */
void cluster_refresh(struct cluster *cl, int force);
/*
 * Seconds (CLOCK_MONOTONIC) at which cluster_flush() or cluster_save() has
 * work; a large value if none.
 */
double cluster_flush_due(const struct cluster *cl);
/* What cluster_flush() says changed. */
enum { CLUSTER_PEERS = 1, CLUSTER_SERVICES = 2 };
/*
 * Rebuild what changed: the peers, the service table (its changes logged).
 * Returns CLUSTER_* bits: CLUSTER_PEERS when the peers changed
 * (their routes need a sync), CLUSTER_SERVICES when a service table is
 * ready that the agent has not seen yet (this run's first one, or one that
 * differs from the last): cluster_services() gives it.
 */
unsigned int cluster_flush(struct cluster *cl);
/*
 * The service table as last built; before the first full set of Services
 * and EndpointSlices, the one the last run saved (or an empty one).
 */
const struct svc_table *cluster_services(const struct cluster *cl);
/*
 * Save a changed table (STATE/services.json, what `bridgeless service
 * list` reads) once its own pace allows, or now; a failed save is logged
 * and tried again.
 */
void cluster_save(struct cluster *cl, int now);
/* The Nodes as peers; NULL until a full set of them is known. */
const struct peers *cluster_peers(struct cluster *cl);
/* Every source has given a full set once (the API's first LISTs are in). */
int cluster_synced(const struct cluster *cl);
/* For logs: "the Kubernetes API (in-cluster configuration)" or "files". */
const char *cluster_source(const struct cluster *cl);

#endif
