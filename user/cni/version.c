// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The CNI spec versions we speak, and comparing them. */
#include <stdio.h>
#include "cni/cni.h"
#include <string.h>

/* 0.3.x results have the 0.4.0 shape; 0.1/0.2 results are another format. */
const char *const cni_versions[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0",
				     "1.1.0", NULL };

int cni_version_num(const char *v)
{
	unsigned int a, b, c;
	char tail;

	if (!v || sscanf(v, "%u.%u.%u%c", &a, &b, &c, &tail) != 3 || a > 99 ||
	    b > 99 || c > 99)
		return -1;
	return a * 10000 + b * 100 + c;
}

int cni_version_supported(const char *v)
{
	int i;

	for (i = 0; cni_versions[i]; i++)
		if (!strcmp(v, cni_versions[i]))
			return 1;
	return 0;
}
