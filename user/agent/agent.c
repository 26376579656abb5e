// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The agent's loop. It holds the state lock only during a reconcile pass,
 * so `bridgeless pod add` and the CNI plugin work while it idles. Each pass
 * and each event is one log line with its level on stderr (journald and
 * kubectl logs pick it up). SIGTERM and SIGINT stop the agent and leave the
 * datapath exactly as it is: pods keep forwarding with no agent running.
 */
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "agent/agent.h"
#include "agent/peers_file.h"
#include "cni/cni.h"
#include "datapath/datapath.h"
#include "lib/log.h"
#include "node/reconcile.h"

/* Warn when the NAT table is fuller than this; say so again below the second. */
#define NAT_FILL_WARN 80
#define NAT_FILL_OK 70

struct agent {
	const struct ctx *c;
	struct agent_opts *o;
	struct agent_stats stats;
	pthread_mutex_t lock; /* stats, shared with the metrics server */
	int sfd; /* signalfd */
	int ifd; /* inotify on the peers file's directory, -1 if none */
	struct peers peers;
	int have_peers;
	int peers_fresh; /* read since the last route sync: say everything */
	struct stat peers_st; /* of the file we read */
	int peers_err; /* the last read failed: do not repeat the warning */
	int nat_full; /* above NAT_FILL_WARN */
	int not_init_warned;
	int read_only; /* the state dir cannot be written: no init, no repairs */
	const struct cidr *pod_cidr; /* from the peers file, for a later init */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Re-read the peers file if it changed; 1 if the peers were (re)read. */
static int peers_refresh(struct agent *a)
{
	struct peers p;
	struct stat st;
	int err;

	if (!a->o->peers)
		return 0;
	if (stat(a->o->peers, &st)) {
		if (!a->peers_err)
			pr_warn("peers: %s: %s; keeping the routes we have", a->o->peers,
				strerror(errno));
		a->peers_err = 1;
		memset(&a->peers_st, 0, sizeof(a->peers_st));
		return 0;
	}
	if (a->have_peers && same_file(&st, &a->peers_st))
		return 0;
	if (a->peers_err && same_file(&st, &a->peers_st))
		return 0;
	a->peers_st = st;
	err = peers_load(a->o->peers, &p);
	if (err) {
		pr_warn("peers: %s; keeping the routes we have", error_message());
		error_clear();
		a->peers_err = 1;
		return 0;
	}
	if (a->have_peers)
		peers_free(&a->peers);
	a->peers = p;
	a->have_peers = 1;
	a->peers_err = 0;
	a->peers_fresh = 1;
	pr_info("peers: read %zu nodes from %s", p.n, a->o->peers);
	return 1;
}

static void sync_routes(struct agent *a)
{
	struct route_sync_stats st;
	struct peers_self self;
	struct node_rec n;

	if (!a->o->peers || !a->have_peers || node_load(a->c, &n)) {
		error_clear();
		return;
	}
	self = (struct peers_self){ .name = a->o->node_name, .node_ip = n.node_ip,
				    .pod_cidr = n.pod_cidr,
				    .cluster_cidr = n.cluster_cidr,
				    .uplink_ifindex = n.uplink_ifindex };
	if (peers_sync_routes(&a->peers, &self, !a->peers_fresh, &st)) {
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
	err = agent_init_node(a->c, a->o, a->pod_cidr);
	if (err) {
		pr_warn("agent: %s", error_message());
		error_clear();
		return 1;
	}
	pr_info("agent: state dir %s can be written again; reconciling", a->c->state_dir);
	a->read_only = 0;
	return 0;
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
	struct nat_gc_stats st;
	unsigned int pct;

	if (pinned_open(a->c, &pins)) {
		error_clear();
		return;
	}
	if (nat_gc(pins.nat, &a->o->timeouts, &st)) {
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
	a->stats.nat_expired += st.expired;
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

/* Watch the directory: editors and ConfigMap updates replace the file. */
static int peers_watch(const char *path)
{
	char dir[PATH_MAX];
	int fd;

	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s", path);
	if (inotify_add_watch(fd, dirname(dir),
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
				      IN_MOVED_FROM | IN_ATTRIB) < 0) {
		pr_warn("peers: cannot watch %s (%s); checking it every pass", dir,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Wait until the peers file names our pod CIDR (a DaemonSet's first start). */
static int wait_pod_cidr(struct agent *a, struct cidr *cidr, int *found)
{
	const struct peer *self;
	struct node_rec n;
	double next_warn = 0;
	char text[20];
	int sig;

	if ((a->o->init.given & NI_POD_CIDR) || !a->o->peers || !a->o->node_name)
		return 0;
	if (node_load(a->c, &n) == 0)
		return 0; /* the record has one */
	error_clear();
	for (;;) {
		peers_refresh(a);
		self = a->have_peers ? peers_find_self(&a->peers, a->o->node_name, 0) : NULL;
		if (self && self->n_cidrs) {
			*cidr = self->cidrs[0];
			*found = 1;
			pr_info("agent: pod CIDR %s from node %s in %s", cidr_str(cidr, text),
				a->o->node_name, a->o->peers);
			return 0;
		}
		if (now_s() >= next_warn) {
			pr_warn("agent: waiting for node %s with a podCIDR in %s", a->o->node_name,
				a->o->peers);
			next_warn = now_s() + 30;
		}
		if (poll(&(struct pollfd){ .fd = a->sfd, .events = POLLIN }, 1, 1000) > 0) {
			sig = read_signal(a->sfd);
			if (sig == SIGTERM || sig == SIGINT)
				return -EINTR;
		}
	}
}

static double min2(double a, double b)
{
	return a < b ? a : b;
}

static int loop(struct agent *a)
{
	double next_rec = now_s() + a->o->reconcile_s;
	double next_gc = now_s() + a->o->nat_gc_s;
	struct pollfd fds[2];
	int n, sig, timeout;

	pr_info("agent: running (reconcile every %gs, NAT GC every %gs%s%s)",
		a->o->reconcile_s, a->o->nat_gc_s, a->o->peers ? ", peers " : "",
		a->o->peers ?: "");
	for (;;) {
		timeout = (int)((min2(next_rec, next_gc) - now_s()) * 1000) + 1;
		fds[0] = (struct pollfd){ .fd = a->sfd, .events = POLLIN };
		fds[1] = (struct pollfd){ .fd = a->ifd, .events = POLLIN };
		n = poll(fds, a->ifd >= 0 ? 2 : 1, timeout > 0 ? timeout : 0);
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
				peers_refresh(a);
				next_rec = 0;
			}
		}
		if (n > 0 && a->ifd >= 0 && (fds[1].revents & POLLIN)) {
			drain(a->ifd);
			if (peers_refresh(a))
				sync_routes(a);
		}
		if (now_s() >= next_rec) {
			peers_refresh(a);
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

int agent_run(const struct ctx *c, struct agent_opts *o)
{
	struct agent a = { .c = c, .o = o, .sfd = -1, .ifd = -1 };
	struct metrics *m = NULL;
	struct cidr cidr;
	int err, found = 0;

	pthread_mutex_init(&a.lock, NULL);
	a.sfd = signals_open();
	if (a.sfd < 0)
		return a.sfd;
	if (o->peers)
		a.ifd = peers_watch(o->peers);

	err = wait_pod_cidr(&a, &cidr, &found);
	if (err == -EINTR) {
		pr_info("agent: stopped before the node was initialized");
		err = 0;
		goto out;
	}
	a.pod_cidr = found ? &cidr : NULL;
	if (!still_read_only(&a))
		err = agent_init_node(c, o, a.pod_cidr);
	if (err)
		goto out;
	err = metrics_begin(&a, &m);
	if (err)
		goto out;
	/* Repair first, then the routes and the NAT table, then every few seconds. */
	peers_refresh(&a);
	reconcile_pass(&a);
	nat_pass(&a);
	if (!o->once)
		err = loop(&a);
out:
	metrics_stop(m);
	if (a.have_peers)
		peers_free(&a.peers);
	if (a.ifd >= 0)
		close(a.ifd);
	close(a.sfd);
	pthread_mutex_destroy(&a.lock);
	return err;
}
