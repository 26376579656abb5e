/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Base64 (RFC 4648) decoding, for a kubeconfig's *-data fields. */
#ifndef BL_K8S_BASE64_H
#define BL_K8S_BASE64_H

#include <stddef.h>

/*
 * Decode s (padding optional, line breaks and blanks skipped) into a new
 * buffer, NUL-terminated for convenience; *len excludes the NUL.
 * -EINVAL on any other character or a bad length; -ENOMEM.
 */
int base64_decode(const char *s, char **out, size_t *len);

#endif
