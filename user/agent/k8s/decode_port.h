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
/*
 * obj's "ports" array (named field in errors), in order, into a new
 * *ports; *n_ports counts those filled, so that a half-filled array is
 * freed with its owner. A port without a number is an error where
 * need_number says so (a Service's), else left out (a slice's "all ports").
 */
int k8s_decode_ports(json_t *obj, const char *field, int need_number,
		     struct svc_portdef **ports, size_t *n_ports);

#endif
