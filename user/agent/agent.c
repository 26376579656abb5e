// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The agent's loop. It holds the state lock only during a reconcile pass,
 * so `bridgeless pod add` and the CNI plugin work while it idles. Each pass
 * and each event is one log line with its level on stderr (journald and
 * kubectl logs pick it up). SIGTERM and SIGINT stop the agent and leave the
 * datapath exactly as it is: pods keep forwarding with no agent running.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <bpf/bpf.h>
#include "agent/agent.h"
#include "agent/cluster.h"
#include "cni/cni.h"
#include "datapath/datapath.h"
#include "lib/log.h"
#include "datapath/services.h"
#include "node/reconcile.h"
#include "node/svc_apply.h"

/* Warn when the NAT table is fuller than this; say so again below the second. */
#define NAT_FILL_WARN 80
#define NAT_FILL_OK 70

struct agent {
	const struct ctx *c;
	struct agent_opts *o;
	struct agent_stats stats;
	pthread_mutex_t lock; /* stats, shared with the metrics server and the watches */
	int sfd; /* signalfd */
	struct k8s_config api;
	int use_api;
	struct cluster *cl; /* Nodes and Services: from the API or files */
	int peers_fresh; /* changed since the last route sync: say everything */
	int nat_full; /* above NAT_FILL_WARN */
	int not_init_warned;
	int read_only; /* the state dir cannot be written: no init, no repairs */
	const struct peer *self; /* our Node (API or peers file), for a later init */
	int bpf_services; /* services load-balanced in BPF (services_mode) */
	int svc_dirty; /* the last table did not reach the maps: try again */
	/*
	 * The frontends map the last sync went to (or refused a table too
	 * large for): another one was made (node init resized the maps) and
	 * needs the table.
	 */
	__u32 svc_map_id;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sync_routes(struct agent *a)
{
	const struct peers *peers = cluster_peers(a->cl);
	struct route_sync_stats st;
	struct peers_self self;
	struct node_rec n;

	/* No full set of Nodes yet: the routes we have stay. */
	if (!peers || node_load(a->c, &n)) {
		error_clear();
		return;
	}
	self = (struct peers_self){ .name = a->o->node_name, .node_ip = n.node_ip,
				    .pod_cidr = n.pod_cidr,
				    .cluster_cidr = n.cluster_cidr,
				    .uplink_ifindex = n.uplink_ifindex,
				    .pod_cidr6 = n.pod_cidr6,
				    .cluster_cidr6 = n.cluster_cidr6 };
	memcpy(self.node_ip6, n.node_ip6, 16);
	if (peers_sync_routes(peers, &self, !a->peers_fresh, &st)) {
		pr_warn("peers: %s", error_message());
		error_clear();
		return;
	}
	a->peers_fresh = 0;
}

/*
 * A read-only state dir (a mount, a full disk remounted ro) leaves the
 * datapath as it is, its metrics, NAT GC and routes: only node init and
 * the repairs, which write records, wait until it can be written again.
 */
static int still_read_only(struct agent *a)
{
	int err = state_writable(a->c);

	if (err && !a->read_only)
		pr_warn("agent: state dir %s cannot be written (%s): serving metrics, collecting NAT garbage and keeping the datapath as it is; no node init and no repairs until it can",
			a->c->state_dir, strerror(-err));
	if (err) {
		a->read_only = 1;
		return 1;
	}
	if (!a->read_only)
		return 0;
	err = agent_init_node(a->c, a->o, a->self);
	if (err) {
		pr_warn("agent: %s", error_message());
		error_clear();
		return 1;
	}
	pr_info("agent: state dir %s can be written again; reconciling", a->c->state_dir);
	a->read_only = 0;
	/* node init may have made maps the service table is not in yet */
	a->svc_dirty = 1;
	return 0;
}

/*
 * A service table the agent has not seen yet is ready: this run's first one
 * (also when it equals the one the last run saved) or one that differs from
 * the last. The one place where what follows from the table is brought in
 * line with it. Saving it (STATE/services.json, for `bridgeless service
 * list`) comes after, at a pace of its own.
 */
static void sync_services(struct agent *a, const struct svc_table *t)
{
	struct dp_sync_stats st = {};
	double t0 = now_s();
	__u32 id = 0;
	int err;

	if (!a->bpf_services)
		return;
	if (dp_services_map_id(a->c, &id))
		error_clear();
	err = svc_table_apply(a->c, t, a->o->node_name, &st);
	if (st.orphans_removed)
		pr_info("services: %u backend entries of an interrupted sync removed",
			st.orphans_removed);
	if (err) {
		/*
		 * A table too large for the maps is not tried again until it
		 * changes or the maps do (svc_map_id); anything else is, at
		 * the next reconcile pass.
		 */
		pr_warn("services: %s", error_message());
		error_clear();
		a->svc_dirty = err != -ENOSPC && err != -E2BIG;
		a->svc_map_id = id;
		return;
	}
	a->svc_dirty = 0;
	a->svc_map_id = id;
	if (st.added || st.changed || st.removed || st.flows_removed)
		pr_info("services: %zu services in BPF: %u frontends added, %u changed, %u removed, %u unchanged; %u flows of departed backends removed (%.1f ms)",
			t->n, st.added, st.changed, st.removed, st.unchanged, st.flows_removed,
			(now_s() - t0) * 1000);
}

/* 1 if the service maps are others than those of the last sync (made anew). */
static int svc_maps_new(struct agent *a)
{
	__u32 id;

	if (!a->bpf_services || dp_services_map_id(a->c, &id)) {
		error_clear();
		return 0;
	}
	return id != a->svc_map_id;
}

/*
 * Services are load-balanced in BPF when the agent has a service table to
 * serve (the API or a services file), by the host stack (kube-proxy)
 * otherwise; the flag also says so to node init. Without a table, frontends
 * an earlier run left go.
 */
static void services_mode(struct agent *a)
{
	struct node_init_req *r = &a->o->init;

	if (!(r->given & NI_BPF_SERVICES)) {
		r->bpf_services = a->use_api || a->o->services;
		r->given |= NI_BPF_SERVICES;
	}
	a->bpf_services = r->bpf_services;
	pr_info("agent: services %s", a->bpf_services ? "load-balanced in BPF" :
				       "to the host stack (kube-proxy)");
}

static void services_clear(struct agent *a)
{
	struct dp_sync_stats st;

	if (!a->bpf_services && dp_services_sync(a->c, NULL, 0, &st) == 0 && st.removed)
		pr_info("services: %u frontends of an earlier run removed", st.removed);
	error_clear();
}

/* Rebuild what the cluster's changes touch; new peers get their routes now. */
static void flush(struct agent *a)
{
	unsigned int changed = cluster_flush(a->cl);

	if (changed & CLUSTER_PEERS) {
		a->peers_fresh = 1;
		sync_routes(a);
	}
	if (changed & CLUSTER_SERVICES)
		sync_services(a, cluster_services(a->cl));
	cluster_save(a->cl, 0);
}

static void reconcile_pass(struct agent *a)
{
	struct reconcile_stats st;
	int lock, err;

	if (still_read_only(a))
		return;
	lock = state_lock(a->c);
	if (lock < 0) {
		pr_warn("reconcile: %s", error_message());
		error_clear();
		return;
	}
	err = reconcile(a->c, cni_del_owned, &st);
	if (!err)
		cni_collect_unfinished(a->c);
	state_unlock(lock);
	/* a table that did not reach the maps, or maps made anew */
	if (!err && (a->svc_dirty || st.reinit || svc_maps_new(a)) && cluster_services(a->cl))
		sync_services(a, cluster_services(a->cl));
	if (err == -ENOENT) {
		/* Somebody ran `node reset`: theirs to decide, not ours to undo. */
		if (!a->not_init_warned)
			pr_warn("reconcile: node not initialized (reset?); waiting for `bridgeless node init`");
		a->not_init_warned = 1;
	} else if (err) {
		pr_warn("reconcile: %s", error_message());
	} else {
		if (a->not_init_warned)
			pr_info("reconcile: node initialized again");
		a->not_init_warned = 0;
	}
	error_clear();
	pthread_mutex_lock(&a->lock);
	a->stats.reconcile_runs++;
	a->stats.endpoints_removed += st.pods_removed;
	a->stats.veths_removed += st.veths_removed;
	a->stats.reattached += st.reattached;
	pthread_mutex_unlock(&a->lock);
	if (!err)
		pr_debug("reconcile: %u pods removed, %u veths removed, %u re-attached, %u repaired",
			 st.pods_removed, st.veths_removed, st.reattached, st.repaired);
	sync_routes(a);
}

static void nat_pass(struct agent *a)
{
	struct pinned pins = PINNED_INIT;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct nat_gc_stats st, st6 = {};
	unsigned int pct;

	if (pinned_open(a->c, &pins)) {
		error_clear();
		return;
	}
	/* NAT66's table too; the fill level is the IPv4 table's */
	if (nat_gc(pins.nat, &a->o->timeouts, &st) ||
	    nat_gc_family(pins.nat6, AF_INET6, &a->o->timeouts, &st6)) {
		pr_warn("nat gc: %s", error_message());
		error_clear();
		pinned_close(&pins);
		return;
	}
	if (bpf_obj_get_info_by_fd(pins.nat, &info, &len) || !info.max_entries)
		info.max_entries = 1;
	pinned_close(&pins);

	pthread_mutex_lock(&a->lock);
	a->stats.nat_gc_runs++;
	a->stats.nat_expired += st.expired + st6.expired;
	a->stats.nat_entries = st.entries;
	pthread_mutex_unlock(&a->lock);

	pct = (unsigned int)(100ull * st.entries / info.max_entries);
	pr_debug("nat gc: %u entries scanned, %u mappings expired, %u half-mappings removed, %u entries (%u%%)",
		 st.scanned, st.expired, st.orphans, st.entries, pct);
	if (pct > NAT_FILL_WARN && !a->nat_full) {
		pr_warn("nat: table %u%% full (%u of %u entries): new flows will evict old ones; raise --nat-max (node init) or lower the NAT timeouts",
			pct, st.entries, info.max_entries);
		a->nat_full = 1;
	} else if (pct < NAT_FILL_OK && a->nat_full) {
		pr_info("nat: table back to %u%% full (%u of %u entries)", pct,
			st.entries, info.max_entries);
		a->nat_full = 0;
	}
}

static int signals_open(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked before any thread starts, so only the signalfd sees them. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return errorf(-EINVAL, "block signals");
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return errorf(-errno, "signalfd");
	return fd;
}

/* 0: go on; SIGHUP: a pass now; SIGTERM/SIGINT: stop (returns the signal). */
static int read_signal(int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	return si.ssi_signo;
}

static double min2(double a, double b)
{
	return a < b ? a : b;
}

/*
 * Wait (taking in the cluster's changes, answering signals) until done(a)
 * says so; -EINTR on SIGTERM/SIGINT. Every 30 s, say what we wait for.
 */
static int wait_until(struct agent *a, int (*done)(struct agent *a), const char *what)
{
	struct pollfd fds[1 + CLUSTER_POLLFDS];
	double next_warn = now_s() + 5;
	int n, sig;

	for (;;) {
		cluster_refresh(a->cl, 0);
		if (done(a))
			return 0;
		if (now_s() >= next_warn) {
			pr_warn("agent: waiting for %s from %s", what, cluster_source(a->cl));
			next_warn = now_s() + 30;
		}
		fds[0] = (struct pollfd){ .fd = a->sfd, .events = POLLIN };
		n = 1 + cluster_pollfds(a->cl, fds + 1);
		if (poll(fds, n, 1000) > 0 && (fds[0].revents & POLLIN)) {
			sig = read_signal(a->sfd);
			if (sig == SIGTERM || sig == SIGINT)
				return -EINTR;
		}
	}
}

static int have_self_cidr(struct agent *a)
{
	const struct peers *p = cluster_peers(a->cl);
	const struct peer *self = p ? peers_find_self(p, a->o->node_name, 0) : NULL;

	return self && (self->n_cidrs || self->n_cidrs6);
}

static int all_synced(struct agent *a)
{
	return cluster_synced(a->cl);
}

/* Our pod CIDRs from our Node (a DaemonSet's first start); 1 if found. */
static int wait_pod_cidr(struct agent *a, struct peer *found)
{
	const struct peer *self;
	struct node_rec n;
	char text[PREFIX_STRLEN], text6[PREFIX_STRLEN], what[300];
	struct prefix p4 = {};
	int err;

	if ((a->o->init.given & (NI_POD_CIDR | NI_POD_CIDR6)) ||
	    (!a->o->peers && !a->use_api) || !a->o->node_name)
		return 0;
	if (node_load(a->c, &n) == 0)
		return 0; /* the record has one */
	error_clear();
	snprintf(what, sizeof(what), "node %s with a podCIDR", a->o->node_name);
	err = wait_until(a, have_self_cidr, what);
	if (err)
		return err;
	self = peers_find_self(cluster_peers(a->cl), a->o->node_name, 0);
	*found = *self;
	if (self->n_cidrs)
		prefix_from_cidr(&p4, &self->cidrs[0]);
	pr_info("agent: pod CIDR %s%s%s from node %s (%s)", prefix_str(&p4, text),
		self->n_cidrs && self->n_cidrs6 ? " " : "",
		self->n_cidrs6 ? prefix_str(&self->cidrs6[0], text6) : "", a->o->node_name,
		cluster_source(a->cl));
	return 1;
}

static int loop(struct agent *a)
{
	double next_rec = now_s() + a->o->reconcile_s;
	double next_gc = now_s() + a->o->nat_gc_s;
	struct pollfd fds[1 + CLUSTER_POLLFDS];
	int i, n, sig, timeout;

	pr_info("agent: running (reconcile every %gs, NAT GC every %gs%s%s)",
		a->o->reconcile_s, a->o->nat_gc_s, *cluster_source(a->cl) ? "; " : "",
		cluster_source(a->cl));
	for (;;) {
		timeout = (int)((min2(min2(next_rec, next_gc), cluster_flush_due(a->cl)) -
				 now_s()) * 1000) + 1;
		fds[0] = (struct pollfd){ .fd = a->sfd, .events = POLLIN };
		n = 1 + cluster_pollfds(a->cl, fds + 1);
		n = poll(fds, n, timeout > 0 ? timeout : 0);
		if (n < 0 && errno != EINTR)
			return errorf(-errno, "poll");
		if (n > 0 && (fds[0].revents & POLLIN)) {
			sig = read_signal(a->sfd);
			if (sig == SIGTERM || sig == SIGINT) {
				pr_info("agent: %s: stopping; the datapath keeps running",
					strsignal(sig));
				return 0;
			}
			if (sig == SIGHUP) {
				pr_info("agent: SIGHUP: reconciling now");
				cluster_refresh(a->cl, 1);
				next_rec = 0;
			}
		}
		for (i = 1; n > 0 && i < 1 + CLUSTER_POLLFDS; i++)
			if (fds[i].revents & POLLIN) {
				cluster_refresh(a->cl, 0);
				break;
			}
		if (now_s() >= cluster_flush_due(a->cl))
			flush(a);
		if (now_s() >= next_rec) {
			cluster_refresh(a->cl, 0);
			flush(a);
			reconcile_pass(a);
			next_rec = now_s() + a->o->reconcile_s;
		}
		if (now_s() >= next_gc) {
			nat_pass(a);
			next_gc = now_s() + a->o->nat_gc_s;
		}
	}
}

static int metrics_begin(struct agent *a, struct metrics **m)
{
	const char *listen = a->o->metrics_listen ?: METRICS_LISTEN_DEFAULT;
	int err;

	*m = NULL;
	if (!a->o->metrics || a->o->once)
		return 0;
	err = metrics_start(a->c, listen, &a->stats, &a->lock, m);
	if (err)
		return error_prefix(err, "metrics on %s", listen);
	pr_info("agent: metrics on http://%s/metrics", listen);
	return 0;
}

/*
 * Where Nodes and Services come from: the API (a kubeconfig, else the
 * in-cluster configuration) or files. 1: the API, 0: files (or nothing).
 */
static int pick_source(struct agent *a)
{
	const struct agent_opts *o = a->o;
	int files = o->peers || o->services, err;

	if (o->k8s == AGENT_K8S_OFF)
		return 0;
	if (files && (o->k8s == AGENT_K8S_ON || o->kubeconfig))
		return errorf_raw(-EINVAL,
				  "--peers/--services and the Kubernetes API (--k8s on, --kubeconfig) exclude each other: the API gives Nodes and Services");
	if (files)
		return 0;
	if (o->kubeconfig)
		err = k8s_config_from_kubeconfig(o->kubeconfig, &a->api);
	else
		err = k8s_config_in_cluster(&a->api);
	if (err == K8S_NOT_IN_CLUSTER && o->k8s == AGENT_K8S_AUTO)
		return 0; /* not in a pod, nothing asked for */
	if (err == K8S_NOT_IN_CLUSTER)
		return errorf_raw(-EINVAL,
				  "--k8s on: no --kubeconfig and no in-cluster configuration (KUBERNETES_SERVICE_HOST)");
	if (err)
		return err;
	pr_info("agent: Nodes and Services from the Kubernetes API at %s (%s)", a->api.server,
		a->api.source);
	return 1;
}

static int open_cluster(struct agent *a)
{
	struct cluster_opts co = { .c = a->c, .stats = &a->stats, .lock = &a->lock };
	int err;

	err = pick_source(a);
	if (err < 0)
		return err;
	a->use_api = err;
	if (a->use_api) {
		co.api = &a->api;
	} else {
		co.peers_file = a->o->peers;
		co.services_file = a->o->services;
	}
	return cluster_open(&co, &a->cl);
}

int agent_run(const struct ctx *c, struct agent_opts *o)
{
	struct agent a = { .c = c, .o = o, .sfd = -1 };
	struct metrics *m = NULL;
	struct peer self;
	int err, found;

	pthread_mutex_init(&a.lock, NULL);
	/* Signals first: blocked before the watch threads start. */
	a.sfd = signals_open();
	if (a.sfd < 0)
		return a.sfd;
	err = open_cluster(&a);
	if (err)
		goto out;
	found = err = wait_pod_cidr(&a, &self);
	if (err == -EINTR) {
		pr_info("agent: stopped before the node was initialized");
		err = 0;
		goto out;
	}
	services_mode(&a);
	a.self = found > 0 ? &self : NULL;
	if (!still_read_only(&a))
		err = agent_init_node(c, o, a.self);
	if (err)
		goto out;
	services_clear(&a);
	err = metrics_begin(&a, &m);
	if (err)
		goto out;
	/* One pass (--once) has everything the API lists first. */
	if (o->once && a.use_api && wait_until(&a, all_synced, "the first lists") == -EINTR) {
		err = 0;
		goto out;
	}
	/* Repair first, then the routes and the NAT table, then every few seconds. */
	cluster_refresh(a.cl, 0);
	flush(&a);
	reconcile_pass(&a);
	nat_pass(&a);
	if (!o->once)
		err = loop(&a);
out:
	metrics_stop(m);
	/* What changed since the last save is not lost for `service list`. */
	if (a.cl)
		cluster_save(a.cl, 1);
	cluster_close(a.cl);
	k8s_config_free(&a.api);
	close(a.sfd);
	pthread_mutex_destroy(&a.lock);
	return err;
}
