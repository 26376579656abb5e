// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `bridgeless service list [--json]`: the service table the agent keeps
 * (STATE/services.json), one line per service port with its ready backends
 * and, where services are load-balanced in BPF, what the datapath holds
 * for it (the backends in use) and did (new connections, refusals,
 * packets); --json prints the table as it is saved, each port with a
 * "datapath" object beside.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <sys/socket.h>
#include "cli/cli.h"
#include "lib/log.h"
#include "datapath/services.h"
#include "node/services.h"

/* The frontends in the BPF maps, by key; none where the node has none. */
struct frontends {
	struct dp_frontend_state *v;
	size_t n, cap;
};

static int collect(const struct dp_frontend_state *st, void *data)
{
	struct frontends *f = data;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct dp_frontend_state *nv = realloc(f->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		f->v = nv;
		f->cap = cap;
	}
	f->v[f->n++] = *st;
	return 0;
}

static const struct dp_frontend_state *find(const struct frontends *f, const struct ipaddr *ip,
					    const struct svc_port *p)
{
	size_t i;

	if (ip->family != AF_INET)
		return NULL;
	for (i = 0; i < f->n; i++)
		if (!memcmp(f->v[i].key.addr, ip->a, 4) && f->v[i].key.port == p->def.port &&
		    f->v[i].key.proto == p->def.protocol)
			return &f->v[i];
	return NULL;
}

static json_t *datapath_json(const struct dp_frontend_state *fs)
{
	json_t *be = json_array(), *o;
	char ip[16], ep[32];
	uint32_t a;
	unsigned int i;

	for (i = 0; i < fs->n_be; i++) {
		memcpy(&a, fs->be[i].addr, 4);
		snprintf(ep, sizeof(ep), "%s:%u", ip_str(a, ip), fs->be[i].port);
		json_array_append_new(be, json_string(ep));
	}
	o = json_pack("{s:i, s:i, s:o, s:b, s:b, s:I, s:I, s:I, s:I}", "id", fs->svc.id,
		      "revision", fs->svc.rev, "backends", be, "terminating",
		      !!(fs->svc.flags & BL_SVC_TERMINATING), "local_only",
		      !!(fs->svc.flags & BL_SVC_LOCAL), "connections",
		      (json_int_t)fs->stats.flows, "refused", (json_int_t)fs->stats.refused,
		      "packets", (json_int_t)fs->stats.packets, "bytes",
		      (json_int_t)fs->stats.bytes);
	if (o && fs->svc.affinity_s)
		json_object_set_new(o, "affinity_timeout", json_integer(fs->svc.affinity_s));
	return o;
}

/* Each port of each service in arr gets the "datapath" of its first cluster IP. */
static void add_datapath(json_t *arr, const struct svc_table *t, const struct frontends *f)
{
	size_t i, k;

	for (i = 0; i < t->n && i < json_array_size(arr); i++) {
		json_t *ports = json_object_get(json_array_get(arr, i), "ports");

		for (k = 0; k < t->v[i].n_ports && t->v[i].n_ips; k++) {
			const struct dp_frontend_state *fs =
				find(f, &t->v[i].ips[0], &t->v[i].ports[k]);

			if (fs)
				json_object_set_new(json_array_get(ports, k), "datapath",
						    datapath_json(fs));
		}
	}
}

static void print_port(const struct service *s, const struct svc_port *p, int first,
		       const struct frontends *f)
{
	const struct dp_frontend_state *fs = s->n_ips ? find(f, &s->ips[0], p) : NULL;
	char name[300], ip[IPADDR_STRLEN], port[32];
	size_t b, ready = 0;

	snprintf(name, sizeof(name), "%s/%s", s->ns, s->name);
	snprintf(port, sizeof(port), "%u/%s%s%s", p->def.port, svc_protocol_name(p->def.protocol),
		 *p->def.name ? " " : "", p->def.name);
	printf("%-32s %-16s %-20s", first ? name : "", !first ? "" :
	       s->n_ips ? ipaddr_str(&s->ips[0], ip) : "-", port);
	for (b = 0; b < p->n_backends; b++) {
		const struct svc_backend *be = &p->backends[b];

		if (!be->ready)
			continue;
		printf(" %s%s%s:%u", be->addr.family == AF_INET6 ? "[" : "",
		       ipaddr_str(&be->addr, ip), be->addr.family == AF_INET6 ? "]" : "", be->port);
		ready++;
	}
	printf("%s(%zu of %zu ready)", ready ? "  " : " ", ready, p->n_backends);
	if (fs)
		printf("  bpf: %u in use%s, %llu conns, %llu refused", fs->svc.count,
		       fs->svc.flags & BL_SVC_TERMINATING ? " (terminating)" : "",
		       (unsigned long long)fs->stats.flows,
		       (unsigned long long)fs->stats.refused);
	putchar('\n');
}

static int service_list_cmd(const struct ctx *c, const struct cli_call *call)
{
	struct frontends f = {};
	struct svc_table t;
	size_t i, k;
	json_t *arr;
	int err;

	err = svc_table_load(c, &t);
	if (err == -ENOENT)
		return errorf_raw(-ENOENT,
				  "service list: no service table in %s (the agent keeps one with --services FILE or the Kubernetes API)",
				  c->state_dir);
	if (err)
		return error_prefix(err, "service list");
	/* no BPF services here (not initialized, or kube-proxy's): the table alone */
	if (dp_services_foreach(c, collect, &f))
		f.n = 0;
	error_clear();
	if (cli_opt(call, CLI_JSON)) {
		arr = svc_table_to_json(&t);
		if (arr)
			add_datapath(arr, &t, &f);
		svc_table_free(&t);
		free(f.v);
		if (!arr)
			return errorf(-ENOMEM, "service list");
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
		return 0;
	}
	printf("%-32s %-16s %-20s %s\n", "NAMESPACE/NAME", "CLUSTER-IP", "PORT",
	       "READY BACKENDS");
	for (i = 0; i < t.n; i++) {
		for (k = 0; k < t.v[i].n_ports; k++)
			print_port(&t.v[i], &t.v[i].ports[k], !k, &f);
		if (!t.v[i].n_ports) {
			char name[300], ip[IPADDR_STRLEN];

			snprintf(name, sizeof(name), "%s/%s", t.v[i].ns, t.v[i].name);
			printf("%-32s %-16s (no ports)\n", name,
			       t.v[i].n_ips ? ipaddr_str(&t.v[i].ips[0], ip) : "-");
		}
	}
	svc_table_free(&t);
	free(f.v);
	return 0;
}

static const struct cli_cmd list = { .name = "list", .run = service_list_cmd,
				     .opts = CLI_OPTS(cli_json_opts) };
const struct cli_cmd cmd_service = { .name = "service",
				     .sub = (const struct cli_cmd *const[]){ &list, NULL } };
