// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include "agent/cluster.h"
#include "agent/k8s/k8s.h"
#include "agent/k8s/list_file.h"
#include "lib/log.h"
#include "node/services.h"

#define BIT(r) (1u << (r))
#define NODE_BITS BIT(K8S_NODES)
#define SERVICE_BITS (BIT(K8S_SERVICES) | BIT(K8S_SLICES))
/* More changes at once than this are summed up in one line, not one each. */
#define LOG_EACH_MAX 20
/*
 * Rebuilds, and saves of the table, at most every 50 ms .. 1 s: twice as
 * long as the last one took, so that a storm of events costs at most half
 * the loop's time. Each has its own pace: saving a large table (6 MB of
 * JSON for 5,000 services) takes far longer than building it, and what
 * follows from the table must not wait for the file.
 */
#define FLUSH_GAP_MIN 0.05
#define FLUSH_GAP_MAX 1.0

struct file_src {
	const char *path;
	const char *what; /* "peers" */
	const char *keeping; /* "the routes we have" */
	unsigned int res; /* bits of the resources it holds */
	enum k8s_res def; /* of items without a kind */
	struct stat st; /* of the file we read (or tried) */
	int have; /* read once */
	int err; /* the last try failed */
	char last_err[512]; /* what it said: the same again is not repeated */
};

struct cluster {
	struct cluster_opts o;
	struct k8s_store store[K8S_RES_MAX];
	unsigned int follow; /* bits: resources with a source */
	unsigned int synced; /* bits: a full set arrived */
	unsigned int dirty; /* bits: changed since the last flush */
	struct k8s_client *api;
	struct file_src files[2];
	int n_files;
	int ifd; /* inotify on the files' directories; -1 */
	struct peers peers;
	int have_peers;
	int peers_fresh; /* rebuilt and changed since the last flush */
	struct svc_table table; /* as saved (or loaded at start) */
	int table_built; /* built by this run */
	int save_pending; /* the table changed since it was saved */
	int save_failed; /* the last save did not work: again in FLUSH_GAP_MAX */
	int listed; /* a full list came in since the last save */
	double last_flush, flush_cost; /* of the last rebuild */
	double last_save, save_cost;
	char source[256];
};

/* --- files ----------------------------------------------------------------------- */

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* A file that does not read: one line per cause (not per pass), we keep what we have. */
static void file_failed(struct file_src *f, const char *msg)
{
	if (!f->err || strcmp(msg, f->last_err))
		pr_warn("%s: %s; keeping %s", f->what, msg, f->keeping);
	snprintf(f->last_err, sizeof(f->last_err), "%s", msg);
	f->err = 1;
}

/* Re-read f if it changed; a file that does not read keeps what we have. */
static void file_refresh(struct cluster *cl, struct file_src *f)
{
	struct k8s_file_items items;
	char msg[sizeof(f->last_err)];
	struct stat st;
	int r;

	if (stat(f->path, &st)) {
		snprintf(msg, sizeof(msg), "%s: %s", f->path, strerror(errno));
		file_failed(f, msg);
		memset(&f->st, 0, sizeof(f->st));
		return;
	}
	if ((f->have || f->err) && same_file(&st, &f->st))
		return;
	f->st = st;
	if (k8s_file_load(f->path, f->res, f->def, &items)) {
		snprintf(msg, sizeof(msg), "%s file %s", f->what, error_message());
		error_clear();
		file_failed(f, msg);
		return;
	}
	for (r = 0; r < K8S_RES_MAX; r++) {
		if (!(f->res & BIT(r)))
			continue;
		if (store_sync(&cl->store[r], items.v[r], items.n[r])) {
			pr_warn("%s: %s; keeping %s", f->what, error_message(), f->keeping);
			error_clear();
			continue;
		}
		cl->synced |= BIT(r);
		cl->dirty |= BIT(r);
		cl->listed = 1;
	}
	if (f->res & NODE_BITS)
		pr_info("peers: read %zu nodes from %s", items.n[K8S_NODES], f->path);
	else
		pr_info("services: read %zu services and %zu endpoint slices from %s",
			items.n[K8S_SERVICES], items.n[K8S_SLICES], f->path);
	k8s_file_items_free(&items);
	f->have = 1;
	f->err = 0;
}

static void add_file(struct cluster *cl, const char *path, const char *what,
		     const char *keeping, unsigned int res, enum k8s_res def)
{
	struct file_src *f = &cl->files[cl->n_files++];

	*f = (struct file_src){ .path = path, .what = what, .keeping = keeping, .res = res,
				.def = def };
	cl->follow |= res;
}

/* Watch the directories: editors and ConfigMap updates replace the files. */
static void watch_files(struct cluster *cl)
{
	char dir[PATH_MAX];
	int i;

	if (!cl->n_files)
		return;
	cl->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (cl->ifd < 0)
		return;
	for (i = 0; i < cl->n_files; i++) {
		snprintf(dir, sizeof(dir), "%s", cl->files[i].path);
		if (inotify_add_watch(cl->ifd, dirname(dir),
				      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
					      IN_MOVED_FROM | IN_ATTRIB) < 0)
			pr_warn("%s: cannot watch %s (%s); checking it every pass",
				cl->files[i].what, dir, strerror(errno));
	}
}

/* --- open, close ----------------------------------------------------------------- */

int cluster_open(const struct cluster_opts *o, struct cluster **out)
{
	struct cluster *cl;
	int r, err;

	*out = NULL;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return errorf(-ENOMEM, "agent");
	cl->o = *o;
	cl->ifd = -1;
	for (r = 0; r < K8S_RES_MAX; r++)
		store_init(&cl->store[r], k8s_resources[r].free);
	/* Start from the table the last run saved: a restart that finds the same
	 * services changes nothing. */
	err = svc_table_load(o->c, &cl->table);
	if (err && err != -ENOENT)
		pr_warn("services: %s; starting from an empty table", error_message());
	error_clear();
	if (o->api) {
		cl->follow = NODE_BITS | SERVICE_BITS;
		snprintf(cl->source, sizeof(cl->source), "the Kubernetes API at %s (%s)",
			 o->api->server, o->api->source ?: "");
		err = k8s_client_start(o->api, o->stats, o->lock, &cl->api);
		if (err) {
			cluster_close(cl);
			return err;
		}
	} else {
		if (o->peers_file)
			add_file(cl, o->peers_file, "peers", "the routes we have", NODE_BITS,
				 K8S_NODES);
		if (o->services_file)
			add_file(cl, o->services_file, "services", "the service table we have",
				 SERVICE_BITS, K8S_SERVICES);
		watch_files(cl);
		snprintf(cl->source, sizeof(cl->source), "%s%s%s%s%s",
			 o->peers_file ? "peers " : "", o->peers_file ?: "",
			 o->peers_file && o->services_file ? ", " : "",
			 o->services_file ? "services " : "", o->services_file ?: "");
	}
	*out = cl;
	return 0;
}

void cluster_close(struct cluster *cl)
{
	int r;

	if (!cl)
		return;
	k8s_client_stop(cl->api);
	for (r = 0; r < K8S_RES_MAX; r++)
		store_free(&cl->store[r]);
	if (cl->ifd >= 0)
		close(cl->ifd);
	peers_free(&cl->peers);
	svc_table_free(&cl->table);
	free(cl);
}

int cluster_pollfds(struct cluster *cl, struct pollfd *fds)
{
	int n = 0;

	if (cl->api)
		fds[n++] = (struct pollfd){ .fd = k8s_client_fd(cl->api), .events = POLLIN };
	if (cl->ifd >= 0)
		fds[n++] = (struct pollfd){ .fd = cl->ifd, .events = POLLIN };
	return n;
}

const char *cluster_source(const struct cluster *cl)
{
	return cl->source;
}

int cluster_synced(const struct cluster *cl)
{
	return (cl->synced & cl->follow) == cl->follow;
}

/* --- taking changes in ------------------------------------------------------------- */

static void drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

void cluster_refresh(struct cluster *cl, int force)
{
	unsigned int synced, listed;
	int i;

	if (cl->api) {
		cl->dirty |= k8s_client_apply(cl->api, cl->store, &synced, &listed);
		cl->synced = synced;
		cl->listed |= !!listed;
		return;
	}
	if (cl->ifd >= 0)
		drain(cl->ifd);
	for (i = 0; i < cl->n_files; i++) {
		if (force && cl->files[i].err)
			memset(&cl->files[i].st, 0, sizeof(cl->files[i].st));
		file_refresh(cl, &cl->files[i]);
	}
}

static double gap(double cost)
{
	cost *= 2;
	return cost < FLUSH_GAP_MIN ? FLUSH_GAP_MIN : cost > FLUSH_GAP_MAX ? FLUSH_GAP_MAX : cost;
}

static double save_due(const struct cluster *cl)
{
	if (!cl->save_pending)
		return 1e18;
	return cl->last_save + (cl->save_failed ? FLUSH_GAP_MAX : gap(cl->save_cost));
}

double cluster_flush_due(const struct cluster *cl)
{
	double due = save_due(cl);

	if ((cl->dirty || cl->peers_fresh) && cl->last_flush + gap(cl->flush_cost) < due)
		due = cl->last_flush + gap(cl->flush_cost);
	return due;
}

/* --- the peers ----------------------------------------------------------------- */

static void add_peer(const char *key, void *obj, void *data)
{
	struct peers *p = data;

	p->v[p->n++] = *(struct peer *)obj;
}

static int peer_equal(const struct peer *a, const struct peer *b)
{
	int i;

	if (strcmp(a->name, b->name) || a->ip != b->ip || a->n_cidrs != b->n_cidrs)
		return 0;
	for (i = 0; i < a->n_cidrs; i++)
		if (a->cidrs[i].net != b->cidrs[i].net || a->cidrs[i].len != b->cidrs[i].len)
			return 0;
	return 1;
}

static int peers_equal(const struct peers *a, const struct peers *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (!peer_equal(&a->v[i], &b->v[i]))
			return 0;
	return 1;
}

/* 1 when the peers differ from the last ones (or are the first). */
static int rebuild_peers(struct cluster *cl)
{
	struct peers p = {};

	p.v = calloc(cl->store[K8S_NODES].n ?: 1, sizeof(*p.v));
	if (!p.v) {
		pr_warn("peers: out of memory; keeping the routes we have");
		return 0;
	}
	store_walk(&cl->store[K8S_NODES], add_peer, &p);
	if (cl->have_peers && peers_equal(&p, &cl->peers)) {
		peers_free(&p);
		return 0;
	}
	peers_free(&cl->peers);
	cl->peers = p;
	cl->have_peers = 1;
	return 1;
}

const struct peers *cluster_peers(struct cluster *cl)
{
	if (!(cl->synced & NODE_BITS))
		return NULL;
	if (cl->dirty & NODE_BITS || !cl->have_peers) {
		cl->peers_fresh |= rebuild_peers(cl);
		cl->dirty &= ~NODE_BITS;
	}
	return &cl->peers;
}

/* --- the service table ----------------------------------------------------------- */

struct ptrs {
	void **v;
	size_t n;
};

static void add_ptr(const char *key, void *obj, void *data)
{
	struct ptrs *p = data;

	p->v[p->n++] = obj;
}

static void describe(const struct service *s, char *buf, size_t len)
{
	char ip[IPADDR_STRLEN];
	size_t n, k, backends = 0, ready = 0, b;

	n = snprintf(buf, len, "%s", s->n_ips ? ipaddr_str(&s->ips[0], ip) : "-");
	for (k = 0; k < s->n_ports && n < len; k++) {
		n += snprintf(buf + n, len - n, "%s%u/%s", k ? "," : " ", s->ports[k].def.port,
			      svc_protocol_name(s->ports[k].def.protocol));
		backends += s->ports[k].n_backends;
		for (b = 0; b < s->ports[k].n_backends; b++)
			ready += s->ports[k].backends[b].ready;
	}
	if (n < len)
		snprintf(buf + n, len - n, ", %zu of %zu backends ready", ready, backends);
}

static void log_change(const struct service *old, const struct service *new, void *data)
{
	int each = *(int *)data;
	const struct service *s = new ?: old;
	char what[256];

	if (new)
		describe(new, what, sizeof(what));
	logmsg(each ? LOG_INFO : LOG_DEBUG, "services: %s/%s %s%s%s", s->ns, s->name,
	       !old ? "added" : !new ? "removed" : "changed", new ? ": " : "", new ? what : "");
}

static void noop(const struct service *old, const struct service *new, void *data)
{
}

/* 1 when the table is new to the agent: this run's first, or changed. */
static int rebuild_table(struct cluster *cl)
{
	struct ptrs specs = {}, slices = {};
	struct svc_table t;
	size_t changes, backends, ready;
	int each, err, fresh = 0;

	specs.v = calloc(cl->store[K8S_SERVICES].n ?: 1, sizeof(void *));
	slices.v = calloc(cl->store[K8S_SLICES].n ?: 1, sizeof(void *));
	if (!specs.v || !slices.v) {
		err = errorf(-ENOMEM, "service table");
		goto out;
	}
	store_walk(&cl->store[K8S_SERVICES], add_ptr, &specs);
	store_walk(&cl->store[K8S_SLICES], add_ptr, &slices);
	err = svc_table_build((struct svc_spec *const *)specs.v, specs.n,
			      (struct svc_slice *const *)slices.v, slices.n, &t);
	if (err)
		goto out;
	changes = svc_table_diff(&cl->table, &t, noop, NULL);
	each = changes <= LOG_EACH_MAX;
	svc_table_diff(&cl->table, &t, log_change, &each);
	svc_table_count(&t, &backends, &ready);
	if (!cl->table_built)
		pr_info("services: %zu services, %zu backends (%zu ready) from %s", t.n, backends,
			ready, cl->source);
	else if (!each)
		pr_info("services: %zu changed; %zu services, %zu backends (%zu ready)", changes,
			t.n, backends, ready);
	svc_table_free(&cl->table);
	cl->table = t;
	fresh = changes || !cl->table_built;
	if (fresh)
		cl->save_pending = 1;
	cl->table_built = 1;
	pthread_mutex_lock(cl->o.lock);
	cl->o.stats->have_services = 1;
	cl->o.stats->services = t.n;
	cl->o.stats->service_backends = backends;
	cl->o.stats->service_backends_ready = ready;
	pthread_mutex_unlock(cl->o.lock);
out:
	if (err) {
		pr_warn("services: %s; keeping the service table we have", error_message());
		error_clear();
	}
	free(specs.v);
	free(slices.v);
	return fresh;
}

/*
 * A full list leaves its pages' JSON freed in the threads' arenas (tens of
 * MiB for thousands of objects): give that back to the system once the
 * table is saved. Not after each event: refaulting the pages would slow
 * the next rebuild several times over.
 */
static void trim_after_list(struct cluster *cl)
{
	if (!cl->listed || cl->save_pending)
		return;
	malloc_trim(0);
	cl->listed = 0;
}

void cluster_save(struct cluster *cl, int now)
{
	double t0 = k8s_now();

	if (!cl->save_pending || (!now && t0 < save_due(cl))) {
		trim_after_list(cl);
		return;
	}
	if (svc_table_save(cl->o.c, &cl->table)) {
		if (!cl->save_failed)
			pr_warn("services: %s; trying again", error_message());
		error_clear();
		cl->save_failed = 1;
	} else {
		if (cl->save_failed)
			pr_info("services: the table is saved again");
		cl->save_failed = 0;
		cl->save_pending = 0;
	}
	cl->last_save = k8s_now();
	cl->save_cost = cl->last_save - t0;
	pr_debug("services: table of %zu services saved in %.1f ms", cl->table.n,
		 cl->save_cost * 1e3);
	trim_after_list(cl);
}

const struct svc_table *cluster_services(const struct cluster *cl)
{
	return &cl->table;
}

unsigned int cluster_flush(struct cluster *cl)
{
	double t0 = k8s_now();
	unsigned int changed = 0;

	if (cl->dirty & NODE_BITS && cl->synced & NODE_BITS)
		cl->peers_fresh |= rebuild_peers(cl);
	if (cl->peers_fresh)
		changed |= CLUSTER_PEERS;
	cl->peers_fresh = 0;
	if (cl->dirty & SERVICE_BITS && (cl->synced & SERVICE_BITS) == SERVICE_BITS &&
	    rebuild_table(cl))
		changed |= CLUSTER_SERVICES;
	cl->dirty = 0;
	cl->last_flush = k8s_now();
	cl->flush_cost = cl->last_flush - t0;
	if (changed & CLUSTER_SERVICES)
		pr_debug("services: table of %zu services built in %.1f ms", cl->table.n,
			 cl->flush_cost * 1e3);
	return changed;
}
