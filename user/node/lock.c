// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The state lock: flock() on STATE/lock. Every wait for it is bounded, and
 * whoever holds it writes its pid and command line into the file, so that
 * a command that gives up can say who it waited for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/number.h"
#include "node/state.h"

#define LOCK_TIMEOUT_DEFAULT 60.0

static char holder_note[160];

void state_lock_describe(const char *what)
{
	snprintf(holder_note, sizeof(holder_note), "%s", what);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "pid 123 (bridgeless pod add web-1) since 2026-11-23T07:10:59Z" */
static void write_holder(int fd)
{
	char cmd[256] = "", line[512], when[64];
	struct tm tm;
	time_t t = time(NULL);
	ssize_t n;
	int f, i;

	f = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (f >= 0) {
		n = read(f, cmd, sizeof(cmd) - 1);
		close(f);
		for (i = 0; i < n; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		cmd[n > 0 ? n : 0] = 0;
		if (n > 0 && cmd[n - 1] == ' ')
			cmd[n - 1] = 0;
	}
	gmtime_r(&t, &tm);
	/* By hand: strftime() reads the time zone file, every lock. */
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	n = snprintf(line, sizeof(line), "pid %d (%s%s%s) since %s\n", getpid(), cmd,
		     holder_note[0] ? ": " : "", holder_note, when);
	/* A hint for the next waiter: failing to write it changes nothing. */
	if (ftruncate(fd, 0) == 0 && pwrite(fd, line, n, 0) < 0)
		pr_debug("state lock: could not record the holder");
}

static void read_holder(int fd, char *buf, size_t len)
{
	char raw[512], *nl;
	ssize_t n = pread(fd, raw, sizeof(raw) - 1, 0);

	raw[n > 0 ? n : 0] = 0;
	nl = strchr(raw, '\n');
	if (nl)
		*nl = 0;
	snprintf(buf, len, "%s", raw[0] ? raw : "a process that did not say who it is");
}

static double default_timeout(void)
{
	const char *v = getenv("BRIDGELESS_LOCK_TIMEOUT");
	double t;

	if (v && *v && num_parse_decimal(v, 0.001, 86400, &t) == 0)
		return t;
	return LOCK_TIMEOUT_DEFAULT;
}

int state_lock_wait(const struct ctx *c, double timeout_s)
{
	char path[PATH_MAX], holder[512];
	double deadline = now_s() + timeout_s;
	long sleep_us = 1000;
	int fd, err;

	err = mkdir_p(c->state_dir, 0700);
	if (err)
		return error_prefix(err, "state dir");
	snprintf(path, sizeof(path), "%s/lock", c->state_dir);
	fd = open_nofollow(path, O_RDWR | O_CREAT, 0600);
	if (fd == -ELOOP)
		return errorf_raw(-ELOOP, "%s: is a symbolic link; refusing to follow it",
				  path);
	if (fd < 0)
		return errorf(fd, "open %s", path);
	/*
	 * Polled, not a blocking flock(): the wait must end, and a signal to
	 * interrupt it would be the whole process's (the agent's threads).
	 * Backs off to 10 ms, a handover's worth of latency at most.
	 */
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			err = errorf(-errno, "lock %s", path);
			close(fd);
			return err;
		}
		if (now_s() >= deadline) {
			read_holder(fd, holder, sizeof(holder));
			close(fd);
			return errorf_raw(-ETIMEDOUT,
					  "state dir %s is locked by %s; gave up after %g s (BRIDGELESS_LOCK_TIMEOUT)",
					  c->state_dir, holder, timeout_s);
		}
		usleep(sleep_us);
		if (sleep_us < 10000)
			sleep_us *= 2;
	}
	write_holder(fd);
	return fd;
}

int state_lock(const struct ctx *c)
{
	return state_lock_wait(c, default_timeout());
}

void state_unlock(int fd)
{
	if (fd < 0)
		return;
	/* No stale name for a waiter to blame when a holder writes none. */
	if (ftruncate(fd, 0))
		pr_debug("state lock: could not clear the holder");
	close(fd);
}

int state_writable(const struct ctx *c)
{
	if (access(c->state_dir, W_OK) == 0 || errno == ENOENT)
		return 0;
	return -errno;
}
