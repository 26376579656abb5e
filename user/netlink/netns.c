// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include "lib/log.h"
#include "netlink/netns.h"

int netns_open(const char *spec, char *path, size_t len)
{
	struct stat st, self;
	struct statfs sfs;
	char fdpath[64];
	int pfd, fd, type, err;

	if (!spec || !*spec)
		return errorf_raw(-EINVAL, "netns: empty name");
	if (snprintf(path, len, "%s%s", strchr(spec, '/') ? "" : "/run/netns/", spec) >=
	    (int)len)
		return errorf_raw(-ENAMETOOLONG, "netns path of %zu bytes: at most %zu",
				  strlen(spec) + (strchr(spec, '/') ? 0 : 11), len - 1);
	/*
	 * O_PATH opens without touching the file: a FIFO (or a device) given
	 * as a netns neither blocks nor acts. Only an nsfs file goes further.
	 */
	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return errorf(-errno, "netns %s", path);
	if (fstatfs(pfd, &sfs) || sfs.f_type != NSFS_MAGIC) {
		close(pfd);
		return errorf_raw(-EINVAL, "netns %s: not a network namespace (not an nsfs file)",
				  path);
	}
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", pfd);
	fd = open(fdpath, O_RDONLY | O_CLOEXEC);
	err = -errno;
	close(pfd);
	if (fd < 0)
		return errorf(err, "netns %s", path);
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
