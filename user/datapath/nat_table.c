// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "datapath/nat_table.h"
#include "lib/log.h"

const struct nat_timeouts nat_default_timeouts = {
	.tcp_syn = BL_NAT_TIMEOUT_TCP_SYN,
	.tcp_established = BL_NAT_TIMEOUT_TCP_ESTABLISHED,
	.tcp_closing = BL_NAT_TIMEOUT_TCP_CLOSING,
	.udp = BL_NAT_TIMEOUT_UDP,
	.icmp = BL_NAT_TIMEOUT_ICMP,
};

/* The clock of NAT's times in BPF (bpf_ktime_get_coarse_ns: the same, coarser). */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* --- a table of either family, in IPv6's shape ------------------------------- */

static int alen(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static void key_to_raw(int family, const struct bl_nat6_key *k, void *raw)
{
	struct bl_nat_key *k4 = raw;

	if (family == AF_INET6) {
		memcpy(raw, k, sizeof(*k));
		return;
	}
	memset(k4, 0, sizeof(*k4));
	memcpy(k4->saddr, k->saddr, 4);
	memcpy(k4->daddr, k->daddr, 4);
	k4->sport = k->sport;
	k4->dport = k->dport;
	k4->proto = k->proto;
	k4->dir = k->dir;
}

static void key_from_raw(int family, const void *raw, struct bl_nat6_key *k)
{
	const struct bl_nat_key *k4 = raw;

	if (family == AF_INET6) {
		memcpy(k, raw, sizeof(*k));
		return;
	}
	memset(k, 0, sizeof(*k));
	memcpy(k->saddr, k4->saddr, 4);
	memcpy(k->daddr, k4->daddr, 4);
	k->sport = k4->sport;
	k->dport = k4->dport;
	k->proto = k4->proto;
	k->dir = k4->dir;
}

static int tab_lookup(int fd, int family, const struct bl_nat6_key *k,
		      struct bl_nat6_entry *e)
{
	union {
		struct bl_nat_key k4;
		struct bl_nat6_key k6;
	} raw;

	key_to_raw(family, k, &raw);
	memset(e, 0, sizeof(*e));
	if (family == AF_INET6)
		return bpf_map_lookup_elem(fd, &raw, e) ? -errno : 0;
	if (bpf_map_lookup_elem(fd, &raw, &e->e))
		return -errno;
	memcpy(e->addr, e->e.addr, 4);
	return 0;
}

static int tab_delete(int fd, int family, const struct bl_nat6_key *k)
{
	union {
		struct bl_nat_key k4;
		struct bl_nat6_key k6;
	} raw;

	key_to_raw(family, k, &raw);
	return bpf_map_delete_elem(fd, &raw) ? -errno : 0;
}

/* --- flows ---------------------------------------------------------------------- */

/* A SNAT mapping's two halves: the egress entry's ingress partner, and back. */
static void snat_ingress_key(int family, const struct bl_nat6_key *ek,
			     const struct bl_nat6_entry *e, struct bl_nat6_key *ik)
{
	memset(ik, 0, sizeof(*ik));
	memcpy(ik->saddr, ek->daddr, alen(family));
	memcpy(ik->daddr, e->addr, alen(family));
	ik->sport = ek->dport; /* 0 for ICMP echo */
	ik->dport = e->e.port;
	ik->proto = ek->proto;
	ik->dir = BL_DIR_INGRESS;
}

static void snat_egress_key(int family, const struct bl_nat6_key *ik,
			    const struct bl_nat6_entry *e, struct bl_nat6_key *ek)
{
	memset(ek, 0, sizeof(*ek));
	memcpy(ek->saddr, e->addr, alen(family));
	memcpy(ek->daddr, ik->saddr, alen(family));
	ek->sport = e->e.port;
	ek->dport = ik->sport;
	ek->proto = ik->proto;
	ek->dir = BL_DIR_EGRESS;
}

static int is_anchor(const struct bl_nat6_key *k, const struct bl_nat6_entry *e)
{
	return k->dir == BL_DIR_EGRESS && !(e->e.svc & BL_NAT_SVC_REPLY);
}

/* The key of the other half of k's flow; -ENOENT for an entry that stands alone. */
static int partner_key(int family, const struct bl_nat6_key *k,
		       const struct bl_nat6_entry *e, struct bl_nat6_key *pk)
{
	int n = alen(family);

	memset(pk, 0, sizeof(*pk));
	pk->proto = k->proto;
	if (is_anchor(k, e)) {
		if (e->e.seen & BL_NAT_UNPAIRED)
			return -ENOENT;
		if (!(e->e.svc & BL_NAT_SVC_FWD)) {
			snat_ingress_key(family, k, e, pk);
			return 0;
		}
		/* the backend answers the client, a hairpin's the service address */
		memcpy(pk->saddr, e->addr, n);
		memcpy(pk->daddr, e->e.svc & BL_NAT_SVC_HAIRPIN ? k->daddr : k->saddr, n);
		pk->sport = e->e.port;
		pk->dport = k->sport;
		pk->dir = e->e.svc & BL_NAT_SVC_REMOTE ? BL_DIR_INGRESS : BL_DIR_EGRESS;
		return 0;
	}
	if (!(e->e.svc & BL_NAT_SVC_REPLY)) {
		snat_egress_key(family, k, e, pk);
		return 0;
	}
	/* client -> service address and port */
	memcpy(pk->saddr, e->e.svc & BL_NAT_SVC_HAIRPIN ? k->saddr : k->daddr, n);
	memcpy(pk->daddr, e->addr, n);
	pk->sport = k->dport;
	pk->dport = e->e.port;
	pk->dir = BL_DIR_EGRESS;
	return 0;
}

/* 1 if pe (found under anchor (k, e)'s partner key) is that anchor's partner. */
static int partner_of(int family, const struct bl_nat6_key *k,
		      const struct bl_nat6_entry *e, const struct bl_nat6_entry *pe)
{
	if (e->e.svc & BL_NAT_SVC_FWD)
		return (pe->e.svc & BL_NAT_SVC_REPLY) &&
		       !memcmp(pe->addr, k->daddr, alen(family)) && pe->e.port == k->dport;
	return !memcmp(pe->addr, k->saddr, alen(family)) && pe->e.port == k->sport;
}

int nat_flow_delete_family(int fd, int family, const struct bl_nat6_key *k,
			   const struct bl_nat6_entry *e)
{
	struct bl_nat6_key pk;
	int err = 0, e2;

	if (partner_key(family, k, e, &pk) == 0 && (e2 = tab_delete(fd, family, &pk)) &&
	    e2 != -ENOENT)
		err = e2;
	if ((e2 = tab_delete(fd, family, k)) && e2 != -ENOENT)
		err = e2;
	return err;
}

int nat_flow_delete(int fd, const struct bl_nat_key *k, const struct bl_nat_entry *e)
{
	struct bl_nat6_entry g = { .e = *e };
	struct bl_nat6_key gk;

	key_from_raw(AF_INET, k, &gk);
	memcpy(g.addr, e->addr, 4);
	return nat_flow_delete_family(fd, AF_INET, &gk, &g);
}

/* conntrack-like: closing TCP and one-sided flows go quickly. */
static unsigned int flow_timeout(const struct nat_flow *f, const struct nat_timeouts *t)
{
	__u8 out = f->out.e.seen, in = f->in_found ? f->in.e.seen : 0;

	if (out & BL_NAT_UNPAIRED) /* no partner: judge by its own flags */
		in = out;
	switch (f->ekey.proto) {
	case IPPROTO_TCP:
		if ((out | in) & BL_NAT_SEEN_RST)
			return t->tcp_closing;
		if ((out & BL_NAT_SEEN_FIN) && (in & BL_NAT_SEEN_FIN))
			return t->tcp_closing;
		if ((f->in_found && f->in.e.packets) || (out & BL_NAT_UNPAIRED))
			return t->tcp_established;
		return t->tcp_syn;
	case IPPROTO_UDP:
		return t->udp;
	default:
		return t->icmp;
	}
}

/* Snapshot the keys first: deleting while walking get_next_key restarts it. */
static int collect_keys(int fd, int family, struct bl_nat6_key **out, size_t *n)
{
	union {
		struct bl_nat_key k4;
		struct bl_nat6_key k6;
	} raw, prev;
	struct bl_nat6_key *keys = NULL;
	size_t cap = 0;
	int first = 1;

	*n = 0;
	while (bpf_map_get_next_key(fd, first ? NULL : &prev, &raw) == 0) {
		first = 0;
		prev = raw;
		if (*n == cap) {
			struct bl_nat6_key *nk;

			cap = cap ? cap * 2 : 1024;
			nk = realloc(keys, cap * sizeof(*keys));
			if (!nk) {
				free(keys);
				return -ENOMEM;
			}
			keys = nk;
		}
		key_from_raw(family, &raw, &keys[(*n)++]);
	}
	*out = keys;
	return 0;
}

static int load_flow(int fd, int family, const struct bl_nat6_key *ek, uint64_t now,
		     const struct nat_timeouts *t, struct nat_flow *f)
{
	struct bl_nat6_key ik;
	uint64_t last;

	memset(f, 0, sizeof(*f));
	f->family = family;
	f->ekey = *ek;
	if (tab_lookup(fd, family, ek, &f->out))
		return -ENOENT;
	f->in_found = partner_key(family, ek, &f->out, &ik) == 0 &&
		      tab_lookup(fd, family, &ik, &f->in) == 0 &&
		      partner_of(family, ek, &f->out, &f->in);
	last = f->out.e.last_seen_ns;
	if (f->in_found && f->in.e.last_seen_ns > last)
		last = f->in.e.last_seen_ns;
	f->idle_ns = now > last ? now - last : 0;
	f->age_ns = now > f->out.e.created_ns ? now - f->out.e.created_ns : 0;
	f->timeout_s = flow_timeout(f, t);
	return 0;
}

int nat_foreach_family(int fd, int family, const struct nat_timeouts *t,
		       int (*fn)(const struct nat_flow *f, void *data), void *data)
{
	struct bl_nat6_key *keys;
	struct nat_flow f;
	uint64_t now = now_ns();
	size_t n, i;
	int err;

	err = collect_keys(fd, family, &keys, &n);
	if (err)
		return errorf(err, "read NAT table");
	for (i = 0; i < n && !err; i++)
		if (keys[i].dir == BL_DIR_EGRESS &&
		    load_flow(fd, family, &keys[i], now, t, &f) == 0 &&
		    is_anchor(&keys[i], &f.out))
			err = fn(&f, data);
	free(keys);
	return err;
}

int nat_foreach(int fd, const struct nat_timeouts *t,
		int (*fn)(const struct nat_flow *f, void *data), void *data)
{
	return nat_foreach_family(fd, AF_INET, t, fn, data);
}

static void del_entry(int fd, int family, const struct bl_nat6_key *k,
		      unsigned int *deleted)
{
	if (tab_delete(fd, family, k) == 0)
		(*deleted)++;
}

int nat_gc_family(int fd, int family, const struct nat_timeouts *t,
		  struct nat_gc_stats *st)
{
	unsigned int deleted = 0;
	struct bl_nat6_key *keys, other;
	struct bl_nat6_entry e;
	struct nat_flow f;
	uint64_t now = now_ns();
	size_t n, i;
	int err;

	memset(st, 0, sizeof(*st));
	err = collect_keys(fd, family, &keys, &n);
	if (err)
		return errorf(err, "read NAT table");
	for (i = 0; i < n; i++) {
		st->scanned++;
		if (tab_lookup(fd, family, &keys[i], &e))
			continue;
		if (is_anchor(&keys[i], &e)) {
			if (load_flow(fd, family, &keys[i], now, t, &f))
				continue;
			int whole = f.in_found || (f.out.e.seen & BL_NAT_UNPAIRED);

			if (whole && f.idle_ns < (uint64_t)f.timeout_s * 1000000000ull) {
				st->live++;
				continue;
			}
			if (f.out.e.seen & BL_NAT_UNPAIRED) {
				st->expired++;
			} else if (f.in_found) {
				partner_key(family, &keys[i], &f.out, &other);
				del_entry(fd, family, &other, &deleted);
				st->expired++;
			} else {
				st->orphans++;
			}
			del_entry(fd, family, &keys[i], &deleted);
		} else {
			/* The other half of a flow whose anchor is gone (LRU, race). */
			struct bl_nat6_entry oe;

			partner_key(family, &keys[i], &e, &other);
			if (tab_lookup(fd, family, &other, &oe) == 0)
				continue;
			/* Just claimed by a new mapping on another CPU? Let it be. */
			if (now - e.e.created_ns < 1000000000ull)
				continue;
			del_entry(fd, family, &keys[i], &deleted);
			st->orphans++;
		}
	}
	free(keys);
	st->entries = n > deleted ? n - deleted : 0;
	return 0;
}

int nat_gc(int fd, const struct nat_timeouts *t, struct nat_gc_stats *st)
{
	return nat_gc_family(fd, AF_INET, t, st);
}
