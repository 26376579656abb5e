// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "datapath/datapath.h"
#include "datapath/nat_table.h"
#include "datapath/services.h"
#include "lib/log.h"

/*
 * How long the old revision of a backend set outlives the switch: a packet
 * that read the old frontend looks up its backends within microseconds.
 */
#define GRACE_NS 10000000

struct svc_maps {
	int fe, be, stats, nat;
	__u32 max_ids; /* svc_stats's entries: ids are 1..max_ids-1 */
	__u32 max_fe; /* svc_frontends's entries */
	__u32 max_be; /* svc_backends's entries */
};

static void maps_close(struct svc_maps *m)
{
	int *fds[] = { &m->fe, &m->be, &m->stats, &m->nat };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
}

static __u32 max_entries(int fd, __u32 dflt)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.max_entries : dflt;
}

static int maps_open(const struct ctx *c, struct svc_maps *m)
{
	m->fe = pin_open(c, BL_PIN(BL_MAP_SVC_FRONTENDS));
	m->be = m->fe < 0 ? -1 : pin_open(c, BL_PIN(BL_MAP_SVC_BACKENDS));
	m->stats = m->be < 0 ? -1 : pin_open(c, BL_PIN(BL_MAP_SVC_STATS));
	m->nat = m->stats < 0 ? -1 : pin_open(c, BL_PIN(BL_MAP_NAT));
	if (m->nat < 0) {
		int err = m->fe < 0 ? m->fe : m->be < 0 ? m->be : m->stats < 0 ? m->stats : m->nat;

		maps_close(m);
		return err;
	}
	m->max_ids = max_entries(m->stats, BL_SVC_MAX_DEFAULT + 1);
	m->max_fe = max_entries(m->fe, BL_SVC_MAX_DEFAULT);
	m->max_be = max_entries(m->be, BL_SVC_BACKENDS_MAX_DEFAULT);
	return 0;
}

static int key_cmp(const struct bl_svc_key *a, const struct bl_svc_key *b)
{
	return memcmp(a, b, sizeof(*a));
}

static void fe_key(const struct dp_frontend *f, struct bl_svc_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, &f->addr, 4);
	k->port = f->port;
	k->proto = f->proto;
}

static int fe_cmp(const void *a, const void *b)
{
	struct bl_svc_key ka, kb;

	fe_key(a, &ka);
	fe_key(b, &kb);
	return key_cmp(&ka, &kb);
}

static int be_cmp(const void *a, const void *b)
{
	const struct dp_backend *x = a, *y = b;

	if (x->addr != y->addr)
		return memcmp(&x->addr, &y->addr, 4);
	return (int)x->port - (int)y->port;
}

static const char *fe_name(const struct dp_frontend *f, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];

	snprintf(buf, len, "%s:%u/%s", inet_ntop(AF_INET, &f->addr, ip, sizeof(ip)) ?: "?",
		 f->port, f->proto == IPPROTO_UDP ? "UDP" : "TCP");
	return buf;
}

/*
 * Every entry of map fd (keys ksz, values vsz bytes each) into arrays the
 * caller frees; the count, or -errno. A batch of thousands per system call
 * where the kernel has them (the NAT table holds up to --nat-max entries,
 * and a sync walks it whenever a backend leaves), one entry per call
 * otherwise.
 */
static ssize_t map_snapshot(int fd, size_t ksz, size_t vsz, void **keys_out, void **vals_out)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t n = 0, cap = 0, chunk = 4096;
	char *keys = NULL, *vals = NULL, prev[64];
	__u32 in_tok = 0, out_tok = 0, count;
	int first = 1, batch = 1, err;

	if (ksz > sizeof(prev))
		return -EINVAL;

	for (;;) {
		if (cap - n < chunk) {
			char *nk, *nv;

			cap = n + 2 * chunk;
			nk = realloc(keys, cap * ksz);
			if (nk)
				keys = nk;
			nv = nk ? realloc(vals, cap * vsz) : NULL;
			if (!nk || !nv) {
				free(keys);
				free(nv ? nv : vals);
				return -ENOMEM;
			}
			vals = nv;
		}
		if (batch) {
			count = chunk;
			err = bpf_map_lookup_batch(fd, first ? NULL : &in_tok, &out_tok, keys + n * ksz,
						   vals + n * vsz, &count, &opts);
			if (err && errno == ENOSPC && chunk < (1u << 20)) {
				chunk *= 2; /* a bucket larger than the batch */
				continue;
			}
			if (err && first && errno != ENOENT) {
				batch = 0; /* no batches for this map here: one at a time */
				n = 0;
				continue;
			}
			if (err && errno != ENOENT) {
				err = -errno;
				goto fail;
			}
			n += count;
			in_tok = out_tok;
			first = 0;
			if (err)
				break; /* ENOENT: that was the last batch */
			continue;
		}
		if (bpf_map_get_next_key(fd, first ? NULL : prev, keys + n * ksz))
			break;
		memcpy(prev, keys + n * ksz, ksz);
		first = 0;
		if (bpf_map_lookup_elem(fd, prev, vals + n * vsz) == 0)
			n++;
	}
	*keys_out = keys;
	*vals_out = vals;
	return n;
fail:
	free(keys);
	free(vals);
	return err;
}

/* What the maps hold now: frontends by key. */
struct have {
	struct bl_svc_key key;
	struct bl_svc svc;
	int wanted;
};

static int have_cmp(const void *a, const void *b)
{
	return key_cmp(&((const struct have *)a)->key, &((const struct have *)b)->key);
}

static int read_frontends(int fd, struct have **out, size_t *n)
{
	struct bl_svc_key *keys;
	struct bl_svc *vals;
	struct have *v;
	ssize_t got;
	size_t i;

	got = map_snapshot(fd, sizeof(*keys), sizeof(*vals), (void **)&keys, (void **)&vals);
	if (got < 0)
		return got;
	v = calloc(got ?: 1, sizeof(*v));
	if (!v) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (i = 0; i < (size_t)got; i++) {
		v[i].key = keys[i];
		v[i].svc = vals[i];
	}
	free(keys);
	free(vals);
	*n = got;
	if (*n)
		qsort(v, *n, sizeof(*v), have_cmp);
	*out = v;
	return 0;
}

/* 1 if the backends of (id, rev) are exactly f's (sorted). */
static int same_backends(int fd, const struct bl_svc *s, const struct dp_frontend *f)
{
	struct bl_svc_backend_key k = { .id = s->id, .rev = s->rev };
	struct bl_svc_backend b;
	size_t i;

	if (s->count != f->n_be)
		return 0;
	for (i = 0; i < f->n_be; i++) {
		k.slot = i;
		if (bpf_map_lookup_elem(fd, &k, &b) || memcmp(b.addr, &f->be[i].addr, 4) ||
		    b.port != f->be[i].port)
			return 0;
	}
	return 1;
}

static int write_backends(int fd, __u32 id, __u16 rev, const struct dp_frontend *f)
{
	struct bl_svc_backend_key k = { .id = id, .rev = rev };
	struct bl_svc_backend b = {};
	size_t i;

	for (i = 0; i < f->n_be; i++) {
		k.slot = i;
		memcpy(b.addr, &f->be[i].addr, 4);
		b.port = f->be[i].port;
		if (bpf_map_update_elem(fd, &k, &b, BPF_ANY))
			return errorf(-errno, "service backends (%zu of %zu)", i, f->n_be);
	}
	return 0;
}

/* Backend entries to delete once the grace period is over. */
struct stale {
	struct bl_svc_backend_key *v;
	size_t n, cap;
};

static int stale_add(struct stale *st, __u32 id, __u16 rev, __u16 count)
{
	__u16 i;

	for (i = 0; i < count; i++) {
		if (st->n == st->cap) {
			size_t cap = st->cap ? st->cap * 2 : 1024;
			struct bl_svc_backend_key *nv = realloc(st->v, cap * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			st->v = nv;
			st->cap = cap;
		}
		st->v[st->n++] = (struct bl_svc_backend_key){ .id = id, .rev = rev, .slot = i };
	}
	return 0;
}

/* The lowest service id no frontend holds; 0 when all are taken. */
static __u32 id_alloc(const uint8_t *used, __u32 max)
{
	__u32 id;

	for (id = 1; id < max; id++)
		if (!(used[id / 8] & (1u << (id % 8))))
			return id;
	return 0;
}

static void id_mark(uint8_t *used, __u32 id, int on)
{
	if (on)
		used[id / 8] |= 1u << (id % 8);
	else
		used[id / 8] &= ~(1u << (id % 8));
}

static void stats_clear(int fd, __u32 id)
{
	int cpus = libbpf_num_possible_cpus();
	struct bl_svc_stats *zero;

	if (cpus < 1)
		return;
	zero = calloc(cpus, sizeof(*zero));
	if (zero && bpf_map_update_elem(fd, &id, zero, BPF_ANY))
		pr_debug("service %u: clear counters: %s", id, strerror(errno));
	free(zero);
}

/* The frontend of service id in the new set, or NULL: it went. */
static const struct dp_frontend *by_id(const struct dp_frontend *const *ids, __u32 max,
				       __u32 id)
{
	return id < max ? ids[id] : NULL;
}

/*
 * Remove the flows of backends that left their service (or whose service
 * went), both entries: their next packet chooses a backend again, as a
 * new connection would.
 */
static unsigned int drop_gone_flows(int nat, const struct dp_frontend *const *ids, __u32 max)
{
	struct bl_nat_key *keys;
	struct bl_nat_entry *vals;
	unsigned int removed = 0;
	ssize_t n, i;

	n = map_snapshot(nat, sizeof(*keys), sizeof(*vals), (void **)&keys, (void **)&vals);
	if (n < 0) {
		pr_warn("services: walk the NAT table: %s", strerror(-n));
		return 0;
	}
	for (i = 0; i < n; i++) {
		const struct bl_nat_entry *e = &vals[i];
		const struct dp_frontend *f;
		struct dp_backend want;

		if (keys[i].dir != BL_DIR_EGRESS || !(e->svc & BL_NAT_SVC_FWD))
			continue;
		f = by_id(ids, max, e->svc_id);
		memcpy(&want.addr, e->addr, 4);
		want.port = e->port;
		if (f && f->n_be && bsearch(&want, f->be, f->n_be, sizeof(want), be_cmp))
			continue;
		if (nat_flow_delete(nat, &keys[i], e) == 0)
			removed++;
	}
	free(keys);
	free(vals);
	return removed;
}

static void sleep_ns(long ns)
{
	struct timespec ts = { 0, ns };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * One sync. The maps go from the frontends they hold (have) to the wanted
 * ones (fe) in two passes over the same steps: a dry one that only counts,
 * and refuses a table that would not fit before anything is written, then
 * the real one. Removed frontends go first; each changed or new frontend
 * then gets its backend set under a new revision before it switches to it,
 * and the old sets (and the ids of removed frontends) are freed after a
 * grace period: at the end, or in between where the maps need the room.
 */
struct sync {
	struct svc_maps m;
	struct dp_frontend *fe;
	size_t n;
	struct have *have;
	size_t nh;
	struct have **match; /* per frontend: what the maps hold for it, or NULL */
	uint8_t *unchanged; /* per frontend: held exactly so */
	uint8_t *used; /* ids held */
	const struct dp_frontend **ids; /* the new frontend of each id */
	struct stale stale; /* old backend sets */
	__u32 *pending; /* ids of removed frontends, free after the grace period */
	size_t n_pending;
	/* the counts both passes go by */
	size_t occupied; /* backend slots in use, old sets included */
	size_t stale_slots; /* of which old sets */
	size_t free_ids; /* ids free now */
	size_t pending_ids; /* ids free after the grace period */
	int dry;
};

/* Free the old sets and the ids of removed frontends, after the grace period. */
static void sync_flush(struct sync *s)
{
	size_t i;

	s->occupied -= s->stale_slots;
	s->stale_slots = 0;
	s->free_ids += s->pending_ids;
	s->pending_ids = 0;
	if (s->dry || (!s->stale.n && !s->n_pending))
		return;
	sleep_ns(GRACE_NS);
	for (i = 0; i < s->stale.n; i++)
		bpf_map_delete_elem(s->m.be, &s->stale.v[i]);
	s->stale.n = 0;
	for (i = 0; i < s->n_pending; i++)
		id_mark(s->used, s->pending[i], 0);
	s->n_pending = 0;
}

static int sync_refuse(struct sync *s, size_t need_slots)
{
	size_t i, slots = 0;

	for (i = 0; i < s->n; i++)
		slots += s->fe[i].n_be;
	if (slots <= s->m.max_be && s->n <= s->m.max_fe && s->n < s->m.max_ids)
		return errorf_raw(-ENOSPC,
				  "service maps too small: the table's %zu frontends and %zu backends fit, but not the %zu backend slots its changed sets need while they switch (--svc-backends-max %u); the maps keep the last table",
				  s->n, slots, need_slots, s->m.max_be);
	return errorf_raw(-ENOSPC,
			  "service maps too small for %zu frontends and %zu backends (node init --svc-max %u, --svc-backends-max %u); the maps keep the last table",
			  s->n, slots, s->m.max_fe < s->m.max_ids - 1 ? s->m.max_fe : s->m.max_ids - 1,
			  s->m.max_be);
}

/* Remove the frontends that are not wanted any more. */
static int sync_removals(struct sync *s, struct dp_sync_stats *st)
{
	size_t i;

	for (i = 0; i < s->nh; i++) {
		struct have *h = &s->have[i];

		if (h->wanted)
			continue;
		s->stale_slots += h->svc.count;
		s->pending_ids += h->svc.id < s->m.max_ids;
		if (s->dry)
			continue;
		if (bpf_map_delete_elem(s->m.fe, &h->key) && errno != ENOENT)
			return errorf(-errno, "delete service frontend");
		if (stale_add(&s->stale, h->svc.id, h->svc.rev, h->svc.count))
			return errorf(-ENOMEM, "service sync");
		if (h->svc.id < s->m.max_ids)
			s->pending[s->n_pending++] = h->svc.id;
		st->removed++;
	}
	return 0;
}

/* Frontend i, changed or new: its set under a new revision, then the switch. */
static int sync_one(struct sync *s, size_t i, struct dp_sync_stats *st)
{
	const struct dp_frontend *f = &s->fe[i];
	struct have *h = s->match[i];
	struct bl_svc_key key;
	struct bl_svc sv = {};
	char name[64];
	int err;

	if (f->n_be > BL_SVC_BACKENDS_PER_FRONTEND)
		return errorf_raw(-E2BIG, "service %s has %zu backends, at most %u; the maps keep the last table",
				  fe_name(f, name, sizeof(name)), f->n_be,
				  BL_SVC_BACKENDS_PER_FRONTEND);
	if (!h && !s->free_ids && s->pending_ids)
		sync_flush(s);
	if (!h && !s->free_ids)
		return sync_refuse(s, 0);
	if (s->occupied + f->n_be > s->m.max_be && s->stale_slots)
		sync_flush(s);
	if (s->occupied + f->n_be > s->m.max_be)
		return sync_refuse(s, s->occupied + f->n_be);
	s->occupied += f->n_be;
	if (h)
		s->stale_slots += h->svc.count;
	else
		s->free_ids--;
	if (s->dry)
		return 0;

	fe_key(f, &key);
	if (h) {
		sv = h->svc;
		sv.rev = h->svc.rev + 1;
	} else {
		sv.id = id_alloc(s->used, s->m.max_ids);
		if (!sv.id) /* the dry pass counted otherwise */
			return errorf_raw(-ENOSPC, "service maps: no free service id");
		id_mark(s->used, sv.id, 1);
		s->ids[sv.id] = f;
		sv.rev = 1;
		stats_clear(s->m.stats, sv.id);
	}
	sv.count = f->n_be;
	sv.affinity_s = f->affinity_s;
	sv.flags = f->flags;
	/* the new set first, then the switch; the old set goes after the grace period */
	err = write_backends(s->m.be, sv.id, sv.rev, f);
	if (!err && bpf_map_update_elem(s->m.fe, &key, &sv, BPF_ANY))
		err = errorf(-errno, "service frontend");
	if (err)
		return err;
	if (h) {
		st->changed++;
		if (stale_add(&s->stale, h->svc.id, h->svc.rev, h->svc.count))
			return errorf(-ENOMEM, "service sync");
	} else {
		st->added++;
	}
	return 0;
}

/* One pass, dry or real. */
static int sync_pass(struct sync *s, int dry, struct dp_sync_stats *st)
{
	size_t i;
	int err;

	s->dry = dry;
	s->occupied = s->stale_slots = s->pending_ids = 0;
	s->free_ids = s->m.max_ids ? s->m.max_ids - 1 : 0;
	for (i = 0; i < s->nh; i++) {
		s->occupied += s->have[i].svc.count;
		if (s->have[i].svc.id < s->m.max_ids && s->free_ids)
			s->free_ids--;
	}
	if (s->n > s->m.max_fe)
		return sync_refuse(s, 0);
	err = sync_removals(s, st);
	for (i = 0; !err && i < s->n; i++) {
		if (s->unchanged[i]) {
			st->unchanged += !dry;
			continue;
		}
		err = sync_one(s, i, st);
	}
	return err;
}

/*
 * The backend entries no frontend uses: what an agent killed between a
 * switch and the end of its grace period left. Once per process, before
 * its first sync counts the room in the maps.
 */
static unsigned int sweep_orphans(const struct sync *s)
{
	const struct bl_svc **by = calloc(s->m.max_ids ?: 1, sizeof(*by));
	struct bl_svc_backend_key *keys = NULL;
	struct bl_svc_backend *vals = NULL;
	unsigned int removed = 0;
	ssize_t n, i;

	if (!by)
		return 0;
	for (i = 0; i < (ssize_t)s->nh; i++)
		if (s->have[i].svc.id < s->m.max_ids)
			by[s->have[i].svc.id] = &s->have[i].svc;
	n = map_snapshot(s->m.be, sizeof(*keys), sizeof(*vals), (void **)&keys, (void **)&vals);
	for (i = 0; i < n; i++) {
		const struct bl_svc *f = keys[i].id < s->m.max_ids ? by[keys[i].id] : NULL;

		if (f && f->rev == keys[i].rev && keys[i].slot < f->count)
			continue;
		if (bpf_map_delete_elem(s->m.be, &keys[i]) == 0)
			removed++;
	}
	free(keys);
	free(vals);
	free(by);
	return removed;
}

static int swept; /* this process has swept the orphans once */

int dp_services_sync(const struct ctx *c, struct dp_frontend *fe, size_t n,
		     struct dp_sync_stats *st)
{
	struct sync s = { .fe = fe };
	size_t i, j;
	int err;

	memset(st, 0, sizeof(*st));
	err = maps_open(c, &s.m);
	if (err)
		return error_prefix(err, "service maps");
	err = read_frontends(s.m.fe, &s.have, &s.nh);
	if (err) {
		errorf(err, "read service frontends");
		goto out;
	}
	/* sorted, each key once (the first of duplicates wins) */
	if (n)
		qsort(fe, n, sizeof(*fe), fe_cmp);
	for (i = j = 0; i < n; i++)
		if (!j || fe_cmp(&fe[j - 1], &fe[i]))
			fe[j++] = fe[i];
	s.n = n = j;
	for (i = 0; i < n; i++)
		if (fe[i].n_be)
			qsort(fe[i].be, fe[i].n_be, sizeof(*fe[i].be), be_cmp);
	s.used = calloc(s.m.max_ids / 8 + 1, 1);
	s.ids = calloc(s.m.max_ids, sizeof(*s.ids));
	s.match = calloc(n ?: 1, sizeof(*s.match));
	s.unchanged = calloc(n ?: 1, 1);
	s.pending = calloc(s.nh ?: 1, sizeof(*s.pending));
	if (!s.used || !s.ids || !s.match || !s.unchanged || !s.pending) {
		err = errorf(-ENOMEM, "service sync");
		goto out;
	}
	if (!swept) {
		st->orphans_removed = sweep_orphans(&s);
		swept = 1;
	}
	for (i = 0; i < s.nh; i++)
		if (s.have[i].svc.id < s.m.max_ids)
			id_mark(s.used, s.have[i].svc.id, 1);
	for (i = 0; i < n; i++) {
		struct have probe, *h;

		fe_key(&fe[i], &probe.key);
		h = s.nh ? bsearch(&probe, s.have, s.nh, sizeof(*s.have), have_cmp) : NULL;
		s.match[i] = h;
		if (!h)
			continue;
		h->wanted = 1;
		if (h->svc.id < s.m.max_ids)
			s.ids[h->svc.id] = &fe[i];
		s.unchanged[i] = h->svc.affinity_s == fe[i].affinity_s &&
				 h->svc.flags == fe[i].flags && same_backends(s.m.be, &h->svc, &fe[i]);
	}
	/* nothing is written unless the whole table fits */
	err = sync_pass(&s, 1, st);
	if (!err)
		err = sync_pass(&s, 0, st);
	/* what was switched (also before a failure) frees its old set */
	sync_flush(&s);
	if (st->changed || st->removed)
		st->flows_removed = drop_gone_flows(s.m.nat, s.ids, s.m.max_ids);
out:
	free(s.stale.v);
	free(s.pending);
	free(s.unchanged);
	free(s.match);
	free(s.have);
	free(s.used);
	free(s.ids);
	maps_close(&s.m);
	return err;
}

int dp_services_map_id(const struct ctx *c, __u32 *id)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd, err = 0;

	fd = pin_open(c, BL_PIN(BL_MAP_SVC_FRONTENDS));
	if (fd < 0)
		return fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = errorf(-errno, "service frontends map");
	close(fd);
	*id = info.id;
	return err;
}

int dp_services_foreach(const struct ctx *c,
			int (*fn)(const struct dp_frontend_state *s, void *data),
			void *data)
{
	struct dp_frontend_state *s;
	struct bl_svc_stats *per_cpu;
	struct have *have = NULL;
	struct svc_maps m;
	size_t nh, i;
	int cpus = libbpf_num_possible_cpus(), err, j;

	if (cpus < 1)
		return errorf(cpus ? cpus : -EINVAL, "possible CPUs");
	err = maps_open(c, &m);
	if (err)
		return err;
	err = read_frontends(m.fe, &have, &nh);
	s = calloc(1, sizeof(*s));
	per_cpu = calloc(cpus, sizeof(*per_cpu));
	if (err || !s || !per_cpu) {
		err = errorf(err ?: -ENOMEM, "read service frontends");
		goto out;
	}
	for (i = 0; i < nh && !err; i++) {
		struct bl_svc_backend_key bk = { .id = have[i].svc.id, .rev = have[i].svc.rev };

		memset(s, 0, sizeof(*s));
		s->key = have[i].key;
		s->svc = have[i].svc;
		if (bpf_map_lookup_elem(m.stats, &s->svc.id, per_cpu) == 0) {
			for (j = 0; j < cpus; j++) {
				s->stats.packets += per_cpu[j].packets;
				s->stats.bytes += per_cpu[j].bytes;
				s->stats.flows += per_cpu[j].flows;
				s->stats.refused += per_cpu[j].refused;
			}
		}
		for (bk.slot = 0; bk.slot < s->svc.count &&
				  s->n_be < sizeof(s->be) / sizeof(s->be[0]);
		     bk.slot++)
			if (bpf_map_lookup_elem(m.be, &bk, &s->be[s->n_be]) == 0)
				s->n_be++;
		err = fn(s, data);
	}
out:
	free(per_cpu);
	free(s);
	free(have);
	maps_close(&m);
	return err;
}
