// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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
	__u32 max_ids;
};

static void maps_close(struct svc_maps *m)
{
	int *fds[] = { &m->fe, &m->be, &m->stats, &m->nat };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
}

static int maps_open(const struct ctx *c, struct svc_maps *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	m->fe = pin_open(c, BL_PIN(BL_MAP_SVC_FRONTENDS));
	m->be = m->fe < 0 ? -1 : pin_open(c, BL_PIN(BL_MAP_SVC_BACKENDS));
	m->stats = m->be < 0 ? -1 : pin_open(c, BL_PIN(BL_MAP_SVC_STATS));
	m->nat = m->stats < 0 ? -1 : pin_open(c, BL_PIN(BL_MAP_NAT));
	if (m->nat < 0) {
		int err = m->fe < 0 ? m->fe : m->be < 0 ? m->be : m->stats < 0 ? m->stats : m->nat;

		maps_close(m);
		return err;
	}
	m->max_ids = BL_SVC_MAX_DEFAULT;
	if (bpf_obj_get_info_by_fd(m->stats, &info, &len) == 0)
		m->max_ids = info.max_entries;
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
	struct bl_svc_key k, last;
	struct have *v = NULL;
	size_t cap = 0;
	int first = 1;

	*n = 0;
	while (bpf_map_get_next_key(fd, first ? NULL : &last, &k) == 0) {
		first = 0;
		last = k;
		if (*n == cap) {
			struct have *nv;

			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[*n].key = k;
		v[*n].wanted = 0;
		if (bpf_map_lookup_elem(fd, &k, &v[*n].svc) == 0)
			(*n)++;
	}
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

static void id_mark(uint8_t *used, __u32 id)
{
	used[id / 8] |= 1u << (id % 8);
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
	struct bl_nat_key k, *prev = NULL, *keys = NULL;
	struct bl_nat_entry e;
	size_t n = 0, cap = 0, i;
	unsigned int removed = 0;

	while (bpf_map_get_next_key(nat, prev, &k) == 0) {
		if (n == cap) {
			struct bl_nat_key *nk;

			cap = cap ? cap * 2 : 4096;
			nk = realloc(keys, cap * sizeof(*keys));
			if (!nk)
				break;
			keys = nk;
		}
		keys[n++] = k;
		prev = &keys[n - 1];
	}
	for (i = 0; i < n; i++) {
		const struct dp_frontend *f;
		struct dp_backend want;

		if (keys[i].dir != BL_DIR_EGRESS || bpf_map_lookup_elem(nat, &keys[i], &e) ||
		    !(e.svc & BL_NAT_SVC_FWD))
			continue;
		f = by_id(ids, max, e.svc_id);
		memcpy(&want.addr, e.addr, 4);
		want.port = e.port;
		if (f && f->n_be && bsearch(&want, f->be, f->n_be, sizeof(want), be_cmp))
			continue;
		if (nat_flow_delete(nat, &keys[i], &e) == 0)
			removed++;
	}
	free(keys);
	return removed;
}

static void sleep_ns(long ns)
{
	struct timespec ts = { 0, ns };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int dp_services_sync(const struct ctx *c, struct dp_frontend *fe, size_t n,
		     struct dp_sync_stats *st)
{
	const struct dp_frontend **ids = NULL;
	struct stale stale = {};
	struct svc_maps m;
	struct have *have = NULL, *h;
	uint8_t *used = NULL;
	size_t nh, i;
	int err, moved = 0;

	memset(st, 0, sizeof(*st));
	err = maps_open(c, &m);
	if (err)
		return error_prefix(err, "service maps");
	err = read_frontends(m.fe, &have, &nh);
	if (err) {
		errorf(err, "read service frontends");
		goto out;
	}
	used = calloc(m.max_ids / 8 + 1, 1);
	ids = calloc(m.max_ids, sizeof(*ids));
	if (!used || !ids) {
		err = errorf(-ENOMEM, "service sync");
		goto out;
	}
	for (i = 0; i < nh; i++)
		if (have[i].svc.id < m.max_ids)
			id_mark(used, have[i].svc.id);
	if (n)
		qsort(fe, n, sizeof(*fe), fe_cmp);
	for (i = 0; i < n; i++)
		if (fe[i].n_be)
			qsort(fe[i].be, fe[i].n_be, sizeof(*fe[i].be), be_cmp);

	for (i = 0; i < n; i++) {
		struct have probe;
		struct bl_svc s = {};

		fe_key(&fe[i], &probe.key);
		h = nh ? bsearch(&probe, have, nh, sizeof(*have), have_cmp) : NULL;
		if (h) {
			h->wanted = 1;
			if (h->svc.id < m.max_ids)
				ids[h->svc.id] = &fe[i];
			if (h->svc.affinity_s == fe[i].affinity_s && h->svc.flags == fe[i].flags &&
			    same_backends(m.be, &h->svc, &fe[i])) {
				st->unchanged++;
				continue;
			}
			s = h->svc;
			s.rev = h->svc.rev + 1;
		} else {
			s.id = id_alloc(used, m.max_ids);
			if (!s.id) {
				err = errorf_raw(-ENOSPC,
						 "service maps full: %u services at most (--svc-max)",
						 m.max_ids - 1);
				goto out;
			}
			id_mark(used, s.id);
			ids[s.id] = &fe[i];
			s.rev = 1;
			stats_clear(m.stats, s.id);
		}
		s.count = fe[i].n_be;
		s.affinity_s = fe[i].affinity_s;
		s.flags = fe[i].flags;
		/* the new set first, then the switch, then the old set goes */
		err = write_backends(m.be, s.id, s.rev, &fe[i]);
		if (!err && bpf_map_update_elem(m.fe, &probe.key, &s, BPF_ANY))
			err = errorf(-errno, "service frontend");
		if (err)
			goto out;
		if (h) {
			st->changed++;
			if (stale_add(&stale, h->svc.id, h->svc.rev, h->svc.count))
				goto nomem;
			moved = 1;
		} else {
			st->added++;
		}
	}
	for (i = 0; i < nh; i++) {
		if (have[i].wanted)
			continue;
		if (bpf_map_delete_elem(m.fe, &have[i].key) && errno != ENOENT) {
			err = errorf(-errno, "delete service frontend");
			goto out;
		}
		if (stale_add(&stale, have[i].svc.id, have[i].svc.rev, have[i].svc.count))
			goto nomem;
		st->removed++;
		moved = 1;
	}
	if (moved) {
		sleep_ns(GRACE_NS);
		for (i = 0; i < stale.n; i++)
			bpf_map_delete_elem(m.be, &stale.v[i]);
		st->flows_removed = drop_gone_flows(m.nat, ids, m.max_ids);
	}
	goto out;
nomem:
	err = errorf(-ENOMEM, "service sync");
out:
	free(stale.v);
	free(have);
	free(used);
	free(ids);
	maps_close(&m);
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
