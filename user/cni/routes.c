// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The IPAM plugin's routes (host-local: the configuration's ipam.routes):
 * read from its result, added in the pod's netns through the pod's
 * gateway by pod_add(), listed in the ADD result, looked for by CHECK.
 * Every route goes through 169.254.1.1 whatever "gw" the plugin names: a
 * pod has a /32 and one way out, its veth. IPv6 routes are skipped, as
 * IPv6 addresses are; 0.0.0.0/0 is the pod's default route already.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include "cni/cni.h"
#include "lib/log.h"
#include "netlink/route.h"


int cni_ipam_routes(const struct cni_req *r, json_t *result, struct pod_routes *out)
{
	static const char *const unsupported[] = { "mtu", "advmss", "priority",
						   "table", "scope", NULL };
	json_t *routes = json_object_get(result, "routes"), *rt;
	const char *dst, *gw;
	struct cidr c;
	size_t i, k;

	out->n = 0;
	if (!routes || json_is_null(routes))
		return 0;
	if (!json_is_array(routes))
		return cni_errorf(CNI_ERR_IPAM, -EINVAL,
				  "ipam %s: result \"routes\" is not a list", r->ipam_type);
	json_array_foreach(routes, i, rt) {
		dst = json_string_value(json_object_get(rt, "dst"));
		if (!dst)
			return cni_errorf(CNI_ERR_CONFIG, -EINVAL,
					  "ipam %s: route %zu has no \"dst\"", r->ipam_type, i);
		if (strchr(dst, ':')) {
			pr_info("ipam %s: route %s skipped (bridgeless is IPv4-only for now)",
				r->ipam_type, dst);
			continue;
		}
		if (cidr_parse(dst, &c))
			return cni_errorf(CNI_ERR_CONFIG, -EINVAL,
					  "ipam %s: route dst \"%s\" is not an IPv4 prefix a.b.c.d/len with the host bits clear",
					  r->ipam_type, dst);
		for (k = 0; unsupported[k]; k++)
			if (json_object_get(rt, unsupported[k]))
				return cni_errorf(CNI_ERR_CONFIG, -EINVAL,
						  "ipam %s: route %s: \"%s\" is not supported by bridgeless (remove it)",
						  r->ipam_type, dst, unsupported[k]);
		gw = json_string_value(json_object_get(rt, "gw"));
		if (gw && strcmp(gw, BL_GATEWAY_IP_STR))
			pr_info("ipam %s: route %s goes via the pod's gateway " BL_GATEWAY_IP_STR ", not %s",
				r->ipam_type, dst, gw);
		if (c.len == 0)
			continue; /* the default route, which every pod has */
		if (out->n == POD_ROUTES_MAX)
			return cni_errorf(CNI_ERR_CONFIG, -E2BIG,
					  "ipam %s: more than %d routes", r->ipam_type,
					  POD_ROUTES_MAX);
		out->r[out->n].dst = c.net;
		out->r[out->n].dst_len = c.len;
		out->n++;
	}
	return 0;
}

void cni_routes_result(json_t *routes, const struct pod_routes *rs)
{
	char dst[20];
	struct cidr c;
	unsigned int i;

	for (i = 0; i < rs->n; i++) {
		cidr_from(&c, rs->r[i].dst, rs->r[i].dst_len);
		json_array_append_new(routes, json_pack("{s:s, s:s}", "dst",
							cidr_str(&c, dst), "gw", BL_GATEWAY_IP_STR));
	}
}

int cni_check_routes(const struct cni_req *r, struct nl *nl, int oif)
{
	struct route_spec want = { .gateway = htonl(BL_GATEWAY_IP), .oif = oif };
	const char *dst, *gw;
	struct cidr c;
	json_t *rt;
	size_t i;
	int err;

	json_array_foreach(json_object_get(r->prev_result, "routes"), i, rt) {
		dst = json_string_value(json_object_get(rt, "dst"));
		gw = json_string_value(json_object_get(rt, "gw"));
		/* Ours: through our gateway; the default route is checked on its own. */
		if (!dst || !gw || strcmp(gw, BL_GATEWAY_IP_STR) || cidr_parse(dst, &c) || !c.len)
			continue;
		want.dst = c.net;
		want.dst_len = c.len;
		err = route_exists(nl, &want);
		if (err < 0)
			return cni_error_code(CNI_ERR_DATAPATH,
					      error_prefix(err, "netns %s", r->netns));
		if (!err)
			return cni_errorf(CNI_ERR_CHECK, -EINVAL,
					  "netns %s has no route to %s via " BL_GATEWAY_IP_STR " on %s",
					  r->netns, dst, r->ifname);
	}
	return 0;
}
