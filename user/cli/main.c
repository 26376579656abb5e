// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "lib/log.h"

static const struct cli_cmd *const commands[] = {
	&cmd_node, &cmd_pod, &cmd_nat, &cmd_service, &cmd_stats, &cmd_monitor,
	&cmd_cni, &cmd_agent, &cmd_metrics, NULL,
};

static void usage(FILE *f)
{
	fputs("usage: bridgeless [--pin-dir DIR] [--state-dir DIR] [-v] COMMAND\n", f);
	cli_usage_all(f, commands);
	fputs("defaults: --pin-dir " PIN_DIR_DEFAULT " (env BRIDGELESS_PIN_DIR),\n"
	      "          --state-dir " STATE_DIR_DEFAULT " (env BRIDGELESS_STATE_DIR),\n"
	      "          env BRIDGELESS_LOCK_TIMEOUT=S: wait at most S for the state lock (default 60)\n"
	      "COMMAND --help shows one command's usage\n",
	      f);
}

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
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	log_setup_libbpf();
	err = cli_run(&c, commands, argc - optind, argv + optind);
	if (err) {
		char line[ERR_MSG_MAX * 4];

		/* One line, whatever the names in it hold. */
		str_escape(line, sizeof(line), error_message());
		fprintf(stderr, "bridgeless: %s\n", line);
		return 1;
	}
	return 0;
}
