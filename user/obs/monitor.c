// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>
#include "datapath/counters.h"
#include "datapath/datapath.h"
#include "lib/log.h"
#include "netlink/link.h"
#include "obs/monitor.h"

/*
 * Names are looked up once and kept for a while: an ifindex is reused after
 * its pod is gone, so nothing is kept for long.
 */
#define NAMES_TTL_NS (10 * 1000000000ull)
/* New pods show up as unknown ifindexes: reread the records at most this often. */
#define PODS_RELOAD_NS 1000000000ull

struct ifname {
	int ifindex;
	char name[IF_NAMESIZE];
};

struct podname {
	int ifindex;
	char *name;
};

struct monitor {
	const struct ctx *c;
	const struct monitor_opts *o;
	struct nl nl;
	struct ifname *ifs;
	size_t n_ifs, cap_ifs;
	struct podname *pods;
	size_t n_pods, cap_pods;
	uint64_t names_since; /* when the caches were started */
	uint64_t pods_loaded; /* 0: never */
	uint64_t start_ns; /* CLOCK_MONOTONIC: events before it are stale */
	int64_t realtime_off; /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	unsigned long printed;
	int out_err; /* writing to stdout failed: stop */
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void names_flush(struct monitor *m)
{
	size_t i;

	for (i = 0; i < m->n_pods; i++)
		free(m->pods[i].name);
	m->n_pods = 0;
	m->n_ifs = 0;
	m->pods_loaded = 0;
}

static int add_pod(const struct pod_rec *p, void *data)
{
	struct monitor *m = data;
	struct podname *v;

	if (m->n_pods == m->cap_pods) {
		size_t cap = m->cap_pods ? m->cap_pods * 2 : 64;

		v = realloc(m->pods, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->pods = v;
		m->cap_pods = cap;
	}
	m->pods[m->n_pods].ifindex = p->host_ifindex;
	m->pods[m->n_pods].name = strdup(p->name);
	if (m->pods[m->n_pods].name)
		m->n_pods++;
	return 0;
}

static const char *pod_of(struct monitor *m, int ifindex, uint64_t now)
{
	size_t i;
	int pass;

	if (!ifindex)
		return NULL;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < m->n_pods; i++)
			if (m->pods[i].ifindex == ifindex)
				return m->pods[i].name;
		if (m->pods_loaded && now - m->pods_loaded < PODS_RELOAD_NS)
			return NULL;
		for (i = 0; i < m->n_pods; i++)
			free(m->pods[i].name);
		m->n_pods = 0;
		m->pods_loaded = now;
		pod_foreach(m->c, add_pod, m);
		error_clear();
	}
	return NULL;
}

static const char *ifname_of(struct monitor *m, int ifindex)
{
	struct link_info li;
	struct ifname *v;
	size_t i;

	for (i = 0; i < m->n_ifs; i++)
		if (m->ifs[i].ifindex == ifindex)
			return m->ifs[i].name;
	if (m->n_ifs == m->cap_ifs) {
		size_t cap = m->cap_ifs ? m->cap_ifs * 2 : 64;

		v = realloc(m->ifs, cap * sizeof(*v));
		if (!v)
			return "?";
		m->ifs = v;
		m->cap_ifs = cap;
	}
	v = &m->ifs[m->n_ifs++];
	v->ifindex = ifindex;
	/* Gone already (a pod deleted since): its number is all there is. */
	if (link_get(&m->nl, NULL, ifindex, &li) == 0 && li.name[0])
		snprintf(v->name, sizeof(v->name), "%s", li.name);
	else
		snprintf(v->name, sizeof(v->name), "if%d", ifindex);
	error_clear();
	return v->name;
}

static const char *proto_name(const struct bl_event *e, char *buf)
{
	if (e->ethertype == 0x0806)
		return "arp";
	if (e->ethertype != 0x0800 && e->ethertype != 0x86dd)
		return NULL;
	switch (e->proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	}
	sprintf(buf, "%u", e->proto);
	return buf;
}

static const char *time_str(const struct monitor *m, uint64_t mono_ns, char *buf,
			    size_t len)
{
	uint64_t ns = mono_ns + m->realtime_off;
	time_t sec = ns / 1000000000ull;
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06uZ", (unsigned int)(ns % 1000000000ull / 1000));
	return buf;
}

/* An event's addresses as text: IPv4, or IPv6 (bracketed where a port follows). */
static void addrs_str(const struct bl_event *e, char *s, char *d, int bracket)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	uint32_t sa, da;

	if (e->ethertype == 0x86dd) {
		sprintf(s, bracket ? "[%s]" : "%s", ip6_str(e->saddr6, a));
		sprintf(d, bracket ? "[%s]" : "%s", ip6_str(e->daddr6, b));
		return;
	}
	memcpy(&sa, e->saddr, 4);
	memcpy(&da, e->daddr, 4);
	ip_str(sa, s);
	ip_str(da, d);
}

/* "tcp 10.244.1.2:40000 -> 10.244.1.3:80", "icmp a -> b type 8 code 0"... */
static void tuple_str(const struct bl_event *e, char *buf, size_t len)
{
	char s[IPADDR_STRLEN + 2], d[IPADDR_STRLEN + 2], pbuf[8];
	const char *proto = proto_name(e, pbuf);

	addrs_str(e, s, d, e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP);
	if (!proto)
		snprintf(buf, len, "ethertype 0x%04x", e->ethertype);
	else if (e->ethertype == 0x0806)
		snprintf(buf, len, "arp %s %s -> %s",
			 e->sport == 1 ? "request" : e->sport == 2 ? "reply" : "op", s, d);
	else if (e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP)
		snprintf(buf, len, "%s %s:%u -> %s:%u", proto, s, e->sport, d, e->dport);
	else if (e->proto == IPPROTO_ICMP || e->proto == IPPROTO_ICMPV6)
		snprintf(buf, len, "%s %s -> %s type %u code %u", proto, s, d, e->sport,
			 e->dport);
	else
		snprintf(buf, len, "proto %s %s -> %s", proto, s, d);
}

static int print_text(struct monitor *m, const struct bl_event *e, const char *when,
		      const char *reason, const char *ifname, const char *pod,
		      const char *out_if, const char *out_pod)
{
	char tuple[160], where[IF_NAMESIZE + POD_NAME_MAX + 32] = "";

	tuple_str(e, tuple, sizeof(tuple));
	if (e->flags & BL_EVENT_TRACE) {
		if (out_if)
			snprintf(where, sizeof(where), " -> %s%s%s", out_if,
				 out_pod ? " pod " : "", out_pod ?: "");
		else
			snprintf(where, sizeof(where), " -> host");
	}
	return printf("%s %-5s %-20s %s%s%s%s  %s  len %u\n", when,
		      e->flags & BL_EVENT_DROP ? "drop" : "trace", reason, ifname,
		      pod ? " pod " : "", pod ?: "", where, tuple, e->len);
}

static int print_json(struct monitor *m, const struct bl_event *e, const char *when,
		      const char *reason, const char *ifname, const char *pod,
		      const char *out_if, const char *out_pod)
{
	char s[IPADDR_STRLEN], d[IPADDR_STRLEN], pbuf[8];
	const char *proto = proto_name(e, pbuf);
	json_t *j;
	int n;

	j = json_pack("{s:s, s:I, s:s, s:s, s:s, s:i, s:s, s:o, s:i, s:I}", "time", when,
		      "time_ns", (json_int_t)e->time_ns, "type",
		      e->flags & BL_EVENT_DROP ? "drop" : "trace", "reason", reason,
		      "description", reason_text(e->reason), "ifindex", e->ifindex,
		      "interface", ifname, "pod", pod ? json_string(pod) : json_null(),
		      "ethertype", e->ethertype, "len", (json_int_t)e->len);
	if (!j)
		return -ENOMEM;
	if (e->flags & BL_EVENT_TRACE) {
		json_object_set_new(j, "out_ifindex", json_integer(e->out_ifindex));
		json_object_set_new(j, "out_interface",
				    out_if ? json_string(out_if) : json_null());
		json_object_set_new(j, "out_pod", out_pod ? json_string(out_pod) : json_null());
	}
	if (proto) {
		addrs_str(e, s, d, 0);
		json_object_set_new(j, "protocol", json_string(proto));
		json_object_set_new(j, "saddr", json_string(s));
		json_object_set_new(j, "daddr", json_string(d));
		if (e->ethertype == 0x0806) {
			json_object_set_new(j, "arp_op", json_integer(e->sport));
		} else if (e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP) {
			json_object_set_new(j, "sport", json_integer(e->sport));
			json_object_set_new(j, "dport", json_integer(e->dport));
		} else if (e->proto == IPPROTO_ICMP || e->proto == IPPROTO_ICMPV6) {
			json_object_set_new(j, "icmp_type", json_integer(e->sport));
			json_object_set_new(j, "icmp_code", json_integer(e->dport));
		}
	}
	n = json_dumpf(j, stdout, JSON_COMPACT) ? -1 : putchar('\n');
	json_decref(j);
	return n;
}

static int on_event(void *ctx, void *data, size_t size)
{
	const char *reason, *ifname, *pod, *out_if = NULL, *out_pod = NULL;
	struct monitor *m = ctx;
	struct bl_event e = {};
	char when[40], rbuf[16];
	uint64_t now;
	int n;

	memcpy(&e, data, size < sizeof(e) ? size : sizeof(e));
	if (e.time_ns < m->start_ns)
		return 0;
	now = clock_ns(CLOCK_MONOTONIC);
	if (now - m->names_since > NAMES_TTL_NS) {
		names_flush(m);
		m->names_since = now;
	}
	reason = reason_name(e.reason);
	if (!reason) {
		snprintf(rbuf, sizeof(rbuf), "reason_%u", e.reason);
		reason = rbuf;
	}
	time_str(m, e.time_ns, when, sizeof(when));
	ifname = ifname_of(m, e.ifindex);
	pod = pod_of(m, e.ifindex, now);
	if ((e.flags & BL_EVENT_TRACE) && e.out_ifindex) {
		out_if = ifname_of(m, e.out_ifindex);
		out_pod = pod_of(m, e.out_ifindex, now);
	}
	if (m->o->json)
		n = print_json(m, &e, when, reason, ifname, pod, out_if, out_pod);
	else
		n = print_text(m, &e, when, reason, ifname, pod, out_if, out_pod);
	/* A pipe reader that went away (| head) ends the monitor, cleanly. */
	if (n < 0 || fflush(stdout)) {
		m->out_err = 1;
		return -ECANCELED;
	}
	m->printed++;
	/* Stop consuming at the count (a negative return stops libbpf). */
	return m->o->count && m->printed >= m->o->count ? -ECANCELED : 0;
}

/* Tell about events the ring had no room for, as they are noticed. */
static void report_lost(int counters_fd, uint64_t *last)
{
	struct bl_counter_val v;

	if (counters_fd < 0 || counter_read(counters_fd, BL_EVENTS_LOST, &v)) {
		error_clear();
		return;
	}
	if (v.packets > *last)
		fprintf(stderr, "bridgeless: monitor: %llu events lost (ring buffer full)\n",
			(unsigned long long)(v.packets - *last));
	*last = v.packets;
}

int monitor_run(const struct ctx *c, const struct monitor_opts *o,
		volatile sig_atomic_t *stop)
{
	struct monitor m = { .c = c, .o = o };
	struct ring_buffer *rb = NULL;
	struct bl_counter_val lost;
	int events_fd, counters_fd = -1, err;
	uint64_t deadline = 0, lost_seen = 0;

	events_fd = pin_open(c, BL_PIN(BL_MAP_EVENTS));
	if (events_fd < 0)
		return events_fd == -ENOENT ?
			       errorf_raw(-ENOENT,
					  "no events ring buffer in %s (run `bridgeless node init` to load the current datapath)",
					  c->pin_dir) :
			       events_fd;
	err = nl_open(&m.nl);
	if (err)
		goto out;
	rb = ring_buffer__new(events_fd, on_event, &m, NULL);
	if (!rb) {
		err = errorf(-errno, "open the events ring buffer");
		goto out;
	}
	counters_fd = pin_open(c, BL_PIN(BL_MAP_COUNTERS));
	if (counters_fd >= 0 && counter_read(counters_fd, BL_EVENTS_LOST, &lost) == 0)
		lost_seen = lost.packets;
	error_clear();

	m.start_ns = clock_ns(CLOCK_MONOTONIC);
	m.realtime_off = clock_ns(CLOCK_REALTIME) - m.start_ns;
	m.names_since = m.start_ns;
	if (o->duration_s > 0)
		deadline = m.start_ns + (uint64_t)(o->duration_s * 1e9);
	/* Tests and scripts wait for this line before they make traffic. */
	fprintf(stderr, "bridgeless: monitor: listening for events on %s\n", c->pin_dir);

	while (!*stop && !m.out_err && !(o->count && m.printed >= o->count)) {
		int timeout = 200;

		if (deadline) {
			uint64_t now = clock_ns(CLOCK_MONOTONIC);

			if (now >= deadline)
				break;
			if (deadline - now < 200000000ull)
				timeout = (deadline - now) / 1000000 + 1;
		}
		err = ring_buffer__poll(rb, timeout);
		if (err == -EINTR)
			continue;
		if (err == -ECANCELED)
			break;
		if (err < 0) {
			err = errorf(err, "read the events ring buffer");
			goto out;
		}
		report_lost(counters_fd, &lost_seen);
	}
	err = 0;
out:
	ring_buffer__free(rb);
	if (counters_fd >= 0)
		close(counters_fd);
	close(events_fd);
	nl_close(&m.nl);
	names_flush(&m);
	free(m.pods);
	free(m.ifs);
	return err;
}

int trace_set(const struct ctx *c, uint32_t rate)
{
	struct bpf_map_info info = {};
	uint32_t zero = 0, len = sizeof(info);
	int fd, err = 0;

	fd = pin_open(c, BL_PIN(BL_MAP_TRACE_CFG));
	if (fd == -ENOENT)
		return errorf_raw(fd,
				  "no trace_cfg in %s (run `bridgeless node init` to load the current datapath)",
				  c->pin_dir);
	if (fd < 0)
		return fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = errorf(-errno, "trace_cfg");
	else if (info.value_size != sizeof(rate))
		err = errorf_raw(-EINVAL, "trace_cfg holds %u bytes, not a __u32 (run `bridgeless node init` to load the current datapath)",
				 info.value_size);
	else if (bpf_map_update_elem(fd, &zero, &rate, BPF_ANY))
		err = errorf(-errno, "set trace rate");
	close(fd);
	return err;
}
