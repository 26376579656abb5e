/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Prometheus endpoint (GET /metrics, text format 0.0.4): the datapath's
 * counters by reason, per-pod packets and bytes, NAT table fill and the
 * agent's own counts. Served by libmicrohttpd from a thread of its own; each
 * scrape reads the pinned maps afresh, so a reloaded datapath is seen.
 */
#ifndef BL_METRICS_H
#define BL_METRICS_H

#include <pthread.h>
#include <stdint.h>
#include "node/state.h"

#define METRICS_LISTEN_DEFAULT "127.0.0.1:9964"

struct metrics;

/* Watch event types, as the API names them. */
enum { K8S_EV_ADDED, K8S_EV_MODIFIED, K8S_EV_DELETED, K8S_EV_BOOKMARK, K8S_EV_ERROR,
       K8S_EV_MAX };
#define AGENT_K8S_RES_MAX 3 /* resources the agent watches */

/* One resource the agent lists and watches on the Kubernetes API. */
struct k8s_watch_stats {
	const char *name; /* "nodes"; NULL: not watched */
	uint64_t events[K8S_EV_MAX];
	uint64_t lists; /* full LISTs done (the first one included) */
	uint64_t relists; /* LISTs again after 410 Gone */
	uint64_t errors; /* failed requests and broken watches */
	uint64_t objects; /* held now */
	int watching; /* a watch is open */
	double last_sync; /* CLOCK_MONOTONIC s: the last moment known in sync */
};

/* What the agent counts; the metrics endpoint exports it. */
struct agent_stats {
	uint64_t reconcile_runs;
	uint64_t endpoints_removed; /* pods whose netns or veth was gone */
	uint64_t veths_removed; /* bl* veths without a pod */
	uint64_t reattached; /* attachments put back */
	uint64_t nat_gc_runs;
	uint64_t nat_expired;
	uint64_t nat_entries; /* NAT table fill after the last collection */
	int have_services; /* a service table is kept (the counts below) */
	uint64_t services, service_backends, service_backends_ready;
	struct k8s_watch_stats k8s[AGENT_K8S_RES_MAX];
};

/*
 * Serve metrics on listen ("IP:PORT", "[IPv6]:PORT" or ":PORT" for every
 * address). stats is read under lock (if not NULL) at each scrape, and both
 * must outlive the server. c's strings are copied.
 */
int metrics_start(const struct ctx *c, const char *listen,
		  const struct agent_stats *stats, pthread_mutex_t *lock,
		  struct metrics **out);
/* Stops serving and frees m (NULL is fine). */
void metrics_stop(struct metrics *m);

#endif
