// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The CNI spec versions we speak, and comparing them. */
#include <stdio.h>
#include <string.h>
#include "cni/cni.h"
#include "lib/number.h"

/* 0.3.x results have the 0.4.0 shape; 0.1/0.2 results are another format. */
const char *const cni_versions[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0",
				     "1.1.0", NULL };

/* "a.b.c", each 0-99 in plain digits (no sign, blank or leading zero). */
int cni_version_num(const char *v)
{
	uint64_t part;
	int num = 0, i;
	size_t len;

	if (!v)
		return -1;
	for (i = 0; i < 3; i++) {
		len = strcspn(v, ".");
		if ((len > 1 && v[0] == '0') || num_parse_u64n(v, len, 0, 99, &part) ||
		    (i < 2 ? v[len] != '.' : v[len] != 0))
			return -1;
		num = num * 100 + part;
		v += len + 1;
	}
	return num;
}

int cni_version_supported(const char *v)
{
	int i;

	for (i = 0; cni_versions[i]; i++)
		if (!strcmp(v, cni_versions[i]))
			return 1;
	return 0;
}
