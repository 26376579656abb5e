// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Base64 decoding. Neither glibc nor the libraries the agent links export
 * one (libcurl keeps its own private); twenty lines do not warrant another
 * library.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "agent/k8s/base64.h"

static int sextet(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *s, char **out, size_t *len)
{
	size_t n = 0, pad = 0;
	unsigned int acc = 0, bits = 0;
	char *buf;

	buf = malloc(strlen(s) / 4 * 3 + 4);
	if (!buf)
		return -ENOMEM;
	for (; *s; s++) {
		int v;

		if (strchr(" \t\r\n", *s))
			continue;
		if (*s == '=') {
			pad++;
			continue;
		}
		v = sextet(*s);
		if (v < 0 || pad) /* data after padding */
			goto bad;
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (acc >> bits) & 0xff;
		}
	}
	/* 6 leftover bits cannot be; padding must match what is missing. */
	if (bits >= 6 || pad > 2 || (pad && (bits / 2 != pad)))
		goto bad;
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
bad:
	free(buf);
	return -EINVAL;
}
