/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Decoding a port of a Service or an EndpointSlice. */
#ifndef BL_K8S_DECODE_PORT_H
#define BL_K8S_DECODE_PORT_H

#include <jansson.h>
#include "node/services.h"

/*
 * {name, protocol, port}: the protocol defaults to TCP, the name to "".
 * K8S_NOT_OURS for a port without a number (a slice's "all ports"),
 * -EINVAL naming field when malformed.
 */
int k8s_decode_port(json_t *j, const char *field, struct svc_portdef *p);

#endif
