// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `bridgeless metrics serve`: the agent's metrics endpoint on its own, with
 * the agent's counts at zero. For tests and for looking at a node's metrics
 * without running the agent.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "obs/metrics.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

enum { MET_LISTEN = 1, MET_DURATION };

static const struct opt_def serve_opts[] = {
	{ .name = "listen", .kind = OPT_LISTEN, .id = MET_LISTEN, .arg = "ADDR" },
	{ .name = "duration", .kind = OPT_SECONDS, .id = MET_DURATION, .arg = "S",
	  .min = 0.001, .max = 1e9 },
	{}
};

static int serve_cmd(const struct ctx *c, const struct cli_call *call)
{
	static struct agent_stats stats;
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	const union opt_value *l = cli_opt(call, MET_LISTEN);
	const union opt_value *d = cli_opt(call, MET_DURATION);
	const char *listen = l ? l->str : METRICS_LISTEN_DEFAULT;
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	struct sigaction sa = { .sa_handler = on_signal };
	double duration = d ? d->secs : 0, waited = 0;
	struct metrics *m;
	int err;

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

static const struct cli_cmd serve = { .name = "serve", .run = serve_cmd,
				      .opts = CLI_OPTS(serve_opts) };
const struct cli_cmd cmd_metrics = { .name = "metrics",
				     .sub = (const struct cli_cmd *const[]){ &serve, NULL } };
