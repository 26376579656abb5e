// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The agent's options, from flags and from its config file. The file says
 * `key = value`, one a line, with the long flag names as keys:
 *
 *   # /etc/bridgeless/agent.conf
 *   uplink = eth0
 *   pod-cidr = 10.244.1.0/24
 *   cluster-cidr = 10.244.0.0/16
 *   no-masquerade = 192.168.0.0/16     # may be repeated
 *   peers = /run/bridgeless/peers.json
 *   kubeconfig = /etc/kubernetes/bridgeless.conf
 *   reconcile-interval = 5
 *
 * Blank lines and '#' comments are ignored; a value may be in double quotes.
 * Flags given on the command line win over the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent/agent.h"
#include "lib/log.h"

enum agent_opt_id {
	A_NODE_NAME = 1, A_PEERS, A_RECONCILE, A_NAT_GC, A_TO_TCP_SYN,
	A_TO_TCP_ESTABLISHED, A_TO_TCP_CLOSING, A_TO_UDP, A_TO_ICMP,
	A_METRICS_LISTEN, A_METRICS, A_SERVICES, A_KUBECONFIG, A_K8S,
};

#define TIMEOUT(key, i)                                                       \
	{ .name = key, .kind = OPT_UINT, .id = i, .arg = "S", .min = 1,         \
	  .max = 2147483647, .unit = "whole seconds" }
const struct opt_def agent_opts_table[] = {
	{ .name = "node-name", .kind = OPT_STRING, .id = A_NODE_NAME, .arg = "NAME" },
	{ .name = "peers", .kind = OPT_PATH, .id = A_PEERS, .arg = "FILE" },
	{ .name = "services", .kind = OPT_PATH, .id = A_SERVICES, .arg = "FILE" },
	{ .name = "kubeconfig", .kind = OPT_PATH, .id = A_KUBECONFIG, .arg = "FILE" },
	{ .name = "k8s", .kind = OPT_STRING, .id = A_K8S, .arg = "on|off|auto" },
	{ .name = "reconcile-interval", .kind = OPT_SECONDS, .id = A_RECONCILE,
	  .arg = "S", .min = 0.1, .max = 86400 },
	{ .name = "nat-gc-interval", .kind = OPT_SECONDS, .id = A_NAT_GC, .arg = "S",
	  .min = 0.1, .max = 86400 },
	TIMEOUT("nat-timeout-tcp-syn", A_TO_TCP_SYN),
	TIMEOUT("nat-timeout-tcp-established", A_TO_TCP_ESTABLISHED),
	TIMEOUT("nat-timeout-tcp-closing", A_TO_TCP_CLOSING),
	TIMEOUT("nat-timeout-udp", A_TO_UDP),
	TIMEOUT("nat-timeout-icmp", A_TO_ICMP),
	{ .name = "metrics-listen", .kind = OPT_LISTEN, .id = A_METRICS_LISTEN,
	  .arg = "HOST:PORT" },
	{ .name = "metrics", .kind = OPT_ONOFF, .id = A_METRICS, .arg = "on|off" },
	{}
};

void agent_opts_defaults(struct agent_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->reconcile_s = 5;
	o->nat_gc_s = 30;
	o->timeouts = nat_default_timeouts;
	o->metrics = 1;
}

void agent_opts_free(struct agent_opts *o)
{
	free(o->node_name);
	free(o->peers);
	free(o->metrics_listen);
	free(o->services);
	free(o->kubeconfig);
	o->node_name = o->peers = o->metrics_listen = o->services = o->kubeconfig = NULL;
}

static int set_str(char **slot, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return errorf(-ENOMEM, "option");
	free(*slot);
	*slot = s;
	return 0;
}

static int set_k8s(struct agent_opts *o, const char *v, enum opt_source from)
{
	if (!strcmp(v, "auto"))
		o->k8s = AGENT_K8S_AUTO;
	else if (!strcmp(v, "on"))
		o->k8s = AGENT_K8S_ON;
	else if (!strcmp(v, "off"))
		o->k8s = AGENT_K8S_OFF;
	else
		return errorf_raw(-EINVAL, "%sk8s \"%s\": want on, off or auto",
				  from == OPT_FROM_CLI ? "--" : "", v);
	return 0;
}

int agent_opt_apply(struct agent_opts *o, const struct opt_def *d,
		    const union opt_value *v, enum opt_source from)
{
	if (opt_find(node_init_opts, d->name) == d) {
		/* Flags replace the file's list rather than add to it. */
		int fresh = from == OPT_FROM_CLI && !o->cli_nomasq;

		if (d->id == NI_NOMASQ && from == OPT_FROM_CLI)
			o->cli_nomasq = 1;
		return node_init_set(&o->init, d, v, &fresh);
	}
	switch (d->id) {
	case A_NODE_NAME: return set_str(&o->node_name, v->str);
	case A_PEERS: return set_str(&o->peers, v->str);
	case A_SERVICES: return set_str(&o->services, v->str);
	case A_KUBECONFIG: return set_str(&o->kubeconfig, v->str);
	case A_K8S: return set_k8s(o, v->str, from);
	case A_METRICS_LISTEN: return set_str(&o->metrics_listen, v->str);
	case A_RECONCILE: o->reconcile_s = v->secs; break;
	case A_NAT_GC: o->nat_gc_s = v->secs; break;
	case A_TO_TCP_SYN: o->timeouts.tcp_syn = v->u; break;
	case A_TO_TCP_ESTABLISHED: o->timeouts.tcp_established = v->u; break;
	case A_TO_TCP_CLOSING: o->timeouts.tcp_closing = v->u; break;
	case A_TO_UDP: o->timeouts.udp = v->u; break;
	case A_TO_ICMP: o->timeouts.icmp = v->u; break;
	case A_METRICS: o->metrics = v->on; break;
	default: return errorf_raw(-EINVAL, "%s: not an agent option", d->name);
	}
	return 0;
}

int agent_opt_set(struct agent_opts *o, const char *key, const char *value,
		  enum opt_source from)
{
	const struct opt_def *d;
	union opt_value v;
	int err;

	d = opt_find(node_init_opts, key) ?: opt_find(agent_opts_table, key);
	if (!d)
		return errorf_raw(-EINVAL, "unknown key \"%s\"", key);
	err = opt_parse(d, value, from, &v);
	return err ?: agent_opt_apply(o, d, &v, from);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && strchr(" \t\r\n", e[-1]))
		*--e = 0;
	return s;
}

/* '#' at the start or after a blank starts a comment; not inside quotes. */
static void strip_comment(char *s)
{
	int quoted = 0;
	char *p;

	for (p = s; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '#' && !quoted && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = 0;
			return;
		}
	}
}

static int parse_line(struct agent_opts *o, char *line)
{
	char *eq, *key, *value;
	size_t n;

	strip_comment(line);
	line = trim(line);
	if (!*line)
		return 0;
	eq = strchr(line, '=');
	if (!eq)
		return errorf_raw(-EINVAL, "expected `key = value`, got \"%s\"", line);
	*eq = 0;
	key = trim(line);
	value = trim(eq + 1);
	if (!*key)
		return errorf_raw(-EINVAL, "no key before '='");
	n = strlen(value);
	if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
		value[n - 1] = 0;
		value++;
	} else if (strchr(value, '"')) {
		return errorf_raw(-EINVAL, "%s: unbalanced quote in \"%s\"", key, value);
	}
	if (!*value)
		return errorf_raw(-EINVAL, "%s: no value", key);
	return agent_opt_set(o, key, value, OPT_FROM_FILE);
}

int agent_config_load(struct agent_opts *o, const char *path)
{
	char line[4096];
	int lineno = 0, err = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return errorf(-errno, "config file %s", path);
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			err = errorf_raw(-EINVAL, "%s: line %d: line too long", path, lineno);
			break;
		}
		err = parse_line(o, line);
		if (err) {
			error_prefix(err, "%s: line %d", path, lineno);
			break;
		}
	}
	if (!err && ferror(f))
		err = errorf(-EIO, "read %s", path);
	fclose(f);
	return err;
}
