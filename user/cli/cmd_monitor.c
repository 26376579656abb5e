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

static const char usage[] =
	"usage: bridgeless monitor [--json] [--trace[=N]] [--count N] [--duration S]";

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

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || *s == '-' || *out > max ? -EINVAL : 0;
}

int cmd_monitor(const struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "trace", optional_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{}
	};
	struct monitor_opts o = {};
	unsigned long rate = 0;
	char *end;
	int opt, err, err2;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			o.json = 1;
			break;
		case 't':
			rate = 1;
			if (optarg && (parse_ulong(optarg, UINT32_MAX, &rate) || !rate))
				return errorf_raw(-EINVAL,
						  "--trace=%s: want a sampling rate N >= 1 (1 in N forwarded packets)",
						  optarg);
			break;
		case 'n':
			if (parse_ulong(optarg, ~0ul, &o.count) || !o.count)
				return errorf_raw(-EINVAL, "--count %s: want a number >= 1", optarg);
			break;
		case 'd':
			o.duration_s = strtod(optarg, &end);
			if (end == optarg || *end || !(o.duration_s > 0))
				return errorf_raw(-EINVAL, "--duration %s: want seconds > 0", optarg);
			break;
		default:
			return errorf_raw(-EINVAL, "%s", usage);
		}
	}
	if (optind < argc)
		return errorf_raw(-EINVAL, "%s", usage);

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
