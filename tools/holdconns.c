// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * holdconns: idle TCP connections from many network namespaces, held open,
 * for the scale scenario of tools/bench (the SNAT flows that the pods of a
 * busy node keep open).
 *
 *   holdconns SERVER_NETNS IP PORT
 *
 * Listens on IP:PORT in SERVER_NETNS (a path such as /run/netns/x), then reads
 * client netns paths from stdin, one a line. For each it enters that netns,
 * connects to IP:PORT (through the pod's own route, so through its node's
 * NAT) and accepts the connection on the server side. An empty line (or end
 * of input) prints "held N" (N: connections open) on stdout; on end of input
 * it then waits, holding every connection, until it is killed. A netns that
 * cannot connect prints "holdconns: NETNS: cause" on stderr and counts as
 * failed ("held N failed M").
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* enter_netns: -errno */
static int enter_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* connect_one: a connected socket from the current netns, or -errno */
static int connect_one(const struct sockaddr_in *sa)
{
	struct timeval tv = { .tv_sec = 3 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 65536, 65536 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 3 };
	char line[4096];
	long held = 0, failed = 0;
	int lfd, fd, afd, err, one = 1;

	if (argc != 4 || inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: holdconns SERVER_NETNS IP PORT < netns paths\n");
		return 2;
	}
	sa.sin_port = htons(atoi(argv[3]));
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		fprintf(stderr, "holdconns: raising the fd limit: %s\n", strerror(errno));
	err = enter_netns(argv[1]);
	if (err) {
		fprintf(stderr, "holdconns: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4096) < 0) {
		fprintf(stderr, "holdconns: listening on %s:%s: %s\n", argv[2], argv[3],
			strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0]) {
			printf("held %ld failed %ld\n", held, failed);
			fflush(stdout);
			continue;
		}
		err = enter_netns(line);
		fd = err ? err : connect_one(&sa);
		afd = fd < 0 ? fd : accept(lfd, NULL, NULL);
		if (fd >= 0 && afd < 0) {
			err = -errno;
			close(fd);
			fd = err;
		}
		if (fd < 0) {
			fprintf(stderr, "holdconns: %s: %s\n", line, strerror(-fd));
			failed++;
			continue;
		}
		held++;
	}
	printf("held %ld failed %ld\n", held, failed);
	fflush(stdout);
	for (;;)
		pause();
}
