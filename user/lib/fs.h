/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Small file system helpers that record an error message on failure. Files
 * of the state directory are never opened through a symbolic link (a link
 * planted there must not make us write elsewhere) and are replaced whole
 * through a temporary file and a rename, so no reader and no crash ever
 * sees half a file.
 */
#ifndef BL_FS_H
#define BL_FS_H

#include <stddef.h>

/* mkdir -p: every missing directory of path, with mode. */
int mkdir_p(const char *path, int mode);
/*
 * A directory of the state dir: created 0700 where missing; an existing
 * symlink or non-directory in its place is refused (-ENOTDIR).
 */
int mkdir_state(const char *path);
/* The first line of a (proc/sys) file, without its newline. -errno, quietly. */
int file_read_line(const char *path, char *buf, size_t len);
/* Write s and a newline to an existing (proc/sys) file. -errno, quietly. */
int file_write_line(const char *path, const char *s);
/* open(2) that refuses a symlink as the last component (-ELOOP); -errno, quietly. */
int open_nofollow(const char *path, int flags, int mode);

/*
 * Replace path with data: written to its temporary file (file_temp_path,
 * created O_EXCL, so never through a planted symlink) and renamed over
 * path. The caller holds the state lock (the temporary file's name is the
 * same for every writer of path). -errno as the system said it (ENOSPC is
 * ENOSPC), with a message; no temporary file is left on failure.
 */
int file_replace(const char *path, const void *data, size_t len, int mode);
/*
 * The temporary file of path: "<dir>/.tmp.<16 hex digits of its name>". A
 * process killed in file_replace() leaves at most this file: whoever
 * removes path removes it too (file_remove), and the agent collects any.
 */
void file_temp_path(const char *path, char *buf, size_t len);
/*
 * Make the temporary file tmp (file_temp_path) with data: a stale one
 * removed first, then created O_EXCL and written whole, or removed again.
 * For a file that appears by rename() or link() (the caller holds the lock).
 */
int file_create_temp(const char *tmp, const void *data, size_t len, int mode);
/* unlink path and its temporary file; a missing one is not an error. */
int file_remove(const char *path);
/* 1 if name is a temporary file of file_replace(). */
int file_is_temp(const char *name);
/*
 * Remove the temporary files of file_replace() in dir and, depth levels
 * down, its folders; removed (may be NULL) is told each one. Only with the
 * state lock held: then every one is a dead writer's. Returns how many.
 */
int remove_temp_files(const char *dir, int depth, void (*removed)(const char *path));

#endif
