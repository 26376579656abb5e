// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `bridgeless agent [flags]`: options from the config file, flags on top. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "agent/agent.h"
#include "cli/cli.h"
#include "lib/log.h"

static const char agent_usage[] =
	"usage: bridgeless agent [--config FILE] [--once]\n"
	"         [--uplink DEV|auto] [--pod-cidr CIDR] [--cluster-cidr CIDR] [--node-ip IP]\n"
	"         [--nat-ports LO-HI] [--nat-max N] [--no-masquerade CIDR]... [--masquerade on|off]\n"
	"         [--node-name NAME] [--peers FILE] [--reconcile-interval S] [--nat-gc-interval S]\n"
	"         [--nat-timeout-tcp-syn S] [--nat-timeout-tcp-established S]\n"
	"         [--nat-timeout-tcp-closing S] [--nat-timeout-udp S] [--nat-timeout-icmp S]\n"
	"         [--metrics-listen HOST:PORT] [--metrics on|off]";

/* Every option but --config and --once is a config file key of the same name. */
static const struct option opts[] = {
	{ "config", required_argument, NULL, 'C' },
	{ "once", no_argument, NULL, '1' },
	{ "help", no_argument, NULL, 'h' },
	{ "uplink", required_argument, NULL, 0 },
	{ "pod-cidr", required_argument, NULL, 0 },
	{ "cluster-cidr", required_argument, NULL, 0 },
	{ "node-ip", required_argument, NULL, 0 },
	{ "nat-ports", required_argument, NULL, 0 },
	{ "nat-max", required_argument, NULL, 0 },
	{ "no-masquerade", required_argument, NULL, 0 },
	{ "masquerade", required_argument, NULL, 0 },
	{ "node-name", required_argument, NULL, 0 },
	{ "peers", required_argument, NULL, 0 },
	{ "reconcile-interval", required_argument, NULL, 0 },
	{ "nat-gc-interval", required_argument, NULL, 0 },
	{ "nat-timeout-tcp-syn", required_argument, NULL, 0 },
	{ "nat-timeout-tcp-established", required_argument, NULL, 0 },
	{ "nat-timeout-tcp-closing", required_argument, NULL, 0 },
	{ "nat-timeout-udp", required_argument, NULL, 0 },
	{ "nat-timeout-icmp", required_argument, NULL, 0 },
	{ "metrics-listen", required_argument, NULL, 0 },
	{ "metrics", required_argument, NULL, 0 },
	{}
};

#define MAX_FLAGS 256

int cmd_agent(const struct ctx *c, int argc, char **argv)
{
	const char *keys[MAX_FLAGS], *values[MAX_FLAGS];
	const char *config = NULL;
	struct agent_opts o;
	int opt, idx, n = 0, once = 0, err, i;

	while ((opt = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		switch (opt) {
		case 'C': config = optarg; break;
		case '1': once = 1; break;
		case 'h': puts(agent_usage); return 0;
		case 0:
			if (n == MAX_FLAGS)
				return errorf_raw(-E2BIG, "agent: too many flags");
			keys[n] = opts[idx].name;
			values[n++] = optarg;
			break;
		default:
			return errorf_raw(-EINVAL, "usage: bridgeless agent [FLAGS] (bridgeless agent --help lists them)");
		}
	}
	if (optind < argc)
		return errorf_raw(-EINVAL, "agent: unexpected argument \"%s\"", argv[optind]);

	/* Repairs and events are info; libbpf's own chatter only with -vv. */
	if (log_level < LOG_INFO)
		log_level = LOG_INFO;
	log_libbpf_level = LOG_DEBUG;
	agent_opts_defaults(&o);
	o.once = once;
	err = agent_config_load(&o, config ?: AGENT_CONFIG_DEFAULT);
	/* The default file is optional; one that was asked for is not. */
	if (err == -ENOENT && !config) {
		error_clear();
		err = 0;
	} else if (!err) {
		pr_info("agent: read %s", config ?: AGENT_CONFIG_DEFAULT);
	}
	for (i = 0; !err && i < n; i++)
		err = agent_opt_set(&o, keys[i], values[i], OPT_FROM_CLI);
	if (!err)
		err = agent_run(c, &o);
	agent_opts_free(&o);
	return err ? error_prefix(err, "agent") : 0;
}
