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
	int fe6, be6, nat6;
	__u32 max_ids;
};

static void maps_close(struct svc_maps *m)
{
	int *fds[] = { &m->fe, &m->be, &m->stats, &m->nat, &m->fe6, &m->be6, &m->nat6 };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
}

static int maps_open(const struct ctx *c, struct svc_maps *m)
{
	const char *names[] = { BL_PIN(BL_MAP_SVC_FRONTENDS), BL_PIN(BL_MAP_SVC_BACKENDS),
				BL_PIN(BL_MAP_SVC_STATS), BL_PIN(BL_MAP_NAT),
				BL_PIN(BL_MAP_SVC_FRONTENDS6), BL_PIN(BL_MAP_SVC_BACKENDS6),
				BL_PIN(BL_MAP_NAT6) };
	int *fds[] = { &m->fe, &m->be, &m->stats, &m->nat, &m->fe6, &m->be6, &m->nat6 };
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		*fds[i] = -1;
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		*fds[i] = pin_open(c, names[i]);
		if (*fds[i] < 0) {
			int err = *fds[i];

			maps_close(m);
			return err;
		}
	}
	m->max_ids = BL_SVC_MAX_DEFAULT;
	if (bpf_obj_get_info_by_fd(m->stats, &info, &len) == 0)
		m->max_ids = info.max_entries;
	return 0;
}

static int alen(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* A frontend's key, of either family: family first, then the map's key order. */
struct fkey {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
	uint8_t proto;
};

static void fe_key(const struct dp_frontend *f, struct fkey *k)
{
	memset(k, 0, sizeof(*k));
	k->family = f->family == AF_INET6 ? AF_INET6 : AF_INET;
	memcpy(k->addr, f->addr, alen(k->family));
	k->port = f->port;
	k->proto = f->proto;
}

static int key_cmp(const struct fkey *a, const struct fkey *b)
{
	if (a->family != b->family)
		return (int)a->family - (int)b->family;
	if (memcmp(a->addr, b->addr, 16))
		return memcmp(a->addr, b->addr, 16);
	if (a->port != b->port)
		return (int)a->port - (int)b->port;
	return (int)a->proto - (int)b->proto;
}

/* The map's own key for k (bl_svc_key or bl_svc6_key). */
static void *raw_key(const struct fkey *k, void *buf)
{
	struct bl_svc_key *k4 = buf;
	struct bl_svc6_key *k6 = buf;

	if (k->family == AF_INET6) {
		memset(k6, 0, sizeof(*k6));
		memcpy(k6->addr, k->addr, 16);
		k6->port = k->port;
		k6->proto = k->proto;
	} else {
		memset(k4, 0, sizeof(*k4));
		memcpy(k4->addr, k->addr, 4);
		k4->port = k->port;
		k4->proto = k->proto;
	}
	return buf;
}

static int fe_cmp(const void *a, const void *b)
{
	struct fkey ka, kb;

	fe_key(a, &ka);
	fe_key(b, &kb);
	return key_cmp(&ka, &kb);
}

static int be_cmp(const void *a, const void *b)
{
	const struct dp_backend *x = a, *y = b;

	if (memcmp(x->addr, y->addr, 16))
		return memcmp(x->addr, y->addr, 16);
	return (int)x->port - (int)y->port;
}

/* What the maps hold now: frontends by key. */
struct have {
	struct fkey key;
	struct bl_svc svc;
	int wanted;
};

static int have_cmp(const void *a, const void *b)
{
	return key_cmp(&((const struct have *)a)->key, &((const struct have *)b)->key);
}

/* Append the frontends of map fd (of family) to *out. */
static int read_frontends_of(int fd, int family, struct have **out, size_t *n, size_t *cap)
{
	union {
		struct bl_svc_key k4;
		struct bl_svc6_key k6;
	} k, last;
	int first = 1;

	while (bpf_map_get_next_key(fd, first ? NULL : &last, &k) == 0) {
		struct have *h;

		first = 0;
		last = k;
		if (*n == *cap) {
			struct have *nv;

			*cap = *cap ? *cap * 2 : 256;
			nv = realloc(*out, *cap * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			*out = nv;
		}
		h = &(*out)[*n];
		memset(h, 0, sizeof(*h));
		h->key.family = family;
		if (family == AF_INET6) {
			memcpy(h->key.addr, k.k6.addr, 16);
			h->key.port = k.k6.port;
			h->key.proto = k.k6.proto;
		} else {
			memcpy(h->key.addr, k.k4.addr, 4);
			h->key.port = k.k4.port;
			h->key.proto = k.k4.proto;
		}
		if (bpf_map_lookup_elem(fd, &k, &h->svc) == 0)
			(*n)++;
	}
	return 0;
}

/* Both families' frontends, sorted by key. */
static int read_frontends(const struct svc_maps *m, struct have **out, size_t *n)
{
	size_t cap = 0;
	int err;

	*out = NULL;
	*n = 0;
	err = read_frontends_of(m->fe, AF_INET, out, n, &cap);
	if (!err)
		err = read_frontends_of(m->fe6, AF_INET6, out, n, &cap);
	if (err) {
		free(*out);
		*out = NULL;
		return err;
	}
	if (*n)
		qsort(*out, *n, sizeof(**out), have_cmp);
	return 0;
}

/* The backends map of a family, and one backend as it holds it. */
static int be_fd(const struct svc_maps *m, int family)
{
	return family == AF_INET6 ? m->be6 : m->be;
}

static int be_read(int fd, int family, const struct bl_svc_backend_key *k,
		   struct dp_backend *out)
{
	struct bl_svc6_backend b6;
	struct bl_svc_backend b4;

	memset(out, 0, sizeof(*out));
	out->family = family;
	if (family == AF_INET6) {
		if (bpf_map_lookup_elem(fd, k, &b6))
			return -errno;
		memcpy(out->addr, b6.addr, 16);
		out->port = b6.port;
		return 0;
	}
	if (bpf_map_lookup_elem(fd, k, &b4))
		return -errno;
	memcpy(out->addr, b4.addr, 4);
	out->port = b4.port;
	return 0;
}

/* 1 if the backends of (id, rev) are exactly f's (sorted). */
static int same_backends(const struct svc_maps *m, const struct bl_svc *s,
			 const struct dp_frontend *f)
{
	struct bl_svc_backend_key k = { .id = s->id, .rev = s->rev };
	struct dp_backend b;
	size_t i;

	if (s->count != f->n_be)
		return 0;
	for (i = 0; i < f->n_be; i++) {
		k.slot = i;
		if (be_read(be_fd(m, f->family), f->family, &k, &b) ||
		    memcmp(b.addr, f->be[i].addr, alen(f->family)) || b.port != f->be[i].port)
			return 0;
	}
	return 1;
}

static int write_backends(const struct svc_maps *m, __u32 id, __u16 rev,
			  const struct dp_frontend *f)
{
	struct bl_svc_backend_key k = { .id = id, .rev = rev };
	struct bl_svc6_backend b6 = {};
	struct bl_svc_backend b4 = {};
	size_t i;

	for (i = 0; i < f->n_be; i++) {
		k.slot = i;
		if (f->family == AF_INET6) {
			memcpy(b6.addr, f->be[i].addr, 16);
			b6.port = f->be[i].port;
		} else {
			memcpy(b4.addr, f->be[i].addr, 4);
			b4.port = f->be[i].port;
		}
		if (bpf_map_update_elem(be_fd(m, f->family), &k,
					f->family == AF_INET6 ? (void *)&b6 : (void *)&b4,
					BPF_ANY))
			return errorf(-errno, "service backends (%zu of %zu)", i, f->n_be);
	}
	return 0;
}

/* Backend entries to delete once the grace period is over. */
struct stale {
	struct bl_svc_backend_key *v;
	uint8_t *family;
	size_t n, cap;
};

static int stale_add(struct stale *st, int family, __u32 id, __u16 rev, __u16 count)
{
	__u16 i;

	for (i = 0; i < count; i++) {
		if (st->n == st->cap) {
			size_t cap = st->cap ? st->cap * 2 : 1024;
			struct bl_svc_backend_key *nv = realloc(st->v, cap * sizeof(*nv));
			uint8_t *nf;

			if (!nv)
				return -ENOMEM;
			st->v = nv;
			nf = realloc(st->family, cap);
			if (!nf)
				return -ENOMEM;
			st->family = nf;
			st->cap = cap;
		}
		st->family[st->n] = family;
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
 * went), both entries, in the NAT table of family: their next packet
 * chooses a backend again, as a new connection would.
 */
static unsigned int drop_gone_flows(int nat, int family, const struct dp_frontend *const *ids,
				    __u32 max)
{
	union {
		struct bl_nat_key k4;
		struct bl_nat6_key k6;
	} raw, prev;
	struct bl_nat6_key *keys = NULL;
	size_t n = 0, cap = 0, i;
	unsigned int removed = 0;
	int first = 1;

	while (bpf_map_get_next_key(nat, first ? NULL : &prev, &raw) == 0) {
		first = 0;
		prev = raw;
		if (n == cap) {
			struct bl_nat6_key *nk;

			cap = cap ? cap * 2 : 4096;
			nk = realloc(keys, cap * sizeof(*keys));
			if (!nk)
				break;
			keys = nk;
		}
		memset(&keys[n], 0, sizeof(keys[n]));
		if (family == AF_INET6) {
			keys[n] = raw.k6;
		} else {
			memcpy(keys[n].saddr, raw.k4.saddr, 4);
			memcpy(keys[n].daddr, raw.k4.daddr, 4);
			keys[n].sport = raw.k4.sport;
			keys[n].dport = raw.k4.dport;
			keys[n].proto = raw.k4.proto;
			keys[n].dir = raw.k4.dir;
		}
		n++;
	}
	for (i = 0; i < n; i++) {
		const struct dp_frontend *f;
		struct bl_nat6_entry e = {};
		struct dp_backend want = { .family = family };
		int got;

		if (keys[i].dir != BL_DIR_EGRESS)
			continue;
		if (family == AF_INET6) {
			got = bpf_map_lookup_elem(nat, &keys[i], &e) == 0;
		} else {
			struct bl_nat_key k4 = { .sport = keys[i].sport, .dport = keys[i].dport,
						 .proto = keys[i].proto, .dir = keys[i].dir };

			memcpy(k4.saddr, keys[i].saddr, 4);
			memcpy(k4.daddr, keys[i].daddr, 4);
			got = bpf_map_lookup_elem(nat, &k4, &e.e) == 0;
			memcpy(e.addr, e.e.addr, 4);
		}
		if (!got || !(e.e.svc & BL_NAT_SVC_FWD))
			continue;
		f = by_id(ids, max, e.e.svc_id);
		memcpy(want.addr, e.addr, alen(family));
		want.port = e.e.port;
		if (f && f->family == family && f->n_be &&
		    bsearch(&want, f->be, f->n_be, sizeof(want), be_cmp))
			continue;
		if (nat_flow_delete_family(nat, family, &keys[i], &e) == 0)
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
	size_t nh = 0, i;
	int err, moved = 0;

	memset(st, 0, sizeof(*st));
	err = maps_open(c, &m);
	if (err)
		return error_prefix(err, "service maps");
	err = read_frontends(&m, &have, &nh);
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
	for (i = 0; i < n; i++)
		fe[i].family = fe[i].family == AF_INET6 ? AF_INET6 : AF_INET;
	if (n)
		qsort(fe, n, sizeof(*fe), fe_cmp);
	for (i = 0; i < n; i++)
		if (fe[i].n_be)
			qsort(fe[i].be, fe[i].n_be, sizeof(*fe[i].be), be_cmp);

	for (i = 0; i < n; i++) {
		union {
			struct bl_svc_key k4;
			struct bl_svc6_key k6;
		} raw;
		struct have probe;
		struct bl_svc s = {};

		fe_key(&fe[i], &probe.key);
		h = nh ? bsearch(&probe, have, nh, sizeof(*have), have_cmp) : NULL;
		if (h) {
			h->wanted = 1;
			if (h->svc.id < m.max_ids)
				ids[h->svc.id] = &fe[i];
			if (h->svc.affinity_s == fe[i].affinity_s && h->svc.flags == fe[i].flags &&
			    same_backends(&m, &h->svc, &fe[i])) {
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
		err = write_backends(&m, s.id, s.rev, &fe[i]);
		if (!err && bpf_map_update_elem(fe[i].family == AF_INET6 ? m.fe6 : m.fe,
						raw_key(&probe.key, &raw), &s, BPF_ANY))
			err = errorf(-errno, "service frontend");
		if (err)
			goto out;
		if (h) {
			st->changed++;
			if (stale_add(&stale, fe[i].family, h->svc.id, h->svc.rev, h->svc.count))
				goto nomem;
			moved = 1;
		} else {
			st->added++;
		}
	}
	for (i = 0; i < nh; i++) {
		union {
			struct bl_svc_key k4;
			struct bl_svc6_key k6;
		} raw;
		int fd = have[i].key.family == AF_INET6 ? m.fe6 : m.fe;

		if (have[i].wanted)
			continue;
		if (bpf_map_delete_elem(fd, raw_key(&have[i].key, &raw)) && errno != ENOENT) {
			err = errorf(-errno, "delete service frontend");
			goto out;
		}
		if (stale_add(&stale, have[i].key.family, have[i].svc.id, have[i].svc.rev,
			      have[i].svc.count))
			goto nomem;
		st->removed++;
		moved = 1;
	}
	if (moved) {
		sleep_ns(GRACE_NS);
		for (i = 0; i < stale.n; i++)
			bpf_map_delete_elem(be_fd(&m, stale.family[i]), &stale.v[i]);
		st->flows_removed = drop_gone_flows(m.nat, AF_INET, ids, m.max_ids) +
				    drop_gone_flows(m.nat6, AF_INET6, ids, m.max_ids);
	}
	goto out;
nomem:
	err = errorf(-ENOMEM, "service sync");
out:
	free(stale.v);
	free(stale.family);
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
	err = read_frontends(&m, &have, &nh);
	s = calloc(1, sizeof(*s));
	per_cpu = calloc(cpus, sizeof(*per_cpu));
	if (err || !s || !per_cpu) {
		err = errorf(err ?: -ENOMEM, "read service frontends");
		goto out;
	}
	for (i = 0; i < nh && !err; i++) {
		struct bl_svc_backend_key bk = { .id = have[i].svc.id, .rev = have[i].svc.rev };

		memset(s, 0, sizeof(*s));
		s->family = have[i].key.family;
		memcpy(s->addr, have[i].key.addr, 16);
		s->port = have[i].key.port;
		s->proto = have[i].key.proto;
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
			if (be_read(be_fd(&m, s->family), s->family, &bk, &s->be[s->n_be]) == 0)
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
