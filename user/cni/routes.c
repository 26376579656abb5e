// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The IPAM plugin's routes (host-local: the configuration's ipam.routes):
 * read from its result, added in the pod's netns through the pod's
 * gateway of their family by pod_add(), listed in the ADD result, looked
 * for by CHECK. Every route goes through 169.254.1.1 (IPv4) or fe80::1
 * (IPv6) whatever "gw" the plugin names: a pod has a /32 and a /128 and one
 * way out, its veth. 0.0.0.0/0 and ::/0 are the pod's default routes
 * already.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include "cni/cni.h"
#include "lib/log.h"
#include "netlink/route.h"

/* The gateway of a family, as the result names it. */
static const char *gateway_of(int family)
{
	return family == AF_INET6 ? BL_GATEWAY_IP6_STR : BL_GATEWAY_IP_STR;
}

int cni_ipam_routes(const struct cni_req *r, json_t *result, struct pod_routes *out)
{
	static const char *const unsupported[] = { "mtu", "advmss", "priority",
						   "table", "scope", NULL };
	json_t *routes = json_object_get(result, "routes"), *rt;
	const char *dst, *gw;
	struct prefix c;
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
		if (prefix_parse(dst, &c))
			return cni_errorf(CNI_ERR_CONFIG, -EINVAL,
					  "ipam %s: route dst \"%s\" is not a prefix (a.b.c.d/len or IPv6) with the host bits clear",
					  r->ipam_type, dst);
		for (k = 0; unsupported[k]; k++)
			if (json_object_get(rt, unsupported[k]))
				return cni_errorf(CNI_ERR_CONFIG, -EINVAL,
						  "ipam %s: route %s: \"%s\" is not supported by bridgeless (remove it)",
						  r->ipam_type, dst, unsupported[k]);
		gw = json_string_value(json_object_get(rt, "gw"));
		if (gw && strcmp(gw, gateway_of(c.family)))
			pr_info("ipam %s: route %s goes via the pod's gateway %s, not %s",
				r->ipam_type, dst, gateway_of(c.family), gw);
		if (c.len == 0)
			continue; /* a default route, which every pod has */
		if (out->n == POD_ROUTES_MAX)
			return cni_errorf(CNI_ERR_CONFIG, -E2BIG,
					  "ipam %s: more than %d routes", r->ipam_type,
					  POD_ROUTES_MAX);
		out->r[out->n++] = c;
	}
	return 0;
}

void cni_routes_result(json_t *routes, const struct pod_routes *rs, const struct pod_rec *p)
{
	char dst[PREFIX_STRLEN];
	unsigned int i;

	for (i = 0; i < rs->n; i++) {
		const struct prefix *c = &rs->r[i];

		/* a family the pod has no address of got no route either */
		if (c->family == AF_INET6 ? !p->has_ip6 : !p->ip)
			continue;
		json_array_append_new(routes, json_pack("{s:s, s:s}", "dst",
							prefix_str(c, dst), "gw",
							gateway_of(c->family)));
	}
}

int cni_check_routes(const struct cni_req *r, struct nl *nl, int oif)
{
	const char *dst, *gw;
	struct prefix c;
	json_t *rt;
	size_t i;
	int err;

	json_array_foreach(json_object_get(r->prev_result, "routes"), i, rt) {
		struct route_spec want = { .oif = oif };

		dst = json_string_value(json_object_get(rt, "dst"));
		gw = json_string_value(json_object_get(rt, "gw"));
		/* Ours: through our gateway; the default routes are checked on their own. */
		if (!dst || !gw || prefix_parse(dst, &c) || !c.len ||
		    strcmp(gw, gateway_of(c.family)))
			continue;
		want.dst_len = c.len;
		if (c.family == AF_INET6) {
			struct ipaddr g;

			want.family = AF_INET6;
			memcpy(want.dst6, c.net, 16);
			ipaddr_parse(BL_GATEWAY_IP6_STR, &g);
			memcpy(want.gateway6, g.a, 16);
		} else {
			memcpy(&want.dst, c.net, 4);
			want.gateway = htonl(BL_GATEWAY_IP);
		}
		err = route_exists(nl, &want);
		if (err < 0)
			return cni_error_code(CNI_ERR_DATAPATH,
					      error_prefix(err, "netns %s", r->netns));
		if (!err)
			return cni_errorf(CNI_ERR_CHECK, -EINVAL,
					  "netns %s has no route to %s via %s on %s",
					  r->netns, dst, gw, r->ifname);
	}
	return 0;
}
