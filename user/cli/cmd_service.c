// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `bridgeless service list [--json]`: the service table the agent keeps
 * (STATE/services.json), one line per service port with its ready backends;
 * --json prints the table as it is saved.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include <sys/socket.h>
#include "cli/cli.h"
#include "lib/log.h"
#include "node/services.h"

static void print_port(const struct service *s, const struct svc_port *p, int first)
{
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
	printf("%s(%zu of %zu ready)\n", ready ? "  " : " ", ready, p->n_backends);
}

static int service_list_cmd(const struct ctx *c, const struct cli_call *call)
{
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
	if (cli_opt(call, CLI_JSON)) {
		arr = svc_table_to_json(&t);
		svc_table_free(&t);
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
			print_port(&t.v[i], &t.v[i].ports[k], !k);
		if (!t.v[i].n_ports) {
			char name[300], ip[IPADDR_STRLEN];

			snprintf(name, sizeof(name), "%s/%s", t.v[i].ns, t.v[i].name);
			printf("%-32s %-16s (no ports)\n", name,
			       t.v[i].n_ips ? ipaddr_str(&t.v[i].ips[0], ip) : "-");
		}
	}
	svc_table_free(&t);
	return 0;
}

static const struct cli_cmd list = { .name = "list", .run = service_list_cmd,
				     .opts = CLI_OPTS(cli_json_opts) };
const struct cli_cmd cmd_service = { .name = "service",
				     .sub = (const struct cli_cmd *const[]){ &list, NULL } };
