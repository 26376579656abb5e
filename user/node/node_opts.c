// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * node init's options: declared once, for `node init`, `agent` and
 * agent.conf. The address options take either family: --pod-cidr,
 * --cluster-cidr and --node-ip once per family (a later one of the same
 * family replaces the earlier), --no-masquerade and --service-cidr as
 * lists of both.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "lib/log.h"
#include "node/node.h"

const struct opt_def node_init_opts[] = {
	{ .name = "uplink", .kind = OPT_IFNAME, .id = NI_UPLINK, .arg = "DEV",
	  .flags = OPT_REQUIRED | OPT_AUTO },
	{ .name = "pod-cidr", .kind = OPT_PREFIX, .id = NI_POD_CIDR, .arg = "CIDR",
	  .flags = OPT_REQUIRED | OPT_REPEAT },
	{ .name = "cluster-cidr", .kind = OPT_PREFIX, .id = NI_CLUSTER_CIDR, .arg = "CIDR",
	  .flags = OPT_REPEAT },
	{ .name = "node-ip", .kind = OPT_IP, .id = NI_NODE_IP, .arg = "IP",
	  .flags = OPT_REPEAT },
	{ .name = "nat-ports", .kind = OPT_PORT_RANGE, .id = NI_NAT_PORTS, .arg = "LO-HI" },
	{ .name = "nat-max", .kind = OPT_UINT, .id = NI_NAT_MAX, .arg = "N", .min = 16,
	  .max = 1u << 26, .unit = "a number of entries" },
	{ .name = "no-masquerade", .kind = OPT_PREFIX, .id = NI_NOMASQ, .arg = "CIDR",
	  .flags = OPT_REPEAT },
	{ .name = "masquerade", .kind = OPT_ONOFF, .id = NI_MASQUERADE, .arg = "on|off" },
	{ .name = "masquerade6", .kind = OPT_ONOFF, .id = NI_MASQUERADE6, .arg = "on|off" },
	{ .name = "service-cidr", .kind = OPT_PREFIX, .id = NI_SVC_CIDR, .arg = "CIDR",
	  .flags = OPT_REPEAT },
	{ .name = "bpf-services", .kind = OPT_ONOFF, .id = NI_BPF_SERVICES, .arg = "on|off" },
	{ .name = "svc-max", .kind = OPT_UINT, .id = NI_SVC_MAX, .arg = "N", .min = 1,
	  .max = BL_SVC_MAX_LIMIT, .unit = "a number of service frontends" },
	{ .name = "svc-backends-max", .kind = OPT_UINT, .id = NI_SVC_BACKENDS_MAX, .arg = "N",
	  .min = 1, .max = BL_SVC_BACKENDS_MAX_LIMIT, .unit = "a number of backend slots" },
	{}
};

/* --no-masquerade of either family, to its list. */
static int add_nomasq(struct node_init_req *r, const struct prefix *p, int *fresh_list)
{
	if (fresh_list && *fresh_list) {
		*fresh_list = 0;
		r->n_nomasq = r->n_nomasq6 = 0;
	}
	if (p->family == AF_INET6) {
		if (r->n_nomasq6 == BL_MAX_NOMASQ - 1)
			return errorf_raw(-E2BIG, "at most %d IPv6 no-masquerade prefixes",
					  BL_MAX_NOMASQ - 1);
		r->nomasq6[r->n_nomasq6++] = *p;
		r->given |= NI_NOMASQ6;
		return 0;
	}
	if (r->n_nomasq == BL_MAX_NOMASQ - 1)
		return errorf_raw(-E2BIG, "at most %d no-masquerade prefixes",
				  BL_MAX_NOMASQ - 1);
	prefix_to_cidr(p, &r->nomasq[r->n_nomasq++]);
	r->given |= NI_NOMASQ;
	return 0;
}

/* --service-cidr: IPv4 ones to the list, one IPv6 one. */
static int add_svc_cidr(struct node_init_req *r, const struct prefix *p)
{
	if (p->family == AF_INET6) {
		if (r->given & NI_SVC_CIDR6)
			return errorf_raw(-E2BIG, "at most one IPv6 service CIDR");
		r->svc_cidr6 = *p;
		r->given |= NI_SVC_CIDR6;
		return 0;
	}
	/* a repeated flag adds, the first one replaces the default */
	if (!(r->given & NI_SVC_CIDR))
		r->n_svc_cidr = 0;
	if (r->n_svc_cidr == BL_MAX_SVC_CIDRS)
		return errorf_raw(-E2BIG, "at most %d IPv4 service CIDRs", BL_MAX_SVC_CIDRS);
	prefix_to_cidr(p, &r->svc_cidr[r->n_svc_cidr++]);
	r->given |= NI_SVC_CIDR;
	return 0;
}

int node_init_set(struct node_init_req *r, const struct opt_def *d,
		  const union opt_value *v, int *fresh_list)
{
	int v6 = (d->kind == OPT_PREFIX && v->prefix.family == AF_INET6) ||
		 (d->kind == OPT_IP && v->addr.family == AF_INET6);

	switch (d->id) {
	case NI_UPLINK: snprintf(r->uplink, sizeof(r->uplink), "%s", v->str); break;
	case NI_POD_CIDR:
		if (v6) {
			r->pod_cidr6 = v->prefix;
			r->given |= NI_POD_CIDR6;
			return 0;
		}
		prefix_to_cidr(&v->prefix, &r->pod_cidr);
		break;
	case NI_CLUSTER_CIDR:
		if (v6) {
			r->cluster_cidr6 = v->prefix;
			r->given |= NI_CLUSTER_CIDR6;
			return 0;
		}
		prefix_to_cidr(&v->prefix, &r->cluster_cidr);
		break;
	case NI_NODE_IP:
		if (v6) {
			memcpy(r->node_ip6, v->addr.a, 16);
			r->given |= NI_NODE_IP6;
			return 0;
		}
		memcpy(&r->node_ip, v->addr.a, 4);
		break;
	case NI_NAT_PORTS:
		r->nat_port_min = v->range.lo;
		r->nat_port_max = v->range.hi;
		break;
	case NI_NAT_MAX: r->nat_max = v->u; break;
	case NI_MASQUERADE: r->masquerade = v->on; break;
	case NI_MASQUERADE6: r->masquerade6 = v->on; break;
	case NI_NOMASQ: return add_nomasq(r, &v->prefix, fresh_list);
	case NI_SVC_CIDR: return add_svc_cidr(r, &v->prefix);
	case NI_BPF_SERVICES: r->bpf_services = v->on; break;
	case NI_SVC_MAX: r->svc_max = v->u; break;
	case NI_SVC_BACKENDS_MAX: r->svc_backends_max = v->u; break;
	default: return errorf_raw(-EINVAL, "%s: not a node init option", d->name);
	}
	r->given |= d->id;
	return 0;
}

void node_init_req_from_rec(const struct node_rec *n, struct node_init_req *r)
{
	memset(r, 0, sizeof(*r));
	r->given = NI_UPLINK | NI_MASQUERADE | NI_NOMASQ;
	snprintf(r->uplink, sizeof(r->uplink), "%s", n->uplink);
	if (node_has_ipv4(n)) {
		r->given |= NI_POD_CIDR | NI_CLUSTER_CIDR;
		r->pod_cidr = n->pod_cidr;
		r->cluster_cidr = n->cluster_cidr;
	}
	if (n->node_ip) {
		r->given |= NI_NODE_IP;
		r->node_ip = n->node_ip;
	}
	r->masquerade = n->masquerade;
	if (n->nat_port_min) {
		r->given |= NI_NAT_PORTS;
		r->nat_port_min = n->nat_port_min;
		r->nat_port_max = n->nat_port_max;
	}
	if (n->nat_max) {
		r->given |= NI_NAT_MAX;
		r->nat_max = n->nat_max;
	}
	r->n_nomasq = n->n_nomasq < BL_MAX_NOMASQ - 1 ? n->n_nomasq : BL_MAX_NOMASQ - 1;
	memcpy(r->nomasq, n->nomasq, r->n_nomasq * sizeof(r->nomasq[0]));
	r->given |= NI_SVC_CIDR | NI_BPF_SERVICES;
	r->n_svc_cidr = n->n_svc_cidr;
	memcpy(r->svc_cidr, n->svc_cidr, sizeof(r->svc_cidr));
	r->bpf_services = n->bpf_services;
	if (n->svc_max) {
		r->given |= NI_SVC_MAX;
		r->svc_max = n->svc_max;
	}
	if (n->svc_backends_max) {
		r->given |= NI_SVC_BACKENDS_MAX;
		r->svc_backends_max = n->svc_backends_max;
	}
	if (node_has_ipv6(n)) {
		r->given |= NI_POD_CIDR6 | NI_CLUSTER_CIDR6 | NI_NODE_IP6 | NI_MASQUERADE6 |
			    NI_NOMASQ6;
		r->pod_cidr6 = n->pod_cidr6;
		r->cluster_cidr6 = n->cluster_cidr6;
		memcpy(r->node_ip6, n->node_ip6, 16);
		r->masquerade6 = n->masquerade6;
		r->n_nomasq6 = n->n_nomasq6 < BL_MAX_NOMASQ - 1 ? n->n_nomasq6 :
								  BL_MAX_NOMASQ - 1;
		memcpy(r->nomasq6, n->nomasq6, r->n_nomasq6 * sizeof(r->nomasq6[0]));
	}
	if (n->svc_cidr6.family == AF_INET6) {
		r->given |= NI_SVC_CIDR6;
		r->svc_cidr6 = n->svc_cidr6;
	}
}

void node_init_req_fill(struct node_init_req *r, const struct node_init_req *from)
{
	unsigned int missing = from->given & ~r->given;

	if (missing & NI_UPLINK)
		memcpy(r->uplink, from->uplink, sizeof(r->uplink));
	if (missing & NI_POD_CIDR)
		r->pod_cidr = from->pod_cidr;
	if (missing & NI_CLUSTER_CIDR)
		r->cluster_cidr = from->cluster_cidr;
	if (missing & NI_NODE_IP)
		r->node_ip = from->node_ip;
	if (missing & NI_NAT_PORTS) {
		r->nat_port_min = from->nat_port_min;
		r->nat_port_max = from->nat_port_max;
	}
	if (missing & NI_NAT_MAX)
		r->nat_max = from->nat_max;
	if (missing & NI_MASQUERADE)
		r->masquerade = from->masquerade;
	if (missing & NI_NOMASQ) {
		memcpy(r->nomasq, from->nomasq, sizeof(r->nomasq));
		r->n_nomasq = from->n_nomasq;
	}
	if (missing & NI_SVC_CIDR) {
		memcpy(r->svc_cidr, from->svc_cidr, sizeof(r->svc_cidr));
		r->n_svc_cidr = from->n_svc_cidr;
	}
	if (missing & NI_BPF_SERVICES)
		r->bpf_services = from->bpf_services;
	if (missing & NI_SVC_MAX)
		r->svc_max = from->svc_max;
	if (missing & NI_SVC_BACKENDS_MAX)
		r->svc_backends_max = from->svc_backends_max;
	if (missing & NI_POD_CIDR6)
		r->pod_cidr6 = from->pod_cidr6;
	if (missing & NI_CLUSTER_CIDR6)
		r->cluster_cidr6 = from->cluster_cidr6;
	if (missing & NI_NODE_IP6)
		memcpy(r->node_ip6, from->node_ip6, 16);
	if (missing & NI_MASQUERADE6)
		r->masquerade6 = from->masquerade6;
	if (missing & NI_NOMASQ6) {
		memcpy(r->nomasq6, from->nomasq6, sizeof(r->nomasq6));
		r->n_nomasq6 = from->n_nomasq6;
	}
	if (missing & NI_SVC_CIDR6)
		r->svc_cidr6 = from->svc_cidr6;
	r->given |= missing;
}
