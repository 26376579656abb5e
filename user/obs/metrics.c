// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <microhttpd.h>
#include "datapath/counters.h"
#include "datapath/datapath.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "obs/metrics.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics {
	struct MHD_Daemon *daemon;
	struct ctx c;
	char *pin_dir;
	char *state_dir;
	const struct agent_stats *stats;
	pthread_mutex_t *lock;
};

/* What the walk over the pods writes: two families at once. */
struct scrape {
	FILE *packets;
	FILE *bytes;
	int ep_stats_fd;
	unsigned int pods;
};

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one sample without labels. */
static void scalar(FILE *f, const char *name, const char *type, const char *help,
		   uint64_t val)
{
	family(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)val);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

static void pod_line(FILE *f, const char *family, const struct pod_rec *p,
		     const char *dir, uint64_t val)
{
	char ip[IPADDR_STRLEN], ip6[IPADDR_STRLEN];

	/* ip: its IPv4 address (else its IPv6 one); ip6 where it has IPv6 */
	fprintf(f, "%s{pod=\"", family);
	label_value(f, p->name);
	if (p->has_ip6 && p->ip)
		fprintf(f, "\",ip=\"%s\",ip6=\"%s\",direction=\"%s\"} %llu\n",
			ip_str(p->ip, ip), ip6_str(p->ip6, ip6), dir, (unsigned long long)val);
	else
		fprintf(f, "\",ip=\"%s\",direction=\"%s\"} %llu\n",
			p->ip ? ip_str(p->ip, ip) : ip6_str(p->ip6, ip6), dir,
			(unsigned long long)val);
}

static int pod_sample(const struct pod_rec *p, void *data)
{
	static const char pk[] = "bridgeless_endpoint_packets_total",
			  by[] = "bridgeless_endpoint_bytes_total";
	struct scrape *s = data;
	struct bl_ep_stats v;

	s->pods++;
	if (!p->slot || s->ep_stats_fd < 0 || ep_stats_read(s->ep_stats_fd, p->slot, &v))
		return 0;
	pod_line(s->packets, pk, p, "rx", v.rx_packets);
	pod_line(s->packets, pk, p, "tx", v.tx_packets);
	pod_line(s->bytes, by, p, "rx", v.rx_bytes);
	pod_line(s->bytes, by, p, "tx", v.tx_bytes);
	return 0;
}

/* The datapath's side; 0 if it is not loaded (nothing pinned). */
static int datapath_metrics(const struct metrics *m, FILE *f)
{
	/* The per-reason families: forwarded or dropped, packets or bytes. */
	static const struct {
		const char *name;
		int drops, bytes;
		const char *help;
	} by_reason[] = {
		{ "bridgeless_packets_total", 0, 0,
		  "Packets the datapath forwarded, passed to the host stack or translated, by reason." },
		{ "bridgeless_bytes_total", 0, 1,
		  "Bytes (Ethernet header included) of bridgeless_packets_total, by reason." },
		{ "bridgeless_drops_total", 1, 0, "Packets the datapath dropped, by reason." },
		{ "bridgeless_drop_bytes_total", 1, 1,
		  "Bytes (Ethernet header included) of bridgeless_drops_total, by reason." },
	};
	struct bl_counter_val v[BL_COUNTER_MAX];
	struct scrape s = { .packets = f, .ep_stats_fd = -1 };
	char *bytes = NULL;
	size_t bytes_len = 0;
	int counters_fd, i;
	size_t k;

	counters_fd = pin_open(&m->c, BL_PIN(BL_MAP_COUNTERS));
	if (counters_fd < 0)
		return 0;
	if (counters_read_all(counters_fd, v)) {
		close(counters_fd);
		return 0;
	}
	close(counters_fd);

	for (k = 0; k < sizeof(by_reason) / sizeof(by_reason[0]); k++) {
		family(f, by_reason[k].name, "counter", by_reason[k].help);
		for (i = 0; i < BL_COUNTER_MAX; i++) {
			int drop = reason_is_drop(i);
			uint64_t val = by_reason[k].bytes ? v[i].bytes : v[i].packets;

			if (by_reason[k].drops ? drop : !drop && i != BL_EVENTS_LOST)
				fprintf(f, "%s{reason=\"%s\"} %llu\n", by_reason[k].name,
					reason_name(i), (unsigned long long)val);
		}
	}
	scalar(f, "bridgeless_nat_alloc_failures_total", "counter",
	       "New SNAT mappings that found no free port (the packet was dropped).",
	       v[BL_DROP_NAT_NO_PORT].packets);
	scalar(f, "bridgeless_events_lost_total", "counter",
	       "Drop and trace events not queued for `bridgeless monitor`: the ring buffer was full.",
	       v[BL_EVENTS_LOST].packets);
	scalar(f, "bridgeless_nat_max", "gauge",
	       "Capacity of the NAT table in entries (two per mapping).",
	       pinned_nat_size(&m->c));

	/* One walk over the pods; the bytes family waits in its own buffer. */
	family(f, "bridgeless_endpoint_packets_total", "counter",
	       "Packets of each pod: rx delivered to it, tx sent by it (after anti-spoofing).");
	s.ep_stats_fd = pin_open(&m->c, BL_PIN(BL_MAP_EP_STATS));
	s.bytes = open_memstream(&bytes, &bytes_len);
	if (s.bytes) {
		pod_foreach(&m->c, pod_sample, &s);
		fclose(s.bytes);
	}
	if (s.ep_stats_fd >= 0)
		close(s.ep_stats_fd);
	family(f, "bridgeless_endpoint_bytes_total", "counter",
	       "Bytes (Ethernet header included) of bridgeless_endpoint_packets_total.");
	if (bytes)
		fwrite(bytes, 1, bytes_len, f);
	free(bytes);
	scalar(f, "bridgeless_endpoints", "gauge", "Pods attached to the datapath on this node.",
	       s.pods);
	return 1;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One family with a sample per watched resource. */
static void per_resource(FILE *f, const struct agent_stats *st, const char *name,
			 const char *type, const char *help, size_t off)
{
	int r;

	family(f, name, type, help);
	for (r = 0; r < AGENT_K8S_RES_MAX; r++)
		if (st->k8s[r].name)
			fprintf(f, "%s{resource=\"%s\"} %llu\n", name, st->k8s[r].name,
				(unsigned long long)*(const uint64_t *)((const char *)&st->k8s[r] + off));
}

/* The Kubernetes API watches; nothing when the agent does not use the API. */
static void k8s_metrics(FILE *f, const struct agent_stats *st)
{
	static const char *const types[K8S_EV_MAX] = { "ADDED", "MODIFIED", "DELETED",
						       "BOOKMARK", "ERROR" };
	double now = mono_now();
	int r, t;

	if (!st->k8s[0].name)
		return;
	family(f, "bridgeless_k8s_watch_events_total", "counter",
	       "Watch events received from the Kubernetes API, by resource and type.");
	for (r = 0; r < AGENT_K8S_RES_MAX; r++)
		for (t = 0; st->k8s[r].name && t < K8S_EV_MAX; t++)
			fprintf(f, "bridgeless_k8s_watch_events_total{resource=\"%s\",type=\"%s\"} %llu\n",
				st->k8s[r].name, types[t],
				(unsigned long long)st->k8s[r].events[t]);
	per_resource(f, st, "bridgeless_k8s_lists_total", "counter",
		     "Full LISTs of a resource (the first one included).",
		     offsetof(struct k8s_watch_stats, lists));
	per_resource(f, st, "bridgeless_k8s_relists_total", "counter",
		     "LISTs again because the watch's resourceVersion was too old (410 Gone).",
		     offsetof(struct k8s_watch_stats, relists));
	per_resource(f, st, "bridgeless_k8s_errors_total", "counter",
		     "Failed requests and broken watches (each retried).",
		     offsetof(struct k8s_watch_stats, errors));
	per_resource(f, st, "bridgeless_k8s_objects", "gauge",
		     "Objects of the resource the agent holds.",
		     offsetof(struct k8s_watch_stats, objects));
	family(f, "bridgeless_k8s_seconds_since_sync", "gauge",
	       "Seconds since the resource was last known in sync: 0 while its watch is open.");
	for (r = 0; r < AGENT_K8S_RES_MAX; r++)
		if (st->k8s[r].name)
			fprintf(f, "bridgeless_k8s_seconds_since_sync{resource=\"%s\"} %.1f\n",
				st->k8s[r].name,
				st->k8s[r].watching ? 0.0 : now - st->k8s[r].last_sync);
}

static void agent_metrics(const struct metrics *m, FILE *f)
{
	static const struct {
		const char *name;
		size_t off;
		const char *help;
	} ctr[] = {
		{ "bridgeless_agent_reconcile_runs_total",
		  offsetof(struct agent_stats, reconcile_runs), "Reconcile passes the agent ran." },
		{ "bridgeless_agent_endpoints_removed_total",
		  offsetof(struct agent_stats, endpoints_removed),
		  "Pods removed because their netns or veth was gone." },
		{ "bridgeless_agent_veths_removed_total",
		  offsetof(struct agent_stats, veths_removed), "Host veths of ours without a pod, removed." },
		{ "bridgeless_agent_reattached_total", offsetof(struct agent_stats, reattached),
		  "Missing tc attachments put back." },
		{ "bridgeless_agent_nat_gc_runs_total", offsetof(struct agent_stats, nat_gc_runs),
		  "NAT garbage collection passes." },
		{ "bridgeless_agent_nat_expired_total", offsetof(struct agent_stats, nat_expired),
		  "NAT mappings the collector removed as expired." },
	};
	struct agent_stats st = {};
	size_t i;

	if (m->stats) {
		if (m->lock)
			pthread_mutex_lock(m->lock);
		st = *m->stats;
		if (m->lock)
			pthread_mutex_unlock(m->lock);
	}
	for (i = 0; i < sizeof(ctr) / sizeof(ctr[0]); i++)
		scalar(f, ctr[i].name, "counter", ctr[i].help,
		       *(const uint64_t *)((const char *)&st + ctr[i].off));
	scalar(f, "bridgeless_nat_entries", "gauge",
	       "NAT table entries (two per mapping) after the agent's last collection.",
	       st.nat_entries);
	if (st.have_services) {
		scalar(f, "bridgeless_services", "gauge",
		       "Services with a cluster IP in the agent's service table.", st.services);
		scalar(f, "bridgeless_service_backends", "gauge",
		       "Backends of all service ports in the service table.", st.service_backends);
		scalar(f, "bridgeless_service_backends_ready", "gauge",
		       "Of bridgeless_service_backends, those ready.", st.service_backends_ready);
	}
	k8s_metrics(f, &st);
}

/* The whole page; NULL on out of memory. */
static char *render(const struct metrics *m, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int up;

	if (!f)
		return NULL;
	up = datapath_metrics(m, f);
	scalar(f, "bridgeless_datapath_up", "gauge",
	       "1 if the node's datapath is loaded (its maps are pinned), else 0.", up);
	agent_metrics(m, f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     char *body, size_t len, const char *type)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	const struct metrics *m = cls;
	size_t len;
	char *body;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		body = strdup("only GET and HEAD\n");
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, body, body ? strlen(body) : 0,
			     "text/plain");
	}
	if (strcmp(url, "/metrics")) {
		body = strdup("not found: the metrics are at /metrics\n");
		return reply(conn, MHD_HTTP_NOT_FOUND, body, body ? strlen(body) : 0,
			     "text/plain");
	}
	body = render(m, &len);
	if (!body)
		return MHD_NO;
	return reply(conn, MHD_HTTP_OK, body, len, CONTENT_TYPE);
}

/* libmicrohttpd's own complaints (a client that misbehaves...) as our log lines. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	pr_info("metrics: %s", buf);
}

int metrics_start(const struct ctx *c, const char *listen,
		  const struct agent_stats *stats, pthread_mutex_t *lock,
		  struct metrics **out)
{
	struct sockaddr_storage ss;
	struct metrics *m;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int err;

	*out = NULL;
	if (listen_parse(listen, &ss))
		return errorf_raw(-EINVAL,
				  "metrics: bad listen address \"%s\" (want IP:PORT, [IPv6]:PORT or :PORT)",
				  listen);
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->pin_dir = strdup(c->pin_dir);
	m->state_dir = strdup(c->state_dir);
	if (!m->pin_dir || !m->state_dir) {
		metrics_stop(m);
		return -ENOMEM;
	}
	m->c.pin_dir = m->pin_dir;
	m->c.state_dir = m->state_dir;
	m->stats = stats;
	m->lock = lock;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	/* The logger first: libmicrohttpd complains about it anywhere else. */
	m->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m,
				     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				     MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				     MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_END);
	if (!m->daemon) {
		err = errno ? -errno : -EADDRNOTAVAIL;
		metrics_stop(m);
		return errorf(err, "metrics: listen on %s", listen);
	}
	pr_info("metrics: serving http://%s/metrics", listen);
	*out = m;
	return 0;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	if (m->daemon)
		MHD_stop_daemon(m->daemon);
	free(m->pin_dir);
	free(m->state_dir);
	free(m);
}
