// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * rrlat: TCP request/response latency over IPv4 or IPv6, for tools/bench
 * (sockperf's ping-pong, which Debian 12's sockperf 3.7 only does over
 * IPv4).
 *
 *   rrlat server ADDR PORT
 *   rrlat client ADDR PORT SECONDS [-w WARMUP_S] [-s SIZE]
 *
 * The server listens on ADDR:PORT (either family), prints "ready" once
 * listening, and echoes every message of every connection back, one
 * connection at a time, until SIGTERM/SIGINT.
 *
 * The client opens one connection (TCP_NODELAY on both ends, as sockperf
 * sets it) and sends SIZE-byte messages (default 12, sockperf's), one in
 * flight: send, read the SIZE bytes back, send the next. After WARMUP_S
 * (default 0.5) it times every round trip for SECONDS and prints one line
 * of key=value pairs, in microseconds of half the round trip (sockperf's
 * figure):
 *
 *   count=N p50=US p99=US min=US max=US mean=US
 *
 * Blocking sockets and plain read/write: two system calls per message at
 * each end, the least a TCP request/response costs, so the datapath's
 * share of the round trip shows.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE 1024
#define MAX_SAMPLES (16u << 20)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ADDR PORT as a socket address of ADDR's family. */
static int parse_sa(const char *addr, const char *port, struct sockaddr_storage *ss,
		    socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	char *end;
	long p;

	errno = 0;
	p = strtol(port, &end, 10);
	if (errno || *end || p < 1 || p > 65535) {
		fprintf(stderr, "rrlat: bad port %s\n", port);
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(p);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p);
		*len = sizeof(*s6);
		return 0;
	}
	fprintf(stderr, "rrlat: bad address %s\n", addr);
	return -1;
}

static int parse_num(const char *s, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || *end || *v < lo || *v > hi) {
		fprintf(stderr, "rrlat: %s: want a number from %g to %g\n", s, lo, hi);
		return -1;
	}
	return 0;
}

static void nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* All of buf, or -1 (the peer went, or a signal). */
static int read_all(int fd, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, buf + got, n - got);
		if (r <= 0)
			return -1;
		got += r;
	}
	return 0;
}

static int write_all(int fd, const char *buf, size_t n)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = write(fd, buf + done, n - done);
		if (r <= 0)
			return -1;
		done += r;
	}
	return 0;
}

static int server(const struct sockaddr_storage *ss, socklen_t len)
{
	char buf[MAX_SIZE];
	int one = 1, lfd, fd;
	ssize_t r;

	lfd = socket(ss->ss_family, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (const struct sockaddr *)ss, len) || listen(lfd, 16)) {
		perror("rrlat: server");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		nodelay(fd);
		/* an echo of whatever comes, as it comes */
		while (!stop && (r = read(fd, buf, sizeof(buf))) > 0)
			if (write_all(fd, buf, r))
				break;
		close(fd);
	}
	close(lfd);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank of sorted v[0..n-1]. */
static double pctl(const double *v, size_t n, double p)
{
	size_t r = (size_t)(p / 100 * n + 0.999999);

	return v[r ? r - 1 : 0];
}

static int client(const struct sockaddr_storage *ss, socklen_t len, double seconds,
		  double warmup, size_t size)
{
	char msg[MAX_SIZE], back[MAX_SIZE];
	double t0, t1, end, sum = 0, *v;
	size_t n = 0;
	int fd;

	v = malloc(MAX_SAMPLES * sizeof(*v));
	fd = socket(ss->ss_family, SOCK_STREAM, 0);
	if (!v || fd < 0 || connect(fd, (const struct sockaddr *)ss, len)) {
		perror("rrlat: client");
		return 1;
	}
	nodelay(fd);
	memset(msg, 'r', size);
	end = now_s() + warmup;
	while (!stop && now_s() < end)
		if (write_all(fd, msg, size) || read_all(fd, back, size))
			goto broken;
	end = now_s() + seconds;
	do {
		t0 = now_s();
		if (write_all(fd, msg, size) || read_all(fd, back, size))
			goto broken;
		t1 = now_s();
		v[n] = (t1 - t0) / 2 * 1e6;
		sum += v[n];
	} while (!stop && ++n < MAX_SAMPLES && t1 < end);
	close(fd);
	if (!n) {
		fprintf(stderr, "rrlat: no round trip measured\n");
		return 1;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	printf("count=%zu p50=%.3f p99=%.3f min=%.3f max=%.3f mean=%.3f\n", n,
	       pctl(v, n, 50), pctl(v, n, 99), v[0], v[n - 1], sum / n);
	free(v);
	return 0;
broken:
	fprintf(stderr, "rrlat: the connection broke after %zu round trips\n", n);
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: rrlat server ADDR PORT\n"
			"       rrlat client ADDR PORT SECONDS [-w WARMUP_S] [-s SIZE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	double seconds, warmup = 0.5, size = 12;
	struct sockaddr_storage ss;
	socklen_t len;
	int i;

	/* no SA_RESTART: a blocked accept or read returns on SIGTERM */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && !strcmp(argv[1], "server"))
		return parse_sa(argv[2], argv[3], &ss, &len) ? 2 : server(&ss, len);
	if (argc < 5 || strcmp(argv[1], "client"))
		return usage();
	if (parse_sa(argv[2], argv[3], &ss, &len) || parse_num(argv[4], 0.1, 3600, &seconds))
		return 2;
	for (i = 5; i < argc; i += 2) {
		if (i + 1 >= argc)
			return usage();
		if (!strcmp(argv[i], "-w")) {
			if (parse_num(argv[i + 1], 0, 60, &warmup))
				return 2;
		} else if (!strcmp(argv[i], "-s")) {
			if (parse_num(argv[i + 1], 1, MAX_SIZE, &size))
				return 2;
		} else {
			return usage();
		}
	}
	return client(&ss, len, seconds, warmup, (size_t)size);
}
