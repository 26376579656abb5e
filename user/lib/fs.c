// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "lib/fs.h"
#include "lib/log.h"

int mkdir_p(const char *path, int mode)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return errorf(-ENAMETOOLONG, "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, mode) && errno != EEXIST)
			return errorf(-errno, "mkdir %s", buf);
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return errorf(-errno, "mkdir %s", buf);
	return 0;
}

int file_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	fclose(f);
	return 0;
}

int file_write_line(const char *path, const char *s)
{
	FILE *f = fopen(path, "we");
	int err = 0;

	if (!f)
		return -errno;
	if (fprintf(f, "%s\n", s) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}
