/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* JSON records on disk (jansson), written so that no reader sees half a file. */
#ifndef BL_JSONFILE_H
#define BL_JSONFILE_H

#include <jansson.h>

/*
 * Write j (its reference is taken, also on failure) to path through its
 * temporary file and a rename (file_replace: the caller holds the state
 * lock; ENOSPC is reported as ENOSPC).
 */
int json_file_save(json_t *j, const char *path);
/*
 * -ENOENT (quietly) if there is no file; -EINVAL naming file and line if
 * it does not parse, or if it is a symbolic link (never followed).
 */
int json_file_load(const char *path, json_t **out);
/* A string member, "" where it is missing or not a string. */
const char *json_str(json_t *j, const char *key);

#endif
