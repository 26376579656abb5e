/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared by the libFuzzer targets: every parser of outside input, each with
 * an oracle beyond "no crash" (what it accepts prints back to what it
 * parses to; a second sync changes nothing). A broken oracle aborts with
 * a message, and libFuzzer keeps the input.
 */
#ifndef BL_FUZZ_H
#define BL_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/log.h"

#define oracle(cond, ...)                                                   \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "oracle %s failed at %s:%d: ", #cond, \
				__FILE__, __LINE__);                        \
			fprintf(stderr, __VA_ARGS__);                       \
			fputc('\n', stderr);                                \
			abort();                                            \
		}                                                           \
	} while (0)

/* The input as a NUL-terminated string (a NUL inside ends it). */
static inline char *fuzz_str(const unsigned char *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

/* Log lines of refused input would drown the fuzzer's own. */
static inline void fuzz_quiet(void)
{
	log_level = LOG_QUIET;
	log_libbpf_level = LOG_DEBUG + 1;
}

#endif
