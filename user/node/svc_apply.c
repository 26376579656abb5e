// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The service table, as this node's datapath serves it: one frontend per
 * cluster IP, port and protocol (TCP, UDP; SCTP stays kube-proxy's, through
 * the host), with the backends kube-proxy would use on this node: ready
 * endpoints, or serving terminating ones when none is ready; only this
 * node's for internalTrafficPolicy Local. IPv4 frontends and backends only
 * (the datapath's services are IPv4).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "datapath/services.h"
#include "lib/log.h"
#include "node/svc_apply.h"

static int usable(const struct svc_backend *b, const struct service *s,
		  const char *node_name)
{
	if (b->addr.family != AF_INET || !b->port)
		return 0;
	if (s->traffic_policy == SVC_TRAFFIC_LOCAL &&
	    (!node_name || !b->node_name || strcmp(b->node_name, node_name)))
		return 0;
	return 1;
}

/* The backends of port p this node uses, into out; their BL_SVC_* flags. */
static uint32_t choose(const struct service *s, const struct svc_port *p,
		       const char *node_name, struct dp_frontend *f)
{
	uint32_t flags = s->traffic_policy == SVC_TRAFFIC_LOCAL ? BL_SVC_LOCAL : 0;
	size_t i, any = 0;
	int pass;

	/* ready ones; where there is none, serving terminating ones */
	for (pass = 0; pass < 2 && !f->n_be; pass++) {
		for (i = 0; i < p->n_backends; i++) {
			const struct svc_backend *b = &p->backends[i];

			if (b->addr.family == AF_INET && b->port)
				any++;
			if (!usable(b, s, node_name))
				continue;
			if (pass == 0 ? !b->ready : !(b->serving && b->terminating))
				continue;
			memcpy(&f->be[f->n_be].addr, b->addr.a, 4);
			f->be[f->n_be].port = b->port;
			f->n_be++;
		}
		if (pass == 1 && f->n_be)
			flags |= BL_SVC_TERMINATING;
	}
	if (!f->n_be && any && (flags & BL_SVC_LOCAL))
		flags |= BL_SVC_DROP;
	return flags;
}

int svc_table_apply(const struct ctx *c, const struct svc_table *t,
		    const char *node_name, struct dp_sync_stats *st)
{
	struct dp_frontend *fe = NULL;
	struct dp_backend *pool = NULL;
	size_t n_fe = 0, n_pool = 0, used = 0, i, j, k;
	int err;

	for (i = 0; i < t->n; i++)
		for (j = 0; j < t->v[i].n_ports; j++)
			for (k = 0; k < (size_t)t->v[i].n_ips; k++) {
				n_fe++;
				n_pool += t->v[i].ports[j].n_backends;
			}
	fe = calloc(n_fe ?: 1, sizeof(*fe));
	pool = calloc(n_pool ?: 1, sizeof(*pool));
	if (!fe || !pool) {
		err = errorf(-ENOMEM, "service table");
		goto out;
	}
	n_fe = 0;
	for (i = 0; i < t->n; i++) {
		const struct service *s = &t->v[i];

		for (j = 0; j < s->n_ports; j++) {
			const struct svc_port *p = &s->ports[j];

			if (p->def.protocol != IPPROTO_TCP && p->def.protocol != IPPROTO_UDP)
				continue;
			for (k = 0; k < (size_t)s->n_ips; k++) {
				struct dp_frontend *f = &fe[n_fe];

				if (s->ips[k].family != AF_INET)
					continue;
				memcpy(&f->addr, s->ips[k].a, 4);
				f->port = p->def.port;
				f->proto = p->def.protocol;
				f->affinity_s = s->affinity == SVC_AFFINITY_CLIENT_IP ?
							s->affinity_timeout :
							0;
				f->be = pool + used;
				f->flags = choose(s, p, node_name, f);
				used += f->n_be;
				n_fe++;
			}
		}
	}
	err = dp_services_sync(c, fe, n_fe, st);
out:
	free(pool);
	free(fe);
	return err;
}
