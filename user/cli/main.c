// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "lib/log.h"

static const char usage[] =
	"usage: bridgeless [--pin-dir DIR] [--state-dir DIR] [-v] COMMAND\n"
	"  node init --uplink DEV --pod-cidr CIDR [--cluster-cidr CIDR] [--node-ip IP]\n"
	"            [--nat-ports LO-HI] [--nat-max N] [--no-masquerade CIDR]...\n"
	"            [--masquerade on|off]\n"
	"  node status [--json]\n"
	"  node reset\n"
	"  pod add NAME --netns NETNS [--ip IP] [--ifname IFNAME]\n"
	"  pod del NAME\n"
	"  pod list [--json]\n"
	"  nat list [--json]\n"
	"  nat gc\n"
	"  stats [--json]\n"
	"  monitor [--json] [--trace[=N]] [--count N] [--duration S]\n"
	"  cni install [--bin-dir /opt/cni/bin] [--conf-dir /etc/cni/net.d] [--pod-cidr CIDR]\n"
	"  agent [--config FILE] [node init flags] [--node-name NAME] [--peers FILE]\n"
	"        [--reconcile-interval S] [--nat-gc-interval S] [--nat-timeout-PROTO S]...\n"
	"        [--metrics-listen HOST:PORT] [--metrics on|off] [--once]   (agent --help)\n"
	"defaults: --pin-dir /sys/fs/bpf/bridgeless (env BRIDGELESS_PIN_DIR),\n"
	"          --state-dir /var/lib/bridgeless (env BRIDGELESS_STATE_DIR)\n";

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct ctx c = {
		.pin_dir = env_or("BRIDGELESS_PIN_DIR", PIN_DIR_DEFAULT),
		.state_dir = env_or("BRIDGELESS_STATE_DIR", STATE_DIR_DEFAULT),
	};
	int opt, err;

	/* '+': stop at the command, whose options are its own. */
	while ((opt = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'P': c.pin_dir = optarg; break;
		case 'S': c.state_dir = optarg; break;
		case 'v': log_level = log_level < LOG_DEBUG ? log_level + 1 : LOG_DEBUG; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	log_setup_libbpf();
	argc -= optind;
	argv += optind;
	optind = 0; /* restart getopt for the subcommand */

	if (!strcmp(argv[0], "node"))
		err = cmd_node(&c, argc - 1, argv + 1);
	else if (!strcmp(argv[0], "pod"))
		err = cmd_pod(&c, argc - 1, argv + 1);
	else if (!strcmp(argv[0], "nat"))
		err = cmd_nat(&c, argc - 1, argv + 1);
	else if (!strcmp(argv[0], "stats"))
		err = cmd_stats(&c, argc, argv);
	else if (!strcmp(argv[0], "cni"))
		err = cmd_cni(&c, argc - 1, argv + 1);
	else if (!strcmp(argv[0], "monitor"))
		err = cmd_monitor(&c, argc, argv);
	else if (!strcmp(argv[0], "metrics"))
		err = cmd_metrics(&c, argc - 1, argv + 1);
	else if (!strcmp(argv[0], "agent"))
		err = cmd_agent(&c, argc, argv);
	else
		err = errorf_raw(-EINVAL, "unknown command \"%s\" (try --help)", argv[0]);
	if (err) {
		fprintf(stderr, "bridgeless: %s\n", error_message());
		return 1;
	}
	return 0;
}
