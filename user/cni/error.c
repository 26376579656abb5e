// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The error a CNI call ends with: the message (lib/log.h) and its CNI code. */
#include <stdarg.h>
#include <stdio.h>
#include "cni/cni.h"
#include "lib/log.h"

cni_code_t cni_code;

int cni_errorf(cni_code_t code, int err, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cni_code = code;
	return errorf_raw(err, "%s", msg);
}

int cni_error_code(cni_code_t code, int err)
{
	cni_code = code;
	return err;
}
