// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>
#include "lib/fs.h"
#include "lib/log.h"
#include "node/state.h"

int state_lock(const struct ctx *c)
{
	char path[PATH_MAX];
	int fd, err;

	err = mkdir_p(c->state_dir, 0700);
	if (err)
		return error_prefix(err, "state dir");
	snprintf(path, sizeof(path), "%s/lock", c->state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return errorf(-errno, "open %s", path);
	if (flock(fd, LOCK_EX)) {
		err = errorf(-errno, "lock %s", path);
		close(fd);
		return err;
	}
	return fd;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

