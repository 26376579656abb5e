// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include "lib/number.h"

int num_parse_u64n(const char *s, size_t len, uint64_t min, uint64_t max,
		   uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!len || len > 20)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned int d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	return num_parse_u64n(s, strlen(s), min, max, out);
}

int num_parse_decimal(const char *s, double min, double max, double *out)
{
	double v = 0, scale = 1;
	int digits = 0, frac = 0;

	for (; *s; s++) {
		if (*s == '.' && !frac) {
			frac = 1;
			continue;
		}
		if (*s < '0' || *s > '9' || digits >= 30)
			return -EINVAL;
		digits++;
		if (frac) {
			scale /= 10;
			v += (*s - '0') * scale;
		} else {
			v = v * 10 + (*s - '0');
		}
	}
	if (!digits || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}
