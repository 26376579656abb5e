// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * connrate: new TCP connections per second, for tools/bench.
 *
 *   connrate server ADDR PORT NPORTS
 *   connrate client ADDR[,ADDR...] PORT NPORTS SECONDS [-c INFLIGHT]
 *                   [-w WARMUP_S] [-i FIRST] [-t TIMEOUT_S] [-p LO-HI]
 *
 * The server listens on ADDR:PORT .. ADDR:PORT+NPORTS-1, accepts, reads the
 * one byte a client sends and closes: it closes first, so TIME_WAIT stays on
 * the server's side and the client's ports are free again at once. It prints
 * "ready" once listening and runs until SIGTERM/SIGINT.
 *
 * The client keeps INFLIGHT connections (default 32) open at a time, each one
 * a full transaction: connect, send 1 byte, wait for the server's FIN, close.
 * Connection number i (counting from FIRST) is bound to source port
 * LO + i % (HI - LO + 1) and goes to server port PORT + (i / (HI - LO + 1)) %
 * NPORTS, so every connection of a run has a 5-tuple of its own (NPORTS * (HI
 * - LO + 1) of them before they repeat): behind a NAT each one is a new
 * mapping, never the reuse of an old one. Connections in flight never share
 * a source port, so no SO_REUSEADDR is needed. With several server
 * addresses (NADDRS, up to 64: service addresses, say) the connections go
 * to them in turn, a source port meeting each address once before the
 * server port moves on: source port LO + i % R (R = HI - LO + 1), address
 * number (i + i / R) % NADDRS, server port PORT + (i / R / NADDRS) % NPORTS. The client makes seven system
 * calls a connection (socket, bind, connect, epoll_ctl, write, read, close;
 * epoll_wait serves many): its own cost is what dilutes the difference
 * between datapaths, so it does nothing it does not need. LO-HI defaults to 32768-60999, Linux's
 * default ephemeral range, the ports a pod's connections come from. Counts connections completed in the SECONDS after a
 * warm-up of WARMUP_S (default 0.5) and prints one line of key=value pairs:
 *
 *   conns=N seconds=S rate=R failed=F timeouts=T next=I
 *
 * failed: connections refused, reset or otherwise broken in the window;
 * timeouts: connections aborted after TIMEOUT_S (default 3) without
 * completing; next: the FIRST to pass to the next run, so a series of runs
 * keeps using new tuples.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 256
#define MAX_INFLIGHT 4096
#define MAX_ADDRS 64

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

static int parse_addr(const char *s, struct in_addr *a)
{
	if (inet_pton(AF_INET, s, a) != 1) {
		fprintf(stderr, "connrate: bad IPv4 address %s\n", s);
		return -EINVAL;
	}
	return 0;
}

static int parse_num(const char *s, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || *end || *v < lo || *v > hi) {
		fprintf(stderr, "connrate: bad number %s (want %g..%g)\n", s, lo, hi);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------ server */

static int server(struct in_addr addr, int port, int nports)
{
	struct epoll_event ev, evs[256];
	int lfd[MAX_PORTS], ep, i, n, one = 1;
	unsigned long long accepted = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = addr };
	char buf[64];

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		perror("connrate: epoll_create1");
		return 1;
	}
	for (i = 0; i < nports; i++) {
		lfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		sa.sin_port = htons(port + i);
		if (lfd[i] < 0 ||
		    setsockopt(lfd[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(lfd[i], (struct sockaddr *)&sa, sizeof(sa)) ||
		    listen(lfd[i], 4096)) {
			fprintf(stderr, "connrate: listen %s:%d: %s\n",
				inet_ntoa(addr), port + i, strerror(errno));
			return 1;
		}
		/* listeners are marked by the high bit of the data word */
		ev.events = EPOLLIN;
		ev.data.u64 = (1ull << 63) | (uint64_t)lfd[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd[i], &ev)) {
			perror("connrate: epoll_ctl");
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);

	while (!stop) {
		n = epoll_wait(ep, evs, 256, 200);
		if (n < 0 && errno != EINTR) {
			perror("connrate: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;
			int fd = (int)(d & 0xffffffff), c;

			if (!(d >> 63)) {
				/* the client's byte (or its FIN): done, close first */
				if (read(fd, buf, sizeof(buf)) < 0 && errno == EAGAIN)
					continue;
				close(fd);
				continue;
			}
			while ((c = accept4(fd, NULL, NULL,
					    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
				accepted++;
				ev.events = EPOLLIN;
				ev.data.u64 = (uint64_t)c;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev))
					close(c);
			}
		}
	}
	fprintf(stderr, "connrate server: %llu connections accepted\n", accepted);
	return 0;
}

/* ------------------------------------------------------------ client */

enum { IDLE, CONNECTING, WAITING };

struct slot {
	int fd;
	int state;
	double deadline;
};

struct client {
	struct in_addr addr[MAX_ADDRS];
	int naddrs;
	int port, nports;
	unsigned int sport_lo, sport_count;
	unsigned long long next; /* index of the next connection */
	int ep;
	/* counted only inside the measurement window */
	int counting;
	unsigned long long done, failed, timeouts, skipped;
	double timeout;
};

static void slot_close(struct client *cl, struct slot *s, int failed, int timeout)
{
	if (s->fd >= 0)
		close(s->fd); /* also leaves the epoll set */
	s->fd = -1;
	s->state = IDLE;
	if (!cl->counting)
		return;
	if (timeout)
		cl->timeouts++;
	else if (failed)
		cl->failed++;
	else
		cl->done++;
}

/* Open the next connection in slot number idx; 0 or -errno (fatal). */
static int slot_open(struct client *cl, struct slot *s, uint32_t idx)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_in dst = { .sin_family = AF_INET };
	/* one registration for the whole life: writable once connected, then
	 * readable at the server's FIN; edge-triggered, so no re-arming */
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLRDHUP | EPOLLET,
				  .data.u32 = idx };
	int fd, tries;

	for (tries = 0; tries < 64; tries++) {
		unsigned long long i = cl->next++;

		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		unsigned long long wrap = i / cl->sport_count;

		src.sin_port = htons(cl->sport_lo + i % cl->sport_count);
		dst.sin_addr = cl->addr[(i + wrap) % cl->naddrs];
		dst.sin_port = htons(cl->port + (wrap / cl->naddrs) % cl->nports);
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == 0 &&
		    (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == 0 ||
		     errno == EINPROGRESS))
			goto opened;
		/* the source port is still taken (by another program): skip it */
		close(fd);
		cl->skipped++;
	}
	return -EADDRINUSE;
opened:
	if (epoll_ctl(cl->ep, EPOLL_CTL_ADD, fd, &ev)) {
		close(fd);
		return -errno;
	}
	s->fd = fd;
	s->state = CONNECTING;
	s->deadline = now_s() + cl->timeout;
	return 0;
}

static int client(struct client *cl, int inflight, double warmup, double seconds)
{
	struct epoll_event evs[256];
	struct slot *slots;
	double t0, t1, t_end, now, window = 0;
	unsigned long long done0 = 0;
	int i, n, err;
	char c = 'x';

	slots = calloc(inflight, sizeof(*slots));
	cl->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!slots || cl->ep < 0) {
		perror("connrate: setup");
		return 1;
	}
	for (i = 0; i < inflight; i++) {
		slots[i].fd = -1;
		err = slot_open(cl, &slots[i], i);
		if (err) {
			fprintf(stderr, "connrate: connect: %s\n", strerror(-err));
			return 1;
		}
	}
	t0 = now_s();
	t1 = t0 + warmup;
	t_end = t1 + seconds;
	while (!stop) {
		now = now_s();
		if (!cl->counting && now >= t1) {
			cl->counting = 1;
			t1 = now;
			done0 = cl->done;
		}
		if (now >= t_end)
			break;
		n = epoll_wait(cl->ep, evs, 256, 50);
		if (n < 0 && errno != EINTR) {
			perror("connrate: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			struct slot *s = &slots[evs[i].data.u32];
			uint32_t e = evs[i].events;
			ssize_t r;

			if (s->state == CONNECTING) {
				/* a failed connect reports EPOLLERR; a write
				 * on it fails too, which says the same */
				if ((e & EPOLLERR) || write(s->fd, &c, 1) != 1) {
					slot_close(cl, s, 1, 0);
				} else {
					s->state = WAITING;
					if (!(e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)))
						continue;
				}
			}
			if (s->state == WAITING) {
				char buf[16];

				r = read(s->fd, buf, sizeof(buf));
				if (r < 0 && errno == EAGAIN)
					continue;
				/* EOF: the server got the byte and closed */
				slot_close(cl, s, r != 0, 0);
			}
			err = slot_open(cl, s, evs[i].data.u32);
			if (err) {
				fprintf(stderr, "connrate: connect: %s\n", strerror(-err));
				return 1;
			}
		}
		/* a lost SYN waits for the kernel's retransmission; past the
		 * timeout the slot gives up so it cannot stall the window */
		now = now_s();
		for (i = 0; i < inflight; i++) {
			if (slots[i].state == IDLE || now < slots[i].deadline)
				continue;
			slot_close(cl, &slots[i], 1, 1);
			err = slot_open(cl, &slots[i], i);
			if (err) {
				fprintf(stderr, "connrate: connect: %s\n", strerror(-err));
				return 1;
			}
		}
	}
	if (cl->counting)
		window = now_s() - t1;
	for (i = 0; i < inflight; i++)
		if (slots[i].fd >= 0)
			close(slots[i].fd);
	printf("conns=%llu seconds=%.3f rate=%.0f failed=%llu timeouts=%llu skipped=%llu next=%llu\n",
	       cl->done - done0, window, window > 0 ? (cl->done - done0) / window : 0,
	       cl->failed, cl->timeouts, cl->skipped, cl->next);
	free(slots);
	return 0;
}

/* ADDR[,ADDR...] into cl->addr */
static int parse_addrs(const char *list, struct client *cl)
{
	char buf[MAX_ADDRS * 16 + 1], *tok, *save = NULL;

	if (strlen(list) >= sizeof(buf)) {
		fprintf(stderr, "connrate: at most %d addresses\n", MAX_ADDRS);
		return -EINVAL;
	}
	strcpy(buf, list);
	cl->naddrs = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (cl->naddrs == MAX_ADDRS) {
			fprintf(stderr, "connrate: at most %d addresses\n", MAX_ADDRS);
			return -EINVAL;
		}
		if (parse_addr(tok, &cl->addr[cl->naddrs++]))
			return -EINVAL;
	}
	return cl->naddrs ? 0 : parse_addr(list, &cl->addr[0]);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: connrate server ADDR PORT NPORTS\n"
		"       connrate client ADDR[,ADDR...] PORT NPORTS SECONDS [-c INFLIGHT]\n"
		"                       [-w WARMUP_S] [-i FIRST] [-t TIMEOUT_S] [-p LO-HI]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct client cl = { .timeout = 3, .sport_lo = 32768, .sport_count = 60999 - 32768 + 1 };
	unsigned int lo, hi;
	char extra;
	struct sigaction sa = { .sa_handler = on_signal };
	double port, nports, seconds, v, warmup = 0.5, inflight = 32;
	int opt;

	if (argc < 5)
		return usage();
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (parse_addrs(argv[2], &cl) || parse_num(argv[3], 1, 65535, &port) ||
	    parse_num(argv[4], 1, MAX_PORTS, &nports) || port + nports > 65536)
		return usage();
	if (!strcmp(argv[1], "server") && argc == 5 && cl.naddrs == 1)
		return server(cl.addr[0], (int)port, (int)nports);
	if (strcmp(argv[1], "client") || argc < 6 ||
	    parse_num(argv[5], 0.1, 86400, &seconds))
		return usage();
	optind = 6;
	while ((opt = getopt(argc, argv, "c:w:i:t:p:")) != -1) {
		switch (opt) {
		case 'c':
			if (parse_num(optarg, 1, MAX_INFLIGHT, &inflight))
				return 2;
			break;
		case 'w':
			if (parse_num(optarg, 0, 3600, &warmup))
				return 2;
			break;
		case 'i':
			if (parse_num(optarg, 0, 1e15, &v))
				return 2;
			cl.next = (unsigned long long)v;
			break;
		case 't':
			if (parse_num(optarg, 0.1, 3600, &cl.timeout))
				return 2;
			break;
		case 'p':
			if (sscanf(optarg, "%u-%u%c", &lo, &hi, &extra) != 2 || lo < 1 ||
			    hi > 65535 || lo > hi) {
				fprintf(stderr, "connrate: bad port range %s\n", optarg);
				return 2;
			}
			cl.sport_lo = lo;
			cl.sport_count = hi - lo + 1;
			break;
		default:
			return usage();
		}
	}
	cl.port = (int)port;
	cl.nports = (int)nports;
	return client(&cl, (int)inflight, warmup, seconds);
}
