// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A port as a Service (spec.ports[]) or an EndpointSlice (ports[]) gives it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent/k8s/decode_port.h"
#include "agent/k8s/objects.h"
#include "lib/log.h"

int k8s_decode_port(json_t *j, const char *field, struct svc_portdef *p)
{
	json_t *port = json_object_get(j, "port");
	const char *name, *proto;
	char *text;

	memset(p, 0, sizeof(*p));
	if (!json_is_object(j))
		return errorf_raw(-EINVAL, "%s: want an object", field);
	if (k8s_opt_str(j, "name", &name) || k8s_opt_str(j, "protocol", &proto))
		return error_prefix(-EINVAL, "%s", field);
	if (!proto)
		proto = "TCP"; /* the API's default */
	if (svc_protocol_parse(proto, &p->protocol))
		return errorf_raw(-EINVAL, "%s.protocol \"%s\": want TCP, UDP or SCTP", field,
				  proto);
	if (!port || json_is_null(port))
		return K8S_NOT_OURS; /* a slice port without a number: all ports */
	if (!json_is_integer(port) || json_integer_value(port) < 1 ||
	    json_integer_value(port) > 65535) {
		text = json_dumps(port, JSON_ENCODE_ANY);
		errorf_raw(-EINVAL, "%s.port %s: want a whole number from 1 to 65535", field,
			   text ?: "?");
		free(text);
		return -EINVAL;
	}
	p->port = json_integer_value(port);
	p->name = k8s_strdup(name);
	return p->name ? 0 : errorf(-ENOMEM, "%s", field);
}

int k8s_decode_ports(json_t *obj, const char *field, int need_number,
		     struct svc_portdef **ports, size_t *n_ports)
{
	json_t *arr = json_object_get(obj, "ports"), *v;
	char item[48];
	size_t i;
	int err;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return errorf_raw(-EINVAL, "%s: want an array", field);
	*ports = calloc(json_array_size(arr) ?: 1, sizeof(**ports));
	if (!*ports)
		return errorf(-ENOMEM, "%s", field);
	json_array_foreach(arr, i, v) {
		snprintf(item, sizeof(item), "%s[%zu]", field, i);
		err = k8s_decode_port(v, item, &(*ports)[*n_ports]);
		if (err == K8S_NOT_OURS && need_number)
			err = errorf_raw(-EINVAL, "%s.port: missing", item);
		if (err < 0)
			return err;
		if (err == K8S_DECODED)
			(*n_ports)++;
	}
	return 0;
}
