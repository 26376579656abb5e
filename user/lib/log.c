// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "lib/log.h"

enum log_level log_level = LOG_WARN;
enum log_level log_libbpf_level = LOG_INFO;

/*
 * Per thread: the metrics server answers scrapes beside the agent's work.
 * Room for a 4095-byte path and a pod name with their context; a longer
 * message loses its middle, never its end, which names the cause.
 */
static __thread char errbuf[ERR_MSG_MAX];

static const char *level_name[] = { "warn", "info", "debug" };

size_t str_escape(char *dst, size_t size, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (!size)
		return 0;
	for (; *src; src++) {
		unsigned char ch = *src;
		char esc[5];
		size_t k;

		if (ch >= 0x20 && ch != 0x7f) {
			esc[0] = ch;
			k = 1;
		} else if (ch == '\n' || ch == '\t' || ch == '\r') {
			esc[0] = '\\';
			esc[1] = ch == '\n' ? 'n' : ch == '\t' ? 't' : 'r';
			k = 2;
		} else {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[ch >> 4];
			esc[3] = hex[ch & 15];
			k = 4;
		}
		if (n + k >= size)
			break;
		memcpy(dst + n, esc, k);
		n += k;
	}
	dst[n] = 0;
	return n;
}

/* One write per line: the agent's threads must not interleave their lines. */
void logmsg(enum log_level level, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX + 512], line[sizeof(msg) + 64];
	va_list ap;
	size_t n;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Names from outside (pods, netns paths, CNI input) forge no lines. */
	n = snprintf(line, sizeof(line), "bridgeless: %s: ", level_name[level]);
	n += str_escape(line + n, sizeof(line) - n - 1, msg);
	line[n++] = '\n';
	line[n] = 0;
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

/*
 * head + sep + tail into out. Where it does not fit, head keeps at most
 * half the room and tail the rest, each cut in the middle with "...": the
 * end of the tail is the cause, the start of the head the object.
 */
static void join(char *out, size_t size, const char *head, const char *sep,
		 const char *tail)
{
	size_t lh = strlen(head), ls = strlen(sep), lt = strlen(tail);
	size_t room = size - 1, keep_h, keep_t;
	char *p = out;

	if (lh + ls + lt <= room) {
		memmove(p, head, lh);
		memcpy(p + lh, sep, ls);
		memmove(p + lh + ls, tail, lt + 1);
		return;
	}
	keep_h = lh <= room / 2 ? lh : room / 2 - 3;
	keep_t = room - keep_h - ls - (keep_h < lh ? 3 : 0) - 3;
	if (keep_t > lt)
		keep_t = lt;
	/* tail may live in out (error_prefix): place it first, from its end */
	{
		char t[ERR_MSG_MAX];

		snprintf(t, sizeof(t), "%s", tail + lt - keep_t);
		memmove(p, head, keep_h);
		p += keep_h;
		if (keep_h < lh) {
			memcpy(p, "...", 3);
			p += 3;
		}
		memcpy(p, sep, ls);
		p += ls;
		if (keep_t < lt) {
			memcpy(p, "...", 3);
			p += 3;
		}
		memcpy(p, t, keep_t + 1);
	}
}

static int verrorf(int err, int with_cause, const char *fmt, va_list ap)
{
	char msg[ERR_MSG_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_cause)
		join(errbuf, sizeof(errbuf), msg, ": ", strerror(-err));
	else
		snprintf(errbuf, sizeof(errbuf), "%s", msg);
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
	char old[sizeof(errbuf)], head[sizeof(errbuf)];
	va_list ap;

	if (!errbuf[0])
		snprintf(errbuf, sizeof(errbuf), "%s", strerror(-err));
	memcpy(old, errbuf, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	join(errbuf, sizeof(errbuf), head, ": ", old);
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
