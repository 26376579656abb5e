// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include "lib/log.h"
#include "netlink/netns.h"

int netns_open(const char *spec, char *path, size_t len)
{
	struct stat st, self;
	int fd, type, err;

	if (!spec || !*spec)
		return errorf_raw(-EINVAL, "netns: empty name");
	if (strchr(spec, '/'))
		snprintf(path, len, "%s", spec);
	else
		snprintf(path, len, "/run/netns/%s", spec);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errorf(-errno, "netns %s", path);
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type != CLONE_NEWNET) {
		close(fd);
		return errorf_raw(-EINVAL, "netns %s: not a network namespace", path);
	}
	if (fstat(fd, &st) == 0 && stat("/proc/self/ns/net", &self) == 0 &&
	    st.st_ino == self.st_ino && st.st_dev == self.st_dev) {
		err = errorf_raw(-EINVAL,
				 "netns %s: is the node's own network namespace", path);
		close(fd);
		return err;
	}
	return fd;
}
