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

void nat_ingress_key(const struct bl_nat_key *ek, const struct bl_nat_entry *e,
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

void nat_egress_key(const struct bl_nat_key *ik, const struct bl_nat_entry *e,
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
	nat_ingress_key(ek, &f->out, &ik);
	f->in_found = bpf_map_lookup_elem(fd, &ik, &f->in) == 0 &&
		      !memcmp(f->in.addr, ek->saddr, 4) && f->in.port == ek->sport;
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
		if (keys[i].dir == BL_DIR_EGRESS && load_flow(fd, &keys[i], now, t, &f) == 0)
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
		if (keys[i].dir == BL_DIR_EGRESS) {
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
				nat_ingress_key(&keys[i], &f.out, &other);
				del_entry(fd, &other, &deleted);
				st->expired++;
			} else {
				st->orphans++;
			}
			del_entry(fd, &keys[i], &deleted);
		} else if (bpf_map_lookup_elem(fd, &keys[i], &e) == 0) {
			/* An ingress entry whose egress half is gone (LRU, race). */
			struct bl_nat_entry oe;

			nat_egress_key(&keys[i], &e, &other);
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
