// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* node init's options: declared once, for `node init`, `agent` and agent.conf. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "lib/log.h"
#include "node/node.h"

const struct opt_def node_init_opts[] = {
	{ .name = "uplink", .kind = OPT_IFNAME, .id = NI_UPLINK, .arg = "DEV",
	  .flags = OPT_REQUIRED | OPT_AUTO },
	{ .name = "pod-cidr", .kind = OPT_CIDR, .id = NI_POD_CIDR, .arg = "CIDR",
	  .flags = OPT_REQUIRED },
	{ .name = "cluster-cidr", .kind = OPT_CIDR, .id = NI_CLUSTER_CIDR, .arg = "CIDR" },
	{ .name = "node-ip", .kind = OPT_IPV4, .id = NI_NODE_IP, .arg = "IP" },
	{ .name = "nat-ports", .kind = OPT_PORT_RANGE, .id = NI_NAT_PORTS, .arg = "LO-HI" },
	{ .name = "nat-max", .kind = OPT_UINT, .id = NI_NAT_MAX, .arg = "N", .min = 16,
	  .max = 1u << 26, .unit = "a number of entries" },
	{ .name = "no-masquerade", .kind = OPT_CIDR, .id = NI_NOMASQ, .arg = "CIDR",
	  .flags = OPT_REPEAT },
	{ .name = "masquerade", .kind = OPT_ONOFF, .id = NI_MASQUERADE, .arg = "on|off" },
	{ .name = "service-cidr", .kind = OPT_CIDR, .id = NI_SVC_CIDR, .arg = "CIDR",
	  .flags = OPT_REPEAT },
	{ .name = "bpf-services", .kind = OPT_ONOFF, .id = NI_BPF_SERVICES, .arg = "on|off" },
	{}
};

int node_init_set(struct node_init_req *r, const struct opt_def *d,
		  const union opt_value *v, int *fresh_list)
{
	switch (d->id) {
	case NI_UPLINK: snprintf(r->uplink, sizeof(r->uplink), "%s", v->str); break;
	case NI_POD_CIDR: r->pod_cidr = v->cidr; break;
	case NI_CLUSTER_CIDR: r->cluster_cidr = v->cidr; break;
	case NI_NODE_IP: r->node_ip = v->ip; break;
	case NI_NAT_PORTS:
		r->nat_port_min = v->range.lo;
		r->nat_port_max = v->range.hi;
		break;
	case NI_NAT_MAX: r->nat_max = v->u; break;
	case NI_MASQUERADE: r->masquerade = v->on; break;
	case NI_NOMASQ:
		if (fresh_list && *fresh_list) {
			*fresh_list = 0;
			r->n_nomasq = 0;
		}
		if (r->n_nomasq == BL_MAX_NOMASQ - 1)
			return errorf_raw(-E2BIG, "at most %d no-masquerade prefixes",
					  BL_MAX_NOMASQ - 1);
		r->nomasq[r->n_nomasq++] = v->cidr;
		break;
	case NI_SVC_CIDR:
		/* a repeated flag adds, the first one replaces the default */
		if (!(r->given & NI_SVC_CIDR))
			r->n_svc_cidr = 0;
		if (r->n_svc_cidr == BL_MAX_SVC_CIDRS)
			return errorf_raw(-E2BIG, "at most %d service CIDRs", BL_MAX_SVC_CIDRS);
		r->svc_cidr[r->n_svc_cidr++] = v->cidr;
		break;
	case NI_BPF_SERVICES: r->bpf_services = v->on; break;
	default: return errorf_raw(-EINVAL, "%s: not a node init option", d->name);
	}
	r->given |= d->id;
	return 0;
}

void node_init_req_from_rec(const struct node_rec *n, struct node_init_req *r)
{
	memset(r, 0, sizeof(*r));
	r->given = NI_UPLINK | NI_POD_CIDR | NI_CLUSTER_CIDR | NI_NODE_IP |
		   NI_MASQUERADE | NI_NOMASQ;
	snprintf(r->uplink, sizeof(r->uplink), "%s", n->uplink);
	r->pod_cidr = n->pod_cidr;
	r->cluster_cidr = n->cluster_cidr;
	r->node_ip = n->node_ip;
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
	r->given |= missing;
}
