/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Logging and error reporting. Functions return -errno; the first place that
 * knows what failed records a message with errorf(), callers add context with
 * error_prefix(), and main() prints the result once as one line.
 */
#ifndef BL_LOG_H
#define BL_LOG_H

#include <stddef.h>

enum log_level { LOG_QUIET = -1 /* tests: nothing */, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* The longest error message kept: a 4095-byte path fits with its context. */
#define ERR_MSG_MAX 8192

extern enum log_level log_level;

void logmsg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define pr_warn(...) logmsg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) logmsg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) logmsg(LOG_DEBUG, __VA_ARGS__)

/*
 * Route libbpf's own messages through our logger. They show from
 * log_libbpf_level on (default: -v); the agent, which logs at info anyway,
 * raises it so libbpf's chatter needs -vv there.
 */
extern enum log_level log_libbpf_level;
void log_setup_libbpf(void);

/*
 * Record "<message>: <strerror(-err)>" as the current error and return err.
 * errorf_raw() records the message as it is (for messages that already name
 * the cause, like a kernel extended ack).
 */
int errorf(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int errorf_raw(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prepend "<context>: " to the current error; returns err. */
int error_prefix(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *error_message(void);
void error_clear(void);

/*
 * src with control characters written as \n, \t, \r or \xNN, so a name
 * from outside cannot start a line of its own in a log; truncated to fit
 * size (at least 1). Returns the length written. Log lines (logmsg, the
 * CLI's error line, the CNI log) all go through it.
 */
size_t str_escape(char *dst, size_t size, const char *src);

#endif
