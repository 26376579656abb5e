// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The service table as a value: freeing, comparing, counting. */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <netinet/in.h>
#include "node/services.h"

static void portdefs_free(struct svc_portdef *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(p[i].name);
	free(p);
}

static void backends_free(struct svc_backend *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(b[i].node_name);
	free(b);
}

void svc_spec_free(struct svc_spec *s)
{
	if (!s)
		return;
	free(s->ns);
	free(s->name);
	portdefs_free(s->ports, s->n_ports);
	free(s);
}

void svc_slice_free(struct svc_slice *s)
{
	if (!s)
		return;
	free(s->ns);
	free(s->name);
	free(s->service);
	portdefs_free(s->ports, s->n_ports);
	backends_free(s->eps, s->n_eps);
	free(s);
}

static void service_free(struct service *s)
{
	size_t i;

	free(s->ns);
	free(s->name);
	for (i = 0; i < s->n_ports; i++) {
		free(s->ports[i].def.name);
		backends_free(s->ports[i].backends, s->ports[i].n_backends);
	}
	free(s->ports);
}

void svc_table_free(struct svc_table *t)
{
	size_t i;

	for (i = 0; t && i < t->n; i++)
		service_free(&t->v[i]);
	if (t) {
		free(t->v);
		t->v = NULL;
		t->n = 0;
	}
}

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int backend_equal(const struct svc_backend *a, const struct svc_backend *b)
{
	return !ipaddr_cmp(&a->addr, &b->addr) && a->port == b->port &&
	       a->ready == b->ready && a->serving == b->serving &&
	       a->terminating == b->terminating && str_eq(a->node_name, b->node_name);
}

static int port_equal(const struct svc_port *a, const struct svc_port *b)
{
	size_t i;

	if (!str_eq(a->def.name, b->def.name) || a->def.protocol != b->def.protocol ||
	    a->def.port != b->def.port || a->n_backends != b->n_backends)
		return 0;
	for (i = 0; i < a->n_backends; i++)
		if (!backend_equal(&a->backends[i], &b->backends[i]))
			return 0;
	return 1;
}

int service_equal(const struct service *a, const struct service *b)
{
	size_t i;
	int k;

	if (!str_eq(a->ns, b->ns) || !str_eq(a->name, b->name) || a->n_ips != b->n_ips ||
	    a->affinity != b->affinity || a->affinity_timeout != b->affinity_timeout ||
	    a->traffic_policy != b->traffic_policy || a->n_ports != b->n_ports)
		return 0;
	for (k = 0; k < a->n_ips; k++)
		if (ipaddr_cmp(&a->ips[k], &b->ips[k]))
			return 0;
	for (i = 0; i < a->n_ports; i++)
		if (!port_equal(&a->ports[i], &b->ports[i]))
			return 0;
	return 1;
}

static int service_order(const struct service *a, const struct service *b)
{
	int r = strcmp(a->ns, b->ns);

	return r ? r : strcmp(a->name, b->name);
}

size_t svc_table_diff(const struct svc_table *old, const struct svc_table *new,
		      void (*fn)(const struct service *old,
				 const struct service *new, void *data),
		      void *data)
{
	size_t i = 0, j = 0, n = 0;

	/* Both are sorted: one merge walk. */
	while (i < old->n || j < new->n) {
		int r = i == old->n ? 1 : j == new->n ? -1 :
			service_order(&old->v[i], &new->v[j]);

		if (r < 0) {
			fn(&old->v[i++], NULL, data);
			n++;
		} else if (r > 0) {
			fn(NULL, &new->v[j++], data);
			n++;
		} else {
			if (!service_equal(&old->v[i], &new->v[j])) {
				fn(&old->v[i], &new->v[j], data);
				n++;
			}
			i++;
			j++;
		}
	}
	return n;
}

void svc_table_count(const struct svc_table *t, size_t *backends, size_t *ready)
{
	size_t i, k, b, nb = 0, nr = 0;

	for (i = 0; i < t->n; i++)
		for (k = 0; k < t->v[i].n_ports; k++) {
			const struct svc_port *p = &t->v[i].ports[k];

			nb += p->n_backends;
			for (b = 0; b < p->n_backends; b++)
				nr += p->backends[b].ready;
		}
	if (backends)
		*backends = nb;
	if (ready)
		*ready = nr;
}

const char *svc_protocol_name(uint8_t protocol)
{
	switch (protocol) {
	case IPPROTO_TCP: return "TCP";
	case IPPROTO_UDP: return "UDP";
	case IPPROTO_SCTP: return "SCTP";
	default: return "?";
	}
}

int svc_protocol_parse(const char *s, uint8_t *protocol)
{
	if (!strcmp(s, "TCP"))
		*protocol = IPPROTO_TCP;
	else if (!strcmp(s, "UDP"))
		*protocol = IPPROTO_UDP;
	else if (!strcmp(s, "SCTP"))
		*protocol = IPPROTO_SCTP;
	else
		return -EINVAL;
	return 0;
}
