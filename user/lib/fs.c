// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
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

int mkdir_state(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return errorf(-errno, "mkdir %s", path);
	if (lstat(path, &st))
		return errorf(-errno, "%s", path);
	if (!S_ISDIR(st.st_mode))
		return errorf_raw(-ENOTDIR, "%s: is %s, not a directory; refusing to use it",
				  path, S_ISLNK(st.st_mode) ? "a symbolic link" : "a file");
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

int open_nofollow(const char *path, int flags, int mode)
{
	int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode);

	return fd < 0 ? -errno : fd;
}

void file_temp_path(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
	uint64_t h = 14695981039346656037ull;

	/* Not "<path>.tmp": a 253-character pod name leaves no room in NAME_MAX. */
	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 1099511628211ull;
	snprintf(buf, len, "%.*s.tmp.%016llx", slash ? (int)(slash - path + 1) : 0,
		 path, (unsigned long long)h);
}

int file_is_temp(const char *name)
{
	return !strncmp(name, ".tmp.", 5);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

int file_create_temp(const char *tmp, const void *data, size_t len, int mode)
{
	int fd, err;

	/* One a crash left behind; we hold the lock, so it is nobody's now. */
	if (unlink(tmp) && errno != ENOENT)
		return errorf(-errno, "remove %s", tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return errorf(-errno, "create %s", tmp);
	err = write_all(fd, data, len);
	if (close(fd) && !err)
		err = -errno;
	if (err) {
		unlink(tmp);
		return errorf(err, "write %s", tmp);
	}
	return 0;
}

int file_replace(const char *path, const void *data, size_t len, int mode)
{
	char tmp[PATH_MAX + 32];
	int err;

	file_temp_path(path, tmp, sizeof(tmp));
	err = file_create_temp(tmp, data, len, mode);
	if (err)
		return err;
	if (rename(tmp, path)) {
		err = errorf(-errno, "rename %s to %s", tmp, path);
		unlink(tmp);
		return err;
	}
	return 0;
}

int file_remove(const char *path)
{
	char tmp[PATH_MAX + 32];
	int err = 0;

	if (unlink(path) && errno != ENOENT)
		err = errorf(-errno, "remove %s", path);
	file_temp_path(path, tmp, sizeof(tmp));
	if (unlink(tmp) && errno != ENOENT && !err)
		err = errorf(-errno, "remove %s", tmp);
	return err;
}

int remove_temp_files(const char *dir, int depth, void (*removed)(const char *path))
{
	char path[PATH_MAX + 256];
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (file_is_temp(de->d_name) && de->d_type != DT_DIR) {
			if (unlink(path) == 0) {
				n++;
				if (removed)
					removed(path);
			}
		} else if (depth > 0 && de->d_type == DT_DIR && de->d_name[0] != '.') {
			n += remove_temp_files(path, depth - 1, removed);
		}
	}
	closedir(d);
	return n;
}
