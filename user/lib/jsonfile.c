// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/fs.h"
#include "lib/jsonfile.h"
#include "lib/log.h"

int json_file_save(json_t *j, const char *path)
{
	char *s;
	int err;

	if (!j)
		return errorf(-ENOMEM, "write %s", path);
	s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
	if (!s)
		return errorf(-ENOMEM, "write %s", path);
	err = file_replace(path, s, strlen(s), 0600);
	free(s);
	return err;
}

/* A record is small; more than this is no record of ours. */
#define JSON_FILE_MAX (16 << 20)

/* The whole file in one buffer (json_loadfd() reads a byte per syscall). */
static int read_all(int fd, char **buf, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap), *nb;
	ssize_t r;

	if (!b)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap >= JSON_FILE_MAX) {
				free(b);
				return -EFBIG;
			}
			nb = realloc(b, cap *= 2);
			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			return -errno;
		}
		if (r == 0)
			break;
		n += r;
	}
	*buf = b;
	*len = n;
	return 0;
}

int json_file_load(const char *path, json_t **out)
{
	json_error_t jerr;
	size_t len = 0;
	char *buf = NULL;
	int fd, err;

	*out = NULL;
	fd = open_nofollow(path, O_RDONLY, 0);
	if (fd == -ENOENT)
		return -ENOENT;
	if (fd == -ELOOP)
		return errorf_raw(-EINVAL, "%s: is a symbolic link; refusing to follow it",
				  path);
	if (fd < 0)
		return errorf(fd, "open %s", path);
	err = read_all(fd, &buf, &len);
	close(fd);
	if (err)
		return errorf(err, "read %s", path);
	*out = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (*out)
		return 0;
	return errorf_raw(-EINVAL, "%s: line %d: %s", path, jerr.line, jerr.text);
}

const char *json_str(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "";
}
