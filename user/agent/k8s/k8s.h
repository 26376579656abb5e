/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The agent's Kubernetes API client: one thread per resource (Nodes,
 * Services, EndpointSlices) lists it and then watches it, forever, through
 * errors. What the threads hear is decoded there and queued; the agent's
 * loop wakes on k8s_client_fd() and applies the queue to its stores with
 * k8s_client_apply(), so the stores are only ever touched by the loop.
 */
#ifndef BL_K8S_H
#define BL_K8S_H

#include <pthread.h>
#include <stdatomic.h>
#include "agent/k8s/kubeconfig.h"
#include "agent/k8s/objects.h"
#include "agent/k8s/store.h"
#include "obs/metrics.h"

struct k8s_client;

/*
 * Start watching. cfg must outlive the client; stats->k8s[] are updated
 * under lock (the metrics server reads them).
 */
int k8s_client_start(const struct k8s_config *cfg, struct agent_stats *stats,
		     pthread_mutex_t *lock, struct k8s_client **out);
/* Readable when there is something to apply. */
int k8s_client_fd(const struct k8s_client *c);
/*
 * Apply what was heard to stores[]. Returns a bit (1 << enum k8s_res) per
 * resource that changed; *synced gets a bit per resource whose full list
 * arrived at least once, *listed one per resource whose full list was
 * applied now.
 */
unsigned int k8s_client_apply(struct k8s_client *c, struct k8s_store *stores,
			      unsigned int *synced, unsigned int *listed);
/* Stop every watch now (an open one included), join the threads, free c. */
void k8s_client_stop(struct k8s_client *c);

/* --- between the client and its watcher threads (watch.c) ------------------ */

enum k8s_msg_type { K8S_MSG_SYNC, K8S_MSG_PUT, K8S_MSG_DEL };

struct k8s_msg {
	struct k8s_msg *next;
	enum k8s_res res;
	enum k8s_msg_type type;
	char *key; /* PUT, DEL */
	void *obj; /* PUT */
	struct store_item *items; /* SYNC: the full list */
	size_t n_items;
};

/* Queue m for the loop (takes it). */
void k8s_client_post(struct k8s_client *c, struct k8s_msg *m);
/* Sleep s seconds, or less if the client stops; 1 if it stops. */
int k8s_client_sleep(struct k8s_client *c, double s);
int k8s_client_stopping(const struct k8s_client *c);
const atomic_int *k8s_client_stop_flag(const struct k8s_client *c);
const struct k8s_config *k8s_client_config(const struct k8s_client *c);
/* Update the resource's stats under the lock. */
void k8s_client_stats(struct k8s_client *c, enum k8s_res r,
		      void (*fn)(struct k8s_watch_stats *st, void *data), void *data);

/* watch.c: one resource's thread */
struct k8s_watcher;
int k8s_watcher_start(struct k8s_client *c, enum k8s_res r, struct k8s_watcher **out);
void k8s_watcher_wakeup(struct k8s_watcher *w);
void k8s_watcher_join(struct k8s_watcher *w);

double k8s_now(void); /* CLOCK_MONOTONIC seconds */

#endif
