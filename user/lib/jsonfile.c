// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "lib/jsonfile.h"
#include "lib/log.h"

int json_file_save(json_t *j, const char *path)
{
	char tmp[PATH_MAX + 32];
	const char *slash = strrchr(path, '/');
	int err = 0;

	if (!j)
		return errorf(-ENOMEM, "write %s", path);
	/* Not "<path>.tmp": a 253-character pod name leaves no room in NAME_MAX. */
	snprintf(tmp, sizeof(tmp), "%.*s/.tmp.%d", slash ? (int)(slash - path) : 1,
		 slash ? path : ".", getpid());
	if (json_dump_file(j, tmp, JSON_INDENT(2) | JSON_SORT_KEYS))
		err = errorf(-EIO, "write %s", tmp);
	else if (rename(tmp, path))
		err = errorf(-errno, "rename %s to %s", tmp, path);
	if (err)
		unlink(tmp);
	json_decref(j);
	return err;
}

int json_file_load(const char *path, json_t **out)
{
	json_error_t jerr;

	*out = json_load_file(path, 0, &jerr);
	if (*out)
		return 0;
	if (access(path, F_OK))
		return -ENOENT;
	return errorf_raw(-EINVAL, "%s: line %d: %s", path, jerr.line, jerr.text);
}

const char *json_str(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "";
}
