// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * agent.conf: `key = value` lines. Oracle: what loads, written out again
 * as a config file (every option the file set, values quoted), loads to
 * the same options; what is refused is refused with one message naming
 * the file and line.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <unistd.h>
#include "agent/agent.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

/* A file holding text, as a path agent_config_load() can open. */
static int text_file(const char *text, size_t len, char *path, size_t plen)
{
	int fd = memfd_create("agent.conf", MFD_CLOEXEC);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		abort();
	snprintf(path, plen, "/proc/self/fd/%d", fd);
	return fd;
}

/* A value the format can carry inside quotes. */
static int printable(const char *s)
{
	return s && !strpbrk(s, "\"\n\r") && strlen(s) < 3000;
}

static void put(char **buf, size_t *len, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void put(char **buf, size_t *len, const char *key, const char *fmt, ...)
{
	char val[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	*len += snprintf(*buf + *len, 65536 - *len, "%s = \"%s\"\n", key, val);
}

static char *print_opts(const struct agent_opts *o, size_t *len)
{
	const struct node_init_req *r = &o->init;
	char *buf = calloc(1, 65536), a[20];
	int i;

	*len = 0;
	if (r->given & NI_UPLINK)
		put(&buf, len, "uplink", "%s", r->uplink);
	if (r->given & NI_POD_CIDR)
		put(&buf, len, "pod-cidr", "%s", cidr_str(&r->pod_cidr, a));
	if (r->given & NI_CLUSTER_CIDR)
		put(&buf, len, "cluster-cidr", "%s", cidr_str(&r->cluster_cidr, a));
	if (r->given & NI_NODE_IP)
		put(&buf, len, "node-ip", "%s", ip_str(r->node_ip, a));
	if (r->given & NI_NAT_PORTS)
		put(&buf, len, "nat-ports", "%u-%u", r->nat_port_min, r->nat_port_max);
	if (r->given & NI_NAT_MAX)
		put(&buf, len, "nat-max", "%u", r->nat_max);
	if (r->given & NI_MASQUERADE)
		put(&buf, len, "masquerade", "%s", r->masquerade ? "on" : "off");
	for (i = 0; i < r->n_nomasq; i++)
		put(&buf, len, "no-masquerade", "%s", cidr_str(&r->nomasq[i], a));
	for (i = 0; (r->given & NI_SVC_CIDR) && i < r->n_svc_cidr; i++)
		put(&buf, len, "service-cidr", "%s", cidr_str(&r->svc_cidr[i], a));
	if (r->given & NI_BPF_SERVICES)
		put(&buf, len, "bpf-services", "%s", r->bpf_services ? "on" : "off");
	if (o->node_name)
		put(&buf, len, "node-name", "%s", o->node_name);
	if (o->peers)
		put(&buf, len, "peers", "%s", o->peers);
	if (o->services)
		put(&buf, len, "services", "%s", o->services);
	if (o->kubeconfig)
		put(&buf, len, "kubeconfig", "%s", o->kubeconfig);
	put(&buf, len, "k8s", "%s", o->k8s == AGENT_K8S_ON ? "on" :
				   o->k8s == AGENT_K8S_OFF ? "off" : "auto");
	if (o->metrics_listen)
		put(&buf, len, "metrics-listen", "%s", o->metrics_listen);
	put(&buf, len, "reconcile-interval", "%.9f", o->reconcile_s);
	put(&buf, len, "nat-gc-interval", "%.9f", o->nat_gc_s);
	put(&buf, len, "nat-timeout-tcp-syn", "%u", o->timeouts.tcp_syn);
	put(&buf, len, "nat-timeout-tcp-established", "%u", o->timeouts.tcp_established);
	put(&buf, len, "nat-timeout-tcp-closing", "%u", o->timeouts.tcp_closing);
	put(&buf, len, "nat-timeout-udp", "%u", o->timeouts.udp);
	put(&buf, len, "nat-timeout-icmp", "%u", o->timeouts.icmp);
	put(&buf, len, "metrics", "%s", o->metrics ? "on" : "off");
	return buf;
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int close_enough(double a, double b)
{
	return fabs(a - b) <= 1e-6 * fmax(1, fabs(a));
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct agent_opts o, o2;
	char path[64], *text;
	size_t len;
	int fd, err;

	if (size > 16384)
		return 0;
	agent_opts_defaults(&o);
	fd = text_file((const char *)data, size, path, sizeof(path));
	err = agent_config_load(&o, path);
	close(fd);
	if (err) {
		oracle(strstr(error_message(), path), "refused without naming the file: %s",
		       error_message());
		goto out;
	}
	oracle(o.reconcile_s >= 0.1 && o.nat_gc_s >= 0.1, "interval below its minimum");
	if (!printable(o.node_name) || !printable(o.peers) || !printable(o.metrics_listen) ||
	    !printable(o.services) || !printable(o.kubeconfig))
		goto out;
	text = print_opts(&o, &len);
	agent_opts_defaults(&o2);
	fd = text_file(text, len, path, sizeof(path));
	err = agent_config_load(&o2, path);
	close(fd);
	oracle(!err, "printed options refused: %s\n%s", error_message(), text);
	oracle(o2.init.given == o.init.given && !strcmp(o2.init.uplink, o.init.uplink) &&
		       !memcmp(&o2.init.pod_cidr, &o.init.pod_cidr, sizeof(struct cidr)) &&
		       !memcmp(&o2.init.cluster_cidr, &o.init.cluster_cidr, sizeof(struct cidr)) &&
		       o2.init.node_ip == o.init.node_ip &&
		       o2.init.nat_port_min == o.init.nat_port_min &&
		       o2.init.nat_port_max == o.init.nat_port_max &&
		       o2.init.nat_max == o.init.nat_max &&
		       o2.init.masquerade == o.init.masquerade &&
		       o2.init.n_nomasq == o.init.n_nomasq &&
		       !memcmp(o2.init.nomasq, o.init.nomasq,
			       o.init.n_nomasq * sizeof(o.init.nomasq[0])) &&
		       o2.init.n_svc_cidr == o.init.n_svc_cidr &&
		       !memcmp(o2.init.svc_cidr, o.init.svc_cidr,
			       o.init.n_svc_cidr * sizeof(o.init.svc_cidr[0])) &&
		       o2.init.bpf_services == o.init.bpf_services,
	       "node init options load otherwise:\n%s", text);
	oracle(same_str(o2.node_name, o.node_name) && same_str(o2.peers, o.peers) &&
		       same_str(o2.services, o.services) &&
		       same_str(o2.kubeconfig, o.kubeconfig) && o2.k8s == o.k8s &&
		       same_str(o2.metrics_listen, o.metrics_listen) &&
		       close_enough(o2.reconcile_s, o.reconcile_s) &&
		       close_enough(o2.nat_gc_s, o.nat_gc_s) &&
		       !memcmp(&o2.timeouts, &o.timeouts, sizeof(o.timeouts)) &&
		       o2.metrics == o.metrics,
	       "agent options load otherwise:\n%s", text);
	agent_opts_free(&o2);
	free(text);
out:
	agent_opts_free(&o);
	error_clear();
	return 0;
}
