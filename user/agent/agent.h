/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * `bridgeless agent`: the long-running node agent. It initializes the node
 * (or adopts the datapath already there, replacing the programs in place),
 * then reconciles the node with its records every few seconds, collects NAT
 * garbage and keeps the routes to the other nodes' pod CIDRs. The datapath
 * never depends on it: killed, stopped or restarted, pods keep talking.
 */
#ifndef BL_AGENT_H
#define BL_AGENT_H

#include <stdint.h>
#include "datapath/nat_table.h"
#include "lib/options.h"
#include "node/node.h"
#include "node/peer_routes.h"
#include "node/state.h"
#include "obs/metrics.h"

#define AGENT_CONFIG_DEFAULT "/etc/bridgeless/agent.conf"

enum agent_k8s { AGENT_K8S_AUTO, AGENT_K8S_ON, AGENT_K8S_OFF };

/* Everything `bridgeless agent` takes, from flags or the config file. */
struct agent_opts {
	struct node_init_req init; /* node init's options (init.given) */
	int cli_nomasq; /* no-masquerade came from the command line */
	char *node_name; /* to find ourselves among the Nodes */
	char *peers; /* peers file (Kubernetes NodeList JSON) */
	char *services; /* services file (`kubectl get services,endpointslices -A -o json`) */
	char *kubeconfig; /* the Kubernetes API: this kubeconfig, else in-cluster */
	enum agent_k8s k8s; /* use the API: auto (when configured), on, off */
	double reconcile_s;
	double nat_gc_s;
	struct nat_timeouts timeouts;
	char *metrics_listen; /* NULL: METRICS_LISTEN_DEFAULT */
	int metrics; /* serve metrics (struct agent_stats, metrics.h) */
	int once; /* one pass, then exit */
};

/* The agent's own options; with node_init_opts, what flags and agent.conf take. */
extern const struct opt_def agent_opts_table[];

void agent_opts_defaults(struct agent_opts *o);
void agent_opts_free(struct agent_opts *o);
/*
 * Set option key (a long flag name without "--") to value. From the command
 * line a list option (no-masquerade) replaces the file's list; in the file
 * it may be repeated. On a bad key or value returns -EINVAL with the reason
 * as the current error.
 */
int agent_opt_set(struct agent_opts *o, const char *key, const char *value,
		  enum opt_source from);
/* The same for an option of agent_opt_tables and its parsed value. */
int agent_opt_apply(struct agent_opts *o, const struct opt_def *d,
		    const union opt_value *v, enum opt_source from);
/*
 * Read a config file: one `key = value` a line, '#' starts a comment.
 * Errors name the file and line. A missing file is -ENOENT (quietly, so the
 * default path may be absent).
 */
int agent_config_load(struct agent_opts *o, const char *path);

/*
 * Initialize the node, or adopt the datapath there: the options laid over
 * the node record, node_init() under the state lock. self (may be NULL),
 * our own Node, gives the pod CIDR of each family the options have none of.
 */
int agent_init_node(const struct ctx *c, const struct agent_opts *o,
		    const struct peer *self);


/* Runs until SIGTERM/SIGINT (or one pass with opts->once). */
int agent_run(const struct ctx *c, struct agent_opts *opts);

#endif
