// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "lib/log.h"

enum log_level log_level = LOG_WARN;
enum log_level log_libbpf_level = LOG_INFO;

/* Per thread: the metrics server answers scrapes beside the agent's work. */
static __thread char errbuf[1024];

static const char *level_name[] = { "warn", "info", "debug" };

/* One write per line: the agent's threads must not interleave their lines. */
void logmsg(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	if (level > log_level)
		return;
	n = snprintf(line, sizeof(line), "bridgeless: %s: ", level_name[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	fputs(line, stderr);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG && log_level < LOG_DEBUG)
		return 0;
	if (level == LIBBPF_INFO && log_level < LOG_INFO)
		return 0;
	/* libbpf warns about failures we report ourselves; show them only with -v */
	if (log_level < log_libbpf_level)
		return 0;
	fprintf(stderr, "bridgeless: libbpf: ");
	return vfprintf(stderr, fmt, ap);
}

void log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}

static int verrorf(int err, int with_cause, const char *fmt, va_list ap)
{
	int n = vsnprintf(errbuf, sizeof(errbuf), fmt, ap);

	if (with_cause && n >= 0 && (size_t)n < sizeof(errbuf))
		snprintf(errbuf + n, sizeof(errbuf) - n, ": %s", strerror(-err));
	return err;
}

int errorf(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrorf(err, 1, fmt, ap);
	va_end(ap);
	return err;
}

int errorf_raw(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrorf(err, 0, fmt, ap);
	va_end(ap);
	return err;
}

int error_prefix(int err, const char *fmt, ...)
{
	char old[sizeof(errbuf)];
	va_list ap;
	int n;

	if (!errbuf[0])
		snprintf(errbuf, sizeof(errbuf), "%s", strerror(-err));
	memcpy(old, errbuf, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(errbuf))
		snprintf(errbuf + n, sizeof(errbuf) - n, ": %s", old);
	return err;
}

const char *error_message(void)
{
	return errbuf;
}

void error_clear(void)
{
	errbuf[0] = 0;
}
