// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The peers file: a Kubernetes NodeList (`kubectl get nodes -o json`) or a
 * bare array of Node objects, read into the peers the node routes to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "agent/peers_file.h"
#include "lib/log.h"
static const char *jpath_str(json_t *o, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(o, a), b));
}

static void add_cidr(struct peer *p, const char *path, const char *s)
{
	struct cidr c;

	if (!s || strchr(s, ':')) /* IPv6: not routed yet */
		return;
	if (cidr_parse(s, &c)) {
		pr_warn("peers file %s: node %s: podCIDR \"%s\" does not parse; ignored",
			path, p->name, s);
		return;
	}
	if (p->n_cidrs < PEER_CIDRS_MAX)
		p->cidrs[p->n_cidrs++] = c;
}

/* One Node object: metadata.name, spec.podCIDR(s), the first IPv4 InternalIP. */
static void parse_node(json_t *node, const char *path, struct peer *p)
{
	json_t *spec = json_object_get(node, "spec"), *addrs, *a, *v;
	const char *s;
	size_t i;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s",
		 jpath_str(node, "metadata", "name") ?: "");
	if (json_is_array(json_object_get(spec, "podCIDRs"))) {
		json_array_foreach(json_object_get(spec, "podCIDRs"), i, v)
			add_cidr(p, path, json_string_value(v));
	} else {
		add_cidr(p, path, json_string_value(json_object_get(spec, "podCIDR")));
	}
	addrs = json_object_get(json_object_get(node, "status"), "addresses");
	json_array_foreach(addrs, i, a) {
		s = json_string_value(json_object_get(a, "type"));
		if (!s || strcmp(s, "InternalIP"))
			continue;
		s = json_string_value(json_object_get(a, "address"));
		if (s && !strchr(s, ':') && ip_parse(s, &p->ip) == 0)
			break;
		p->ip = 0;
	}
}

int peers_load(const char *path, struct peers *out)
{
	json_error_t jerr;
	json_t *root;
	int err;

	memset(out, 0, sizeof(*out));
	root = json_load_file(path, 0, &jerr);
	if (!root) {
		FILE *f = fopen(path, "re");

		if (!f)
			return errorf(-errno, "peers file %s", path);
		fclose(f);
		return errorf_raw(-EINVAL, "peers file %s: line %d: %s", path,
				  jerr.line, jerr.text);
	}
	err = peers_from_json(root, path, out);
	json_decref(root);
	return err;
}

int peers_from_json(json_t *root, const char *path, struct peers *out)
{
	json_t *items, *node;
	size_t i;

	memset(out, 0, sizeof(*out));
	items = json_is_array(root) ? root : json_object_get(root, "items");
	if (!json_is_array(items) && json_is_object(json_object_get(root, "spec")))
		items = NULL; /* a single Node object */
	else if (!json_is_array(items)) {
		return errorf_raw(-EINVAL,
				  "peers file %s: want a NodeList ({\"items\": [...]}) or an array of Node objects",
				  path);
	}
	out->n = items ? json_array_size(items) : 1;
	out->v = calloc(out->n ?: 1, sizeof(*out->v));
	if (!out->v)
		return errorf(-ENOMEM, "peers file %s", path);
	if (!items) {
		parse_node(root, path, &out->v[0]);
	} else {
		json_array_foreach(items, i, node)
			parse_node(node, path, &out->v[i]);
	}
	return 0;
}

