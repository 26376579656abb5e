// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "lib/fs.h"
#include "lib/jsonfile.h"
#include "lib/log.h"
#include "node/state.h"

static void node_path(const struct ctx *c, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/node.json", c->state_dir);
}

/* The IPv6 half of the record, where the node has IPv6. */
static void save6(json_t *j, const struct node_rec *n)
{
	char p[PREFIX_STRLEN], ip[IPADDR_STRLEN];
	json_t *nm = json_array();
	int i;

	for (i = 0; i < n->n_nomasq6; i++)
		json_array_append_new(nm, json_string(prefix_str(&n->nomasq6[i], p)));
	json_object_set_new(j, "no_masquerade6", nm);
	if (node_has_ipv6(n)) {
		json_object_set_new(j, "pod_cidr6", json_string(prefix_str(&n->pod_cidr6, p)));
		json_object_set_new(j, "cluster_cidr6",
				    json_string(prefix_str(&n->cluster_cidr6, p)));
		json_object_set_new(j, "node_ip6", json_string(ip6_str(n->node_ip6, ip)));
		json_object_set_new(j, "masquerade6", json_boolean(n->masquerade6));
	}
	if (n->svc_cidr6.family == AF_INET6)
		json_object_set_new(j, "service_cidr6",
				    json_string(prefix_str(&n->svc_cidr6, p)));
	json_object_set_new(j, "ip6_forward_changed", json_boolean(n->ip6_forward_changed));
	json_object_set_new(j, "uplink_accept_ra_prev", json_integer(n->uplink_accept_ra_prev));
}

/* A prefix of the record of family fam, or -EINVAL. */
static int load_prefix(json_t *j, const char *key, int fam, struct prefix *p)
{
	return prefix_parse(json_str(j, key), p) || p->family != fam ? -EINVAL : 0;
}

static int load6(json_t *j, struct node_rec *n)
{
	json_t *nm = json_object_get(j, "no_masquerade6"), *v, *ra;
	struct ipaddr a;
	size_t i;

	if (nm && !json_is_array(nm))
		return -EINVAL;
	json_array_foreach(nm, i, v) {
		if (n->n_nomasq6 == BL_MAX_NOMASQ ||
		    prefix_parse(json_string_value(v) ?: "", &n->nomasq6[n->n_nomasq6]) ||
		    n->nomasq6[n->n_nomasq6].family != AF_INET6)
			return -EINVAL;
		n->n_nomasq6++;
	}
	ra = json_object_get(j, "uplink_accept_ra_prev");
	n->uplink_accept_ra_prev = json_is_integer(ra) ? json_integer_value(ra) : -1;
	n->ip6_forward_changed = json_is_true(json_object_get(j, "ip6_forward_changed"));
	if (json_object_get(j, "service_cidr6") &&
	    load_prefix(j, "service_cidr6", AF_INET6, &n->svc_cidr6))
		return -EINVAL;
	if (!json_object_get(j, "pod_cidr6"))
		return 0;
	if (load_prefix(j, "pod_cidr6", AF_INET6, &n->pod_cidr6) ||
	    load_prefix(j, "cluster_cidr6", AF_INET6, &n->cluster_cidr6) ||
	    ipaddr_parse(json_str(j, "node_ip6"), &a) || a.family != AF_INET6)
		return -EINVAL;
	memcpy(n->node_ip6, a.a, 16);
	n->masquerade6 = json_is_true(json_object_get(j, "masquerade6"));
	return 0;
}

json_t *node_rec_to_json(const struct node_rec *n)
{
	char a[32], b[32], ip[16];
	json_t *j, *nm = json_array();
	int i;

	for (i = 0; i < n->n_nomasq; i++)
		json_array_append_new(nm, json_string(cidr_str(&n->nomasq[i], a)));
	/* a node without IPv4 (IPv6 only) says so with empty strings */
	j = json_pack("{s:s, s:i, s:s, s:s, s:s, s:i, s:b, s:b, s:i, s:i, s:I, s:o, s:s, s:b}",
		      "uplink", n->uplink, "uplink_ifindex", n->uplink_ifindex,
		      "pod_cidr", node_has_ipv4(n) ? cidr_str(&n->pod_cidr, a) : "",
		      "cluster_cidr", node_has_ipv4(n) ? cidr_str(&n->cluster_cidr, b) : "",
		      "node_ip", n->node_ip ? ip_str(n->node_ip, ip) : "",
		      "attach_mode", n->attach_mode, "ip_forward_changed",
		      n->ip_forward_changed, "masquerade", n->masquerade,
		      "nat_port_min", n->nat_port_min, "nat_port_max", n->nat_port_max,
		      "nat_max", (json_int_t)n->nat_max, "no_masquerade", nm,
		      "reserved_ports_prev", n->reserved_ports_prev,
		      "reserved_ports_changed", n->reserved_ports_changed);
	if (j && n->uplink_clsact_made)
		json_object_set_new(j, "uplink_clsact_made", json_true());
	if (j) {
		json_t *sc = json_array();

		for (i = 0; i < n->n_svc_cidr; i++)
			json_array_append_new(sc, json_string(cidr_str(&n->svc_cidr[i], a)));
		json_object_set_new(j, "service_cidrs", sc);
		json_object_set_new(j, "bpf_services", json_boolean(n->bpf_services));
		json_object_set_new(j, "svc_max", json_integer(n->svc_max));
		json_object_set_new(j, "svc_backends_max", json_integer(n->svc_backends_max));
		save6(j, n);
	}
	return j;
}

static int int_member(json_t *j, const char *key, json_int_t min, json_int_t max,
		      json_int_t *out)
{
	json_t *v = json_object_get(j, key);

	*out = 0;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return -EINVAL;
	*out = json_integer_value(v);
	return 0;
}

int node_rec_from_json(json_t *j, struct node_rec *n)
{
	json_int_t ifindex, mode, lo, hi, max;
	json_t *nm, *sc, *v;
	const char *s;
	size_t i;

	memset(n, 0, sizeof(*n));
	if (!json_is_object(j))
		return -EINVAL;
	s = json_str(j, "uplink");
	if (!ifname_valid(s))
		return -EINVAL;
	snprintf(n->uplink, sizeof(n->uplink), "%s", s);
	if (!json_object_get(j, "uplink_ifindex") ||
	    int_member(j, "uplink_ifindex", 1, INT32_MAX, &ifindex) ||
	    int_member(j, "attach_mode", 0, 2, &mode) ||
	    int_member(j, "nat_port_min", 0, 65535, &lo) ||
	    int_member(j, "nat_port_max", lo, 65535, &hi) ||
	    int_member(j, "nat_max", 0, UINT32_MAX, &max))
		return -EINVAL;
	/* Both or neither (records before --nat-ports have none: the defaults). */
	if ((lo || hi) && (lo < 1 || hi < lo))
		return -EINVAL;
	n->uplink_ifindex = ifindex;
	n->attach_mode = mode;
	n->nat_port_min = lo;
	n->nat_port_max = hi;
	n->nat_max = max;
	n->uplink_clsact_made = json_is_true(json_object_get(j, "uplink_clsact_made"));
	n->ip_forward_changed = json_is_true(json_object_get(j, "ip_forward_changed"));
	n->masquerade = json_is_true(json_object_get(j, "masquerade"));
	s = json_str(j, "reserved_ports_prev");
	if (strlen(s) >= sizeof(n->reserved_ports_prev))
		return -EINVAL;
	snprintf(n->reserved_ports_prev, sizeof(n->reserved_ports_prev), "%s", s);
	n->reserved_ports_changed = json_is_true(json_object_get(j, "reserved_ports_changed"));
	nm = json_object_get(j, "no_masquerade");
	if (nm && !json_is_array(nm))
		return -EINVAL;
	json_array_foreach(nm, i, v) {
		if (n->n_nomasq == BL_MAX_NOMASQ ||
		    cidr_parse(json_string_value(v) ?: "", &n->nomasq[n->n_nomasq]))
			return -EINVAL;
		n->n_nomasq++;
	}
	sc = json_object_get(j, "service_cidrs");
	if (sc && !json_is_array(sc))
		return -EINVAL;
	json_array_foreach(sc, i, v) {
		if (n->n_svc_cidr == BL_MAX_SVC_CIDRS ||
		    cidr_parse(json_string_value(v) ?: "", &n->svc_cidr[n->n_svc_cidr]))
			return -EINVAL;
		n->n_svc_cidr++;
	}
	/* records from before services knew no service CIDR: the default */
	if (!sc)
		n->n_svc_cidr = cidr_parse(SVC_CIDR_DEFAULT, &n->svc_cidr[0]) == 0;
	v = json_object_get(j, "bpf_services");
	if (v && !json_is_boolean(v))
		return -EINVAL;
	n->bpf_services = json_is_true(v);
	/* 0 (records from before the flags): the pinned maps' sizes */
	if (int_member(j, "svc_max", 0, UINT32_MAX, &max))
		return -EINVAL;
	n->svc_max = max;
	if (int_member(j, "svc_backends_max", 0, UINT32_MAX, &max))
		return -EINVAL;
	n->svc_backends_max = max;
	if (load6(j, n))
		return -EINVAL;
	/* IPv4: all three, or (a node with IPv6 only) none */
	if (*json_str(j, "pod_cidr") || !node_has_ipv6(n) ?
		    cidr_parse(json_str(j, "pod_cidr"), &n->pod_cidr) ||
			    cidr_parse(json_str(j, "cluster_cidr"), &n->cluster_cidr) :
		    0)
		return -EINVAL;
	if (*json_str(j, "node_ip") && ip_parse(json_str(j, "node_ip"), &n->node_ip))
		return -EINVAL;
	return 0;
}

int node_save(const struct ctx *c, const struct node_rec *n)
{
	char path[PATH_MAX];

	node_path(c, path);
	return json_file_save(node_rec_to_json(n), path);
}

int node_load(const struct ctx *c, struct node_rec *n)
{
	char path[PATH_MAX];
	json_t *j;
	int err;

	node_path(c, path);
	err = json_file_load(path, &j);
	if (err)
		return err;
	err = node_rec_from_json(j, n);
	json_decref(j);
	if (err)
		return errorf_raw(-EINVAL, "%s: bad node record", path);
	return 0;
}

int node_remove(const struct ctx *c)
{
	char path[PATH_MAX];

	node_path(c, path);
	return file_remove(path);
}
