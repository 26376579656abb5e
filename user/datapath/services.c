// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
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
	__u32 max_ids; /* svc_stats's entries: ids are 1..max_ids-1, both families */
	__u32 max_fe[2]; /* svc_frontends's and svc_frontends6's entries */
	__u32 max_be[2]; /* svc_backends's and svc_backends6's entries */
};

/* Index of a family in the maps' per-family arrays. */
static int fam(int family)
{
	return family == AF_INET6;
}

static void maps_close(struct svc_maps *m)
{
	int *fds[] = { &m->fe, &m->be, &m->stats, &m->nat, &m->fe6, &m->be6, &m->nat6 };
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
	const char *names[] = { BL_PIN(BL_MAP_SVC_FRONTENDS), BL_PIN(BL_MAP_SVC_BACKENDS),
				BL_PIN(BL_MAP_SVC_STATS), BL_PIN(BL_MAP_NAT),
				BL_PIN(BL_MAP_SVC_FRONTENDS6), BL_PIN(BL_MAP_SVC_BACKENDS6),
				BL_PIN(BL_MAP_NAT6) };
	int *fds[] = { &m->fe, &m->be, &m->stats, &m->nat, &m->fe6, &m->be6, &m->nat6 };
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
	m->max_ids = max_entries(m->stats, BL_SVC_MAX_DEFAULT + 1);
	m->max_fe[0] = max_entries(m->fe, BL_SVC_MAX_DEFAULT);
	m->max_fe[1] = max_entries(m->fe6, BL_SVC_MAX_DEFAULT);
	m->max_be[0] = max_entries(m->be, BL_SVC_BACKENDS_MAX_DEFAULT);
	m->max_be[1] = max_entries(m->be6, BL_SVC_BACKENDS_MAX_DEFAULT);
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

static const char *fe_name(const struct dp_frontend *f, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	snprintf(buf, len, f->family == AF_INET6 ? "[%s]:%u/%s" : "%s:%u/%s",
		 inet_ntop(f->family == AF_INET6 ? AF_INET6 : AF_INET, f->addr, ip, sizeof(ip)) ?:
			 "?",
		 f->port, f->proto == IPPROTO_UDP ? "UDP" : "TCP");
	return buf;
}

/*
 * Every entry of map fd (keys ksz, values vsz bytes each) into arrays the
 * caller frees; the count, or -errno. A batch of thousands per system call
 * where the kernel has them (the NAT tables hold up to --nat-max entries,
 * and a sync walks them whenever a backend leaves), one entry per call
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
	size_t ksz = family == AF_INET6 ? sizeof(struct bl_svc6_key) : sizeof(struct bl_svc_key);
	struct bl_svc *vals;
	char *keys;
	ssize_t got, i;

	got = map_snapshot(fd, ksz, sizeof(*vals), (void **)&keys, (void **)&vals);
	if (got < 0)
		return got;
	if (*n + got > *cap) {
		struct have *nv = realloc(*out, (*n + got) * sizeof(*nv));

		if (!nv) {
			free(keys);
			free(vals);
			return -ENOMEM;
		}
		*out = nv;
		*cap = *n + got;
	}
	for (i = 0; i < got; i++) {
		struct have *h = &(*out)[(*n)++];
		const struct bl_svc6_key *k6 = (const void *)(keys + i * ksz);
		const struct bl_svc_key *k4 = (const void *)(keys + i * ksz);

		memset(h, 0, sizeof(*h));
		h->key.family = family;
		if (family == AF_INET6) {
			memcpy(h->key.addr, k6->addr, 16);
			h->key.port = k6->port;
			h->key.proto = k6->proto;
		} else {
			memcpy(h->key.addr, k4->addr, 4);
			h->key.port = k4->port;
			h->key.proto = k4->proto;
		}
		h->svc = vals[i];
	}
	free(keys);
	free(vals);
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

/* The lowest service id no frontend holds, from hint on; 0 when all are taken. */
static __u32 id_alloc(const uint8_t *used, __u32 max, __u32 *hint)
{
	__u32 id;

	for (id = *hint ?: 1; id < max; id++)
		if (!(used[id / 8] & (1u << (id % 8)))) {
			*hint = id + 1;
			return id;
		}
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
 * went), both entries, in the NAT table of family: their next packet
 * chooses a backend again, as a new connection would.
 */
static unsigned int drop_gone_flows(int nat, int family, const struct dp_frontend *const *ids,
				    __u32 max)
{
	size_t ksz = family == AF_INET6 ? sizeof(struct bl_nat6_key) : sizeof(struct bl_nat_key);
	size_t vsz = family == AF_INET6 ? sizeof(struct bl_nat6_entry) : sizeof(struct bl_nat_entry);
	unsigned int removed = 0;
	char *keys, *vals;
	ssize_t n, i;

	n = map_snapshot(nat, ksz, vsz, (void **)&keys, (void **)&vals);
	if (n < 0) {
		pr_warn("services: walk the NAT table: %s", strerror(-n));
		return 0;
	}
	for (i = 0; i < n; i++) {
		struct dp_backend want = { .family = family };
		struct bl_nat6_entry e = {};
		struct bl_nat6_key k = {};
		const struct dp_frontend *f;

		if (family == AF_INET6) {
			memcpy(&k, keys + i * ksz, sizeof(k));
			memcpy(&e, vals + i * vsz, sizeof(e));
		} else {
			const struct bl_nat_key *k4 = (const void *)(keys + i * ksz);

			memcpy(k.saddr, k4->saddr, 4);
			memcpy(k.daddr, k4->daddr, 4);
			k.sport = k4->sport;
			k.dport = k4->dport;
			k.proto = k4->proto;
			k.dir = k4->dir;
			memcpy(&e.e, vals + i * vsz, sizeof(e.e));
			memcpy(e.addr, e.e.addr, 4);
		}
		if (k.dir != BL_DIR_EGRESS || !(e.e.svc & BL_NAT_SVC_FWD))
			continue;
		f = by_id(ids, max, e.e.svc_id);
		memcpy(want.addr, e.addr, alen(family));
		want.port = e.e.port;
		if (f && f->family == family && f->n_be &&
		    bsearch(&want, f->be, f->n_be, sizeof(want), be_cmp))
			continue;
		if (nat_flow_delete_family(nat, family, &k, &e) == 0)
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
 * Ids are shared by the families; frontends and backend slots are counted
 * per family (each has its own maps).
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
	__u32 id_hint; /* no free id below it (the real pass allocates upwards) */
	const struct dp_frontend **ids; /* the new frontend of each id */
	struct stale stale; /* old backend sets */
	__u32 *pending; /* ids of removed frontends, free after the grace period */
	size_t n_pending;
	/* the counts both passes go by */
	size_t occupied[2]; /* backend slots in use per family, old sets included */
	size_t stale_slots[2]; /* of which old sets */
	size_t frontends[2]; /* frontends per family */
	size_t free_ids; /* ids free now */
	size_t pending_ids; /* ids free after the grace period */
	int dry;
};

/* Free the old sets and the ids of removed frontends, after the grace period. */
static void sync_flush(struct sync *s)
{
	size_t i;
	int f;

	for (f = 0; f < 2; f++) {
		s->occupied[f] -= s->stale_slots[f];
		s->stale_slots[f] = 0;
	}
	s->free_ids += s->pending_ids;
	s->pending_ids = 0;
	if (s->dry || (!s->stale.n && !s->n_pending))
		return;
	sleep_ns(GRACE_NS);
	for (i = 0; i < s->stale.n; i++)
		bpf_map_delete_elem(be_fd(&s->m, s->stale.family[i]), &s->stale.v[i]);
	s->stale.n = 0;
	for (i = 0; i < s->n_pending; i++)
		id_mark(s->used, s->pending[i], 0);
	s->n_pending = 0;
	s->id_hint = 1;
}

/* The one-line refusal of a table that does not fit. */
static int sync_refuse(struct sync *s, int f, size_t need_slots)
{
	size_t i, slots[2] = { 0, 0 }, nf[2] = { 0, 0 };
	__u32 max_fe = s->m.max_fe[0] < s->m.max_ids - 1 ? s->m.max_fe[0] : s->m.max_ids - 1;
	int g;

	for (i = 0; i < s->n; i++) {
		g = fam(s->fe[i].family);
		slots[g] += s->fe[i].n_be;
		nf[g]++;
	}
	if (need_slots && slots[0] <= s->m.max_be[0] && slots[1] <= s->m.max_be[1] &&
	    nf[0] <= s->m.max_fe[0] && nf[1] <= s->m.max_fe[1] && s->n < s->m.max_ids)
		return errorf_raw(-ENOSPC,
				  "service maps too small: the table's %zu frontends and %zu backends fit, but not the %zu %s backend slots its changed sets need while they switch (--svc-backends-max %u); the maps keep the last table",
				  s->n, slots[0] + slots[1], need_slots, f ? "IPv6" : "IPv4",
				  s->m.max_be[f]);
	return errorf_raw(-ENOSPC,
			  "service maps too small for %zu frontends and %zu backends (node init --svc-max %u, --svc-backends-max %u); the maps keep the last table",
			  s->n, slots[0] + slots[1], max_fe, s->m.max_be[0]);
}

/* Remove the frontends that are not wanted any more. */
static int sync_removals(struct sync *s, struct dp_sync_stats *st)
{
	union {
		struct bl_svc_key k4;
		struct bl_svc6_key k6;
	} raw;
	size_t i;

	for (i = 0; i < s->nh; i++) {
		struct have *h = &s->have[i];
		int f = fam(h->key.family);

		if (h->wanted)
			continue;
		s->stale_slots[f] += h->svc.count;
		s->frontends[f]--;
		s->pending_ids += h->svc.id < s->m.max_ids;
		if (s->dry)
			continue;
		if (bpf_map_delete_elem(h->key.family == AF_INET6 ? s->m.fe6 : s->m.fe,
					raw_key(&h->key, &raw)) &&
		    errno != ENOENT)
			return errorf(-errno, "delete service frontend");
		if (stale_add(&s->stale, h->key.family, h->svc.id, h->svc.rev, h->svc.count))
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
	const struct dp_frontend *fr = &s->fe[i];
	struct have *h = s->match[i];
	int f = fam(fr->family), err;
	union {
		struct bl_svc_key k4;
		struct bl_svc6_key k6;
	} raw;
	struct bl_svc sv = {};
	struct fkey key;
	char name[80];

	if (fr->n_be > BL_SVC_BACKENDS_PER_FRONTEND)
		return errorf_raw(-E2BIG,
				  "service %s has %zu backends, at most %u; the maps keep the last table",
				  fe_name(fr, name, sizeof(name)), fr->n_be,
				  BL_SVC_BACKENDS_PER_FRONTEND);
	if (!h && !s->free_ids && s->pending_ids)
		sync_flush(s);
	if (!h && (!s->free_ids || s->frontends[f] >= s->m.max_fe[f]))
		return sync_refuse(s, f, 0);
	if (s->occupied[f] + fr->n_be > s->m.max_be[f] && s->stale_slots[f])
		sync_flush(s);
	if (s->occupied[f] + fr->n_be > s->m.max_be[f])
		return sync_refuse(s, f, s->occupied[f] + fr->n_be);
	s->occupied[f] += fr->n_be;
	if (h) {
		s->stale_slots[f] += h->svc.count;
	} else {
		s->free_ids--;
		s->frontends[f]++;
	}
	if (s->dry)
		return 0;

	fe_key(fr, &key);
	if (h) {
		sv = h->svc;
		sv.rev = h->svc.rev + 1;
	} else {
		sv.id = id_alloc(s->used, s->m.max_ids, &s->id_hint);
		if (!sv.id) /* the dry pass counted otherwise */
			return errorf_raw(-ENOSPC, "service maps: no free service id");
		id_mark(s->used, sv.id, 1);
		s->ids[sv.id] = fr;
		sv.rev = 1;
		stats_clear(s->m.stats, sv.id);
	}
	sv.count = fr->n_be;
	sv.affinity_s = fr->affinity_s;
	sv.flags = fr->flags;
	/* the new set first, then the switch; the old set goes after the grace period */
	err = write_backends(&s->m, sv.id, sv.rev, fr);
	if (!err && bpf_map_update_elem(fr->family == AF_INET6 ? s->m.fe6 : s->m.fe,
					raw_key(&key, &raw), &sv, BPF_ANY))
		err = errorf(-errno, "service frontend");
	if (err)
		return err;
	if (h) {
		st->changed++;
		if (stale_add(&s->stale, fr->family, h->svc.id, h->svc.rev, h->svc.count))
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
	int err, f;

	s->dry = dry;
	for (f = 0; f < 2; f++)
		s->occupied[f] = s->stale_slots[f] = s->frontends[f] = 0;
	s->pending_ids = 0;
	s->free_ids = s->m.max_ids ? s->m.max_ids - 1 : 0;
	for (i = 0; i < s->nh; i++) {
		f = fam(s->have[i].key.family);
		s->occupied[f] += s->have[i].svc.count;
		s->frontends[f]++;
		if (s->have[i].svc.id < s->m.max_ids && s->free_ids)
			s->free_ids--;
	}
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
 * The backend entries no frontend uses, in the backends map of family:
 * what an agent killed between a switch and the end of its grace period
 * left. Once per process, before its first sync counts the room.
 */
static unsigned int sweep_orphans(const struct sync *s, int family)
{
	size_t vsz = family == AF_INET6 ? sizeof(struct bl_svc6_backend) :
					  sizeof(struct bl_svc_backend);
	const struct bl_svc **by = calloc(s->m.max_ids ?: 1, sizeof(*by));
	struct bl_svc_backend_key *keys = NULL;
	unsigned int removed = 0;
	void *vals = NULL;
	ssize_t n, i;

	if (!by)
		return 0;
	for (i = 0; i < (ssize_t)s->nh; i++)
		if (s->have[i].key.family == family && s->have[i].svc.id < s->m.max_ids)
			by[s->have[i].svc.id] = &s->have[i].svc;
	n = map_snapshot(be_fd(&s->m, family), sizeof(*keys), vsz, (void **)&keys, &vals);
	for (i = 0; i < n; i++) {
		const struct bl_svc *f = keys[i].id < s->m.max_ids ? by[keys[i].id] : NULL;

		if (f && f->rev == keys[i].rev && keys[i].slot < f->count)
			continue;
		if (bpf_map_delete_elem(be_fd(&s->m, family), &keys[i]) == 0)
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
	struct sync s = { .fe = fe, .id_hint = 1 };
	size_t i, j;
	int err;

	memset(st, 0, sizeof(*st));
	err = maps_open(c, &s.m);
	if (err)
		return error_prefix(err, "service maps");
	err = read_frontends(&s.m, &s.have, &s.nh);
	if (err) {
		errorf(err, "read service frontends");
		goto out;
	}
	/* sorted, each key once (the first of duplicates wins) */
	for (i = 0; i < n; i++)
		fe[i].family = fe[i].family == AF_INET6 ? AF_INET6 : AF_INET;
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
	s.ids = calloc(s.m.max_ids ?: 1, sizeof(*s.ids));
	s.match = calloc(n ?: 1, sizeof(*s.match));
	s.unchanged = calloc(n ?: 1, 1);
	s.pending = calloc(s.nh ?: 1, sizeof(*s.pending));
	if (!s.used || !s.ids || !s.match || !s.unchanged || !s.pending) {
		err = errorf(-ENOMEM, "service sync");
		goto out;
	}
	if (!swept) {
		st->orphans_removed = sweep_orphans(&s, AF_INET) + sweep_orphans(&s, AF_INET6);
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
				 h->svc.flags == fe[i].flags && same_backends(&s.m, &h->svc, &fe[i]);
	}
	/* nothing is written unless the whole table fits */
	err = sync_pass(&s, 1, st);
	if (!err)
		err = sync_pass(&s, 0, st);
	/* what was switched (also before a failure) frees its old set */
	sync_flush(&s);
	if (st->changed || st->removed)
		st->flows_removed = drop_gone_flows(s.m.nat, AF_INET, s.ids, s.m.max_ids) +
				    drop_gone_flows(s.m.nat6, AF_INET6, s.ids, s.m.max_ids);
out:
	free(s.stale.v);
	free(s.stale.family);
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
