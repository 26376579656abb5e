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

/* A SNAT mapping's two halves: the egress entry's ingress partner, and back. */
static void snat_ingress_key(const struct bl_nat_key *ek, const struct bl_nat_entry *e,
			     struct bl_nat_key *ik)
{
	memset(ik, 0, sizeof(*ik));
	memcpy(ik->saddr, ek->daddr, 4);
	memcpy(ik->daddr, e->addr, 4);
	ik->sport = ek->dport; /* 0 for ICMP echo */
	ik->dport = e->port;
	ik->proto = ek->proto;
	ik->dir = BL_DIR_INGRESS;
}

static void snat_egress_key(const struct bl_nat_key *ik, const struct bl_nat_entry *e,
			    struct bl_nat_key *ek)
{
	memset(ek, 0, sizeof(*ek));
	memcpy(ek->saddr, e->addr, 4);
	memcpy(ek->daddr, ik->saddr, 4);
	ek->sport = e->port;
	ek->dport = ik->sport;
	ek->proto = ik->proto;
	ek->dir = BL_DIR_EGRESS;
}

int nat_is_anchor(const struct bl_nat_key *k, const struct bl_nat_entry *e)
{
	return k->dir == BL_DIR_EGRESS && !(e->svc & BL_NAT_SVC_REPLY);
}

int nat_partner_key(const struct bl_nat_key *k, const struct bl_nat_entry *e,
		    struct bl_nat_key *pk)
{
	memset(pk, 0, sizeof(*pk));
	pk->proto = k->proto;
	if (nat_is_anchor(k, e)) {
		if (e->seen & BL_NAT_UNPAIRED)
			return -ENOENT;
		if (!(e->svc & BL_NAT_SVC_FWD)) {
			snat_ingress_key(k, e, pk);
			return 0;
		}
		/* the backend answers the client, a hairpin's the service address */
		memcpy(pk->saddr, e->addr, 4);
		memcpy(pk->daddr, e->svc & BL_NAT_SVC_HAIRPIN ? k->daddr : k->saddr, 4);
		pk->sport = e->port;
		pk->dport = k->sport;
		pk->dir = e->svc & BL_NAT_SVC_REMOTE ? BL_DIR_INGRESS : BL_DIR_EGRESS;
		return 0;
	}
	if (!(e->svc & BL_NAT_SVC_REPLY)) {
		snat_egress_key(k, e, pk);
		return 0;
	}
	/* client -> service address and port */
	memcpy(pk->saddr, e->svc & BL_NAT_SVC_HAIRPIN ? k->saddr : k->daddr, 4);
	memcpy(pk->daddr, e->addr, 4);
	pk->sport = k->dport;
	pk->dport = e->port;
	pk->dir = BL_DIR_EGRESS;
	return 0;
}

/* 1 if pe (found under anchor (k, e)'s partner key) is that anchor's partner. */
static int partner_of(const struct bl_nat_key *k, const struct bl_nat_entry *e,
		      const struct bl_nat_entry *pe)
{
	if (e->svc & BL_NAT_SVC_FWD)
		return (pe->svc & BL_NAT_SVC_REPLY) && !memcmp(pe->addr, k->daddr, 4) &&
		       pe->port == k->dport;
	return !memcmp(pe->addr, k->saddr, 4) && pe->port == k->sport;
}

int nat_flow_delete(int fd, const struct bl_nat_key *k, const struct bl_nat_entry *e)
{
	struct bl_nat_key pk;
	int err = 0;

	if (nat_partner_key(k, e, &pk) == 0 && bpf_map_delete_elem(fd, &pk) && errno != ENOENT)
		err = -errno;
	if (bpf_map_delete_elem(fd, k) && errno != ENOENT)
		err = -errno;
	return err;
}

/* conntrack-like: closing TCP and one-sided flows go quickly. */
static unsigned int flow_timeout(const struct nat_flow *f, const struct nat_timeouts *t)
{
	__u8 out = f->out.seen, in = f->in_found ? f->in.seen : 0;

	if (out & BL_NAT_UNPAIRED) /* no partner: judge by its own flags */
		in = out;
	switch (f->ekey.proto) {
	case IPPROTO_TCP:
		if ((out | in) & BL_NAT_SEEN_RST)
			return t->tcp_closing;
		if ((out & BL_NAT_SEEN_FIN) && (in & BL_NAT_SEEN_FIN))
			return t->tcp_closing;
		if ((f->in_found && f->in.packets) || (out & BL_NAT_UNPAIRED))
			return t->tcp_established;
		return t->tcp_syn;
	case IPPROTO_UDP:
		return t->udp;
	default:
		return t->icmp;
	}
}

/* Snapshot the keys first: deleting while walking get_next_key restarts it. */
static int collect_keys(int fd, struct bl_nat_key **out, size_t *n)
{
	struct bl_nat_key *keys = NULL, k, *prev = NULL;
	size_t cap = 0;

	*n = 0;
	while (bpf_map_get_next_key(fd, prev, &k) == 0) {
		if (*n == cap) {
			struct bl_nat_key *nk;

			cap = cap ? cap * 2 : 1024;
			nk = realloc(keys, cap * sizeof(*keys));
			if (!nk) {
				free(keys);
				return -ENOMEM;
			}
			keys = nk;
		}
		keys[(*n)++] = k;
		prev = &keys[*n - 1];
	}
	*out = keys;
	return 0;
}

static int load_flow(int fd, const struct bl_nat_key *ek, uint64_t now,
		     const struct nat_timeouts *t, struct nat_flow *f)
{
	struct bl_nat_key ik;
	uint64_t last;

	memset(f, 0, sizeof(*f));
	f->ekey = *ek;
	if (bpf_map_lookup_elem(fd, ek, &f->out))
		return -ENOENT;
	f->in_found = nat_partner_key(ek, &f->out, &ik) == 0 &&
		      bpf_map_lookup_elem(fd, &ik, &f->in) == 0 &&
		      partner_of(ek, &f->out, &f->in);
	last = f->out.last_seen_ns;
	if (f->in_found && f->in.last_seen_ns > last)
		last = f->in.last_seen_ns;
	f->idle_ns = now > last ? now - last : 0;
	f->age_ns = now > f->out.created_ns ? now - f->out.created_ns : 0;
	f->timeout_s = flow_timeout(f, t);
	return 0;
}

int nat_foreach(int fd, const struct nat_timeouts *t,
		int (*fn)(const struct nat_flow *f, void *data), void *data)
{
	struct bl_nat_key *keys;
	struct nat_flow f;
	uint64_t now = now_ns();
	size_t n, i;
	int err;

	err = collect_keys(fd, &keys, &n);
	if (err)
		return errorf(err, "read NAT table");
	for (i = 0; i < n && !err; i++)
		if (keys[i].dir == BL_DIR_EGRESS && load_flow(fd, &keys[i], now, t, &f) == 0 &&
		    nat_is_anchor(&keys[i], &f.out))
			err = fn(&f, data);
	free(keys);
	return err;
}

static int del_entry(int fd, const struct bl_nat_key *k, unsigned int *deleted)
{
	if (bpf_map_delete_elem(fd, k))
		return -errno;
	(*deleted)++;
	return 0;
}

int nat_gc(int fd, const struct nat_timeouts *t, struct nat_gc_stats *st)
{
	unsigned int deleted = 0;
	struct bl_nat_key *keys, other;
	struct bl_nat_entry e;
	struct nat_flow f;
	uint64_t now = now_ns();
	size_t n, i;
	int err;

	memset(st, 0, sizeof(*st));
	err = collect_keys(fd, &keys, &n);
	if (err)
		return errorf(err, "read NAT table");
	for (i = 0; i < n; i++) {
		st->scanned++;
		if (bpf_map_lookup_elem(fd, &keys[i], &e))
			continue;
		if (nat_is_anchor(&keys[i], &e)) {
			if (load_flow(fd, &keys[i], now, t, &f))
				continue;
			int whole = f.in_found || (f.out.seen & BL_NAT_UNPAIRED);

			if (whole && f.idle_ns < (uint64_t)f.timeout_s * 1000000000ull) {
				st->live++;
				continue;
			}
			if (f.out.seen & BL_NAT_UNPAIRED) {
				st->expired++;
			} else if (f.in_found) {
				nat_partner_key(&keys[i], &f.out, &other);
				del_entry(fd, &other, &deleted);
				st->expired++;
			} else {
				st->orphans++;
			}
			del_entry(fd, &keys[i], &deleted);
		} else {
			/* The other half of a flow whose anchor is gone (LRU, race). */
			struct bl_nat_entry oe;

			nat_partner_key(&keys[i], &e, &other);
			if (bpf_map_lookup_elem(fd, &other, &oe) == 0)
				continue;
			/* Just claimed by a new mapping on another CPU? Let it be. */
			if (now - e.created_ns < 1000000000ull)
				continue;
			del_entry(fd, &keys[i], &deleted);
			st->orphans++;
		}
	}
	free(keys);
	st->entries = n > deleted ? n - deleted : 0;
	return 0;
}
