// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `bridgeless metrics serve`: the agent's metrics endpoint on its own, with
 * the agent's counts at zero. For tests and for looking at a node's metrics
 * without running the agent; not in the usage text.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "lib/log.h"
#include "obs/metrics.h"

static const char usage[] =
	"usage: bridgeless metrics serve [--listen ADDR] [--duration S]";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

int cmd_metrics(const struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "duration", required_argument, NULL, 'd' },
		{}
	};
	static struct agent_stats stats;
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	const char *listen = METRICS_LISTEN_DEFAULT;
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	struct sigaction sa = { .sa_handler = on_signal };
	double duration = 0, waited = 0;
	struct metrics *m;
	char *end;
	int opt, err;

	if (argc < 1 || strcmp(argv[0], "serve"))
		return errorf_raw(-EINVAL, "%s", usage);
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			listen = optarg;
			break;
		case 'd':
			duration = strtod(optarg, &end);
			if (end == optarg || *end || !(duration > 0))
				return errorf_raw(-EINVAL, "--duration %s: want seconds > 0", optarg);
			break;
		default:
			return errorf_raw(-EINVAL, "%s", usage);
		}
	}
	if (optind < argc)
		return errorf_raw(-EINVAL, "%s", usage);

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = metrics_start(c, listen, &stats, &lock, &m);
	if (err)
		return err;
	fprintf(stderr, "bridgeless: metrics: serving http://%s/metrics\n", listen);
	while (!stop && !(duration > 0 && waited >= duration)) {
		nanosleep(&tick, NULL);
		waited += 0.1;
	}
	metrics_stop(m);
	return 0;
}
