/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Small file system helpers that record an error message on failure. */
#ifndef BL_FS_H
#define BL_FS_H

#include <stddef.h>

/* mkdir -p: every missing directory of path, with mode. */
int mkdir_p(const char *path, int mode);
/* The first line of a (proc/sys) file, without its newline. -errno, quietly. */
int file_read_line(const char *path, char *buf, size_t len);
/* Write s and a newline to an existing (proc/sys) file. -errno, quietly. */
int file_write_line(const char *path, const char *s);

#endif
