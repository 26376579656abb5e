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

int json_file_load(const char *path, json_t **out)
{
	json_error_t jerr;
	int fd;

	*out = NULL;
	fd = open_nofollow(path, O_RDONLY, 0);
	if (fd == -ENOENT)
		return -ENOENT;
	if (fd == -ELOOP)
		return errorf_raw(-EINVAL, "%s: is a symbolic link; refusing to follow it",
				  path);
	if (fd < 0)
		return errorf(fd, "open %s", path);
	*out = json_loadfd(fd, 0, &jerr);
	close(fd);
	if (*out)
		return 0;
	return errorf_raw(-EINVAL, "%s: line %d: %s", path, jerr.line, jerr.text);
}

const char *json_str(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "";
}
