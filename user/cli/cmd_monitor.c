// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "lib/log.h"
#include "obs/monitor.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

/* No SA_RESTART: the signal must end the wait for events. */
static void signals_setup(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A closed pipe ends the monitor through a write error, not a kill. */
	signal(SIGPIPE, SIG_IGN);
}

enum { MON_TRACE = 1, MON_COUNT, MON_DURATION };

static const struct opt_def monitor_opts[] = {
	{ .name = "json", .kind = OPT_FLAG, .id = CLI_JSON },
	{ .name = "trace", .kind = OPT_UINT, .id = MON_TRACE, .arg = "N",
	  .flags = OPT_VALUE_OPTIONAL, .min = 1, .max = UINT32_MAX,
	  .unit = "a sampling rate N (1 in N forwarded packets)" },
	{ .name = "count", .kind = OPT_UINT, .id = MON_COUNT, .arg = "N", .min = 1,
	  .max = 1e15, .unit = "a number of events" },
	{ .name = "duration", .kind = OPT_SECONDS, .id = MON_DURATION, .arg = "S",
	  .min = 0.001, .max = 1e9 },
	{}
};

static int monitor_cmd(const struct ctx *c, const struct cli_call *call)
{
	const union opt_value *trace = cli_opt(call, MON_TRACE);
	const union opt_value *count = cli_opt(call, MON_COUNT);
	const union opt_value *duration = cli_opt(call, MON_DURATION);
	struct monitor_opts o = { .json = !!cli_opt(call, CLI_JSON) };
	uint32_t rate = trace ? trace->u : 0;
	int err, err2;

	o.count = count ? count->u : 0;
	o.duration_s = duration ? duration->secs : 0;
	signals_setup();
	if (rate) {
		err = trace_set(c, rate);
		if (err)
			return error_prefix(err, "monitor");
	}
	err = monitor_run(c, &o, &stop);
	/* Tracing costs the forward path: never leave it on behind us. */
	if (rate) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", error_message());
		err2 = trace_set(c, 0);
		if (err2 && !err)
			return error_prefix(err2, "monitor: turn tracing off");
		if (err2) {
			pr_warn("monitor: turn tracing off: %s", error_message());
			errorf_raw(err, "%s", msg);
		}
	}
	return err ? error_prefix(err, "monitor") : 0;
}

const struct cli_cmd cmd_monitor = { .name = "monitor", .run = monitor_cmd,
				     .opts = CLI_OPTS(monitor_opts) };
