// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A Node: its name, its IPv4 pod CIDRs (spec.podCIDRs, else spec.podCIDR)
 * and its first IPv4 InternalIP (status.addresses), what the routes to
 * the other nodes' pods need. IPv6 CIDRs are skipped (not routed yet); a
 * CIDR that does not parse makes the object malformed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent/k8s/objects.h"
#include "lib/log.h"
#include "node/peer_routes.h"

static int add_cidr(struct peer *p, const char *field, json_t *v)
{
	const char *s = json_string_value(v);
	struct cidr c;

	if (!s)
		return errorf_raw(-EINVAL, "%s: want a string", field);
	if (strchr(s, ':')) /* IPv6: not routed yet */
		return 0;
	if (cidr_parse(s, &c))
		return errorf_raw(-EINVAL, "%s \"%s\": not an IPv4 prefix", field, s);
	if (p->n_cidrs < PEER_CIDRS_MAX)
		p->cidrs[p->n_cidrs++] = c;
	return 0;
}

static int node_cidrs(json_t *spec, struct peer *p)
{
	json_t *cidrs = json_object_get(spec, "podCIDRs"), *v;
	char field[48];
	size_t i;

	if (json_is_array(cidrs)) {
		json_array_foreach(cidrs, i, v) {
			snprintf(field, sizeof(field), "spec.podCIDRs[%zu]", i);
			if (add_cidr(p, field, v))
				return -EINVAL;
		}
		return 0;
	}
	v = json_object_get(spec, "podCIDR");
	return v && !json_is_null(v) ? add_cidr(p, "spec.podCIDR", v) : 0;
}

static void node_ip(json_t *node, struct peer *p)
{
	json_t *addrs = json_object_get(json_object_get(node, "status"), "addresses"), *a;
	const char *s;
	size_t i;

	json_array_foreach(addrs, i, a) {
		s = json_string_value(json_object_get(a, "type"));
		if (!s || strcmp(s, "InternalIP"))
			continue;
		s = json_string_value(json_object_get(a, "address"));
		if (s && !strchr(s, ':') && ip_parse(s, &p->ip) == 0)
			return;
		p->ip = 0;
	}
}

int k8s_decode_node(json_t *node, void **out)
{
	const char *name = k8s_meta_str(node, "name");
	struct peer *p;

	*out = NULL;
	if (!name || !*name)
		return errorf_raw(-EINVAL, "no metadata.name");
	p = calloc(1, sizeof(*p));
	if (!p)
		return errorf(-ENOMEM, "node");
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (node_cidrs(json_object_get(node, "spec"), p)) {
		free(p);
		return -EINVAL;
	}
	node_ip(node, p);
	*out = p;
	return K8S_DECODED;
}
