/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one number parser for outside input (flags, config files, state
 * files, CNI input): plain decimal digits only. strtoul() would also take
 * a sign, leading blanks and an overflowing negative that wraps around
 * ("-18446744073709551600" is 16 to it); none of that is a number here.
 */
#ifndef BL_NUMBER_H
#define BL_NUMBER_H

#include <stddef.h>
#include <stdint.h>

/* [0-9]+ (at most 20 digits) from min to max; -EINVAL otherwise. */
int num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* The same for the first len bytes of s (a token inside a longer text). */
int num_parse_u64n(const char *s, size_t len, uint64_t min, uint64_t max,
		   uint64_t *out);
/* [0-9]+ or [0-9]*.[0-9]+ from min to max (no sign, exponent, inf or nan). */
int num_parse_decimal(const char *s, double min, double max, double *out);

#endif
