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
 *   reconcile-interval = 5
 *
 * Blank lines and '#' comments are ignored; a value may be in double quotes.
 * Flags given on the command line win over the file.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent/agent.h"
#include "lib/log.h"

enum opt_kind { O_STR, O_CIDR, O_IP, O_IFNAME, O_PORTS, O_NATMAX, O_ONOFF,
		O_SECONDS, O_TIMEOUT, O_LIST, O_ADDR };

struct opt_def {
	const char *key;
	enum opt_kind kind;
};

static const struct opt_def defs[] = {
	{ "uplink", O_IFNAME },
	{ "pod-cidr", O_CIDR },
	{ "cluster-cidr", O_CIDR },
	{ "node-ip", O_IP },
	{ "nat-ports", O_PORTS },
	{ "nat-max", O_NATMAX },
	{ "no-masquerade", O_LIST },
	{ "masquerade", O_ONOFF },
	{ "node-name", O_STR },
	{ "peers", O_STR },
	{ "reconcile-interval", O_SECONDS },
	{ "nat-gc-interval", O_SECONDS },
	{ "nat-timeout-tcp-syn", O_TIMEOUT },
	{ "nat-timeout-tcp-established", O_TIMEOUT },
	{ "nat-timeout-tcp-closing", O_TIMEOUT },
	{ "nat-timeout-udp", O_TIMEOUT },
	{ "nat-timeout-icmp", O_TIMEOUT },
	{ "metrics-listen", O_ADDR },
	{ "metrics", O_ONOFF },
};

void agent_opts_defaults(struct agent_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->reconcile_s = 5;
	o->nat_gc_s = 30;
	o->timeouts = nat_default_timeouts;
	o->metrics = 1;
}

static void set_str(const char **slot, const char *v)
{
	free((char *)*slot);
	*slot = v;
}

void agent_opts_free(struct agent_opts *o)
{
	int i;

	set_str(&o->init.uplink, NULL);
	set_str(&o->init.pod_cidr, NULL);
	set_str(&o->init.cluster_cidr, NULL);
	set_str(&o->init.node_ip, NULL);
	set_str(&o->init.nat_ports, NULL);
	set_str(&o->init.nat_max, NULL);
	set_str(&o->init.masquerade, NULL);
	for (i = 0; i < o->init.n_no_masquerade; i++)
		set_str(&o->init.no_masquerade[i], NULL);
	o->init.n_no_masquerade = 0;
	set_str(&o->node_name, NULL);
	set_str(&o->peers, NULL);
	set_str(&o->metrics_listen, NULL);
}

static const char *want(enum opt_kind k)
{
	switch (k) {
	case O_CIDR:
	case O_LIST: return "want a.b.c.d/len with no host bits";
	case O_IP: return "want an IPv4 address";
	case O_IFNAME: return "want an interface name, or auto (the one with the node IP)";
	case O_PORTS: return "want LO-HI with 1 <= LO <= HI <= 65535";
	case O_NATMAX: return "want a number of entries from 16 to 67108864";
	case O_ONOFF: return "want on or off";
	case O_SECONDS: return "want seconds from 0.1 to 86400";
	case O_TIMEOUT: return "want whole seconds from 1 to 2147483647";
	case O_ADDR: return "want IP:PORT, [IPv6]:PORT or :PORT";
	default: return "want a value";
	}
}

static int valid(enum opt_kind k, const char *v)
{
	unsigned long lo, hi;
	struct cidr c;
	uint32_t ip;
	double d;
	char *end;

	if (!*v)
		return 0;
	errno = 0;
	switch (k) {
	case O_CIDR:
	case O_LIST: return cidr_parse(v, &c) == 0;
	case O_IP: return ip_parse(v, &ip) == 0;
	case O_IFNAME: return strlen(v) < IF_NAMESIZE && !strpbrk(v, "/: \t");
	case O_PORTS:
		lo = strtoul(v, &end, 10);
		if (errno || end == v || *end != '-')
			return 0;
		hi = strtoul(end + 1, &end, 10);
		return !errno && !*end && lo >= 1 && lo <= hi && hi <= 65535;
	case O_NATMAX:
		lo = strtoul(v, &end, 10);
		return !errno && !*end && lo >= 16 && lo <= (1ul << 26);
	case O_ONOFF: return !strcmp(v, "on") || !strcmp(v, "off");
	case O_SECONDS:
		d = strtod(v, &end);
		return !errno && !*end && isfinite(d) && d >= 0.1 && d <= 86400;
	case O_TIMEOUT:
		lo = strtoul(v, &end, 10);
		return !errno && !*end && v[0] != '-' && lo >= 1 && lo <= 2147483647ul;
	case O_ADDR: return strrchr(v, ':') && strrchr(v, ':')[1];
	default: return 1;
	}
}

int agent_opt_set(struct agent_opts *o, const char *key, const char *value,
		  int from)
{
	const struct opt_def *d = NULL;
	struct node_init_req *r = &o->init;
	unsigned int t;
	char *v;
	size_t i;

	for (i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (!strcmp(defs[i].key, key))
			d = &defs[i];
	if (!d)
		return errorf_raw(-EINVAL, "unknown key \"%s\"", key);
	if (!valid(d->kind, value))
		return errorf_raw(-EINVAL, "%s%s \"%s\": %s", from == OPT_FROM_CLI ? "--" : "", key,
				  value, want(d->kind));
	v = strdup(value);
	if (!v)
		return errorf(-ENOMEM, "%s", key);
	t = strtoul(value, NULL, 10);

	if (!strcmp(key, "uplink")) set_str(&r->uplink, v);
	else if (!strcmp(key, "pod-cidr")) set_str(&r->pod_cidr, v);
	else if (!strcmp(key, "cluster-cidr")) set_str(&r->cluster_cidr, v);
	else if (!strcmp(key, "node-ip")) set_str(&r->node_ip, v);
	else if (!strcmp(key, "nat-ports")) set_str(&r->nat_ports, v);
	else if (!strcmp(key, "nat-max")) set_str(&r->nat_max, v);
	else if (!strcmp(key, "masquerade")) set_str(&r->masquerade, v);
	else if (!strcmp(key, "node-name")) set_str(&o->node_name, v);
	else if (!strcmp(key, "peers")) set_str(&o->peers, v);
	else if (!strcmp(key, "metrics-listen")) set_str(&o->metrics_listen, v);
	else {
		free(v);
		if (!strcmp(key, "no-masquerade")) {
			/* Flags replace the file's list rather than add to it. */
			if (from == OPT_FROM_CLI && !o->cli_nomasq) {
				o->cli_nomasq = 1;
				for (i = 0; i < (size_t)r->n_no_masquerade; i++)
					set_str(&r->no_masquerade[i], NULL);
				r->n_no_masquerade = 0;
			}
			if (r->n_no_masquerade == BL_MAX_NOMASQ - 1)
				return errorf_raw(-E2BIG, "at most %d no-masquerade prefixes",
						  BL_MAX_NOMASQ - 1);
			r->no_masquerade[r->n_no_masquerade] = strdup(value);
			if (!r->no_masquerade[r->n_no_masquerade])
				return errorf(-ENOMEM, "%s", key);
			r->n_no_masquerade++;
		} else if (!strcmp(key, "reconcile-interval"))
			o->reconcile_s = strtod(value, NULL);
		else if (!strcmp(key, "nat-gc-interval"))
			o->nat_gc_s = strtod(value, NULL);
		else if (!strcmp(key, "nat-timeout-tcp-syn"))
			o->timeouts.tcp_syn = t;
		else if (!strcmp(key, "nat-timeout-tcp-established"))
			o->timeouts.tcp_established = t;
		else if (!strcmp(key, "nat-timeout-tcp-closing"))
			o->timeouts.tcp_closing = t;
		else if (!strcmp(key, "nat-timeout-udp"))
			o->timeouts.udp = t;
		else if (!strcmp(key, "nat-timeout-icmp"))
			o->timeouts.icmp = t;
		else if (!strcmp(key, "metrics"))
			o->metrics = !strcmp(value, "on");
	}
	return 0;
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
