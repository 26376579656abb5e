// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The service table from Services and EndpointSlices. A Service port's
 * backends are the endpoints of the Service's slices (label
 * kubernetes.io/service-name) on the slice port of the same name and
 * protocol: that is how a named targetPort resolves to a different port
 * number per pod. An endpoint listed by two slices (while the controller
 * moves it) counts once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/log.h"
#include "node/services.h"

static int spec_order(const void *a, const void *b)
{
	const struct svc_spec *x = *(struct svc_spec *const *)a;
	const struct svc_spec *y = *(struct svc_spec *const *)b;
	int r = strcmp(x->ns, y->ns);

	return r ? r : strcmp(x->name, y->name);
}

/* By the Service they belong to, then by their own name. */
static int slice_order(const void *a, const void *b)
{
	const struct svc_slice *x = *(struct svc_slice *const *)a;
	const struct svc_slice *y = *(struct svc_slice *const *)b;
	int r = strcmp(x->ns, y->ns);

	if (!r)
		r = strcmp(x->service, y->service);
	return r ? r : strcmp(x->name, y->name);
}

static int slice_vs_service(const struct svc_slice *s, const struct svc_spec *svc)
{
	int r = strcmp(s->ns, svc->ns);

	return r ? r : strcmp(s->service, svc->name);
}

/* The first slice of svc in the sorted slices (n if none). */
static size_t first_slice(struct svc_slice *const *v, size_t n, const struct svc_spec *svc)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (slice_vs_service(v[mid], svc) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Same endpoint first by address and port; of two, the more alive one first. */
static int backend_order(const void *a, const void *b)
{
	const struct svc_backend *x = a, *y = b;
	int r = ipaddr_cmp(&x->addr, &y->addr);

	if (r)
		return r;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->ready != y->ready)
		return y->ready - x->ready;
	if (x->serving != y->serving)
		return y->serving - x->serving;
	if (x->terminating != y->terminating)
		return x->terminating - y->terminating;
	return strcmp(x->node_name ?: "", y->node_name ?: "");
}

static char *dup_or_null(const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

static const struct svc_portdef *slice_port(const struct svc_slice *s,
					    const struct svc_portdef *want)
{
	size_t i;

	for (i = 0; i < s->n_ports; i++)
		if (s->ports[i].protocol == want->protocol &&
		    !strcmp(s->ports[i].name, want->name))
			return &s->ports[i];
	return NULL;
}

static int build_port(struct svc_slice *const *slices, size_t n_slices,
		      const struct svc_portdef *def, struct svc_port *out)
{
	size_t i, k, n = 0, cap = 0, w;
	struct svc_backend *b = NULL;
	int oom = 0;

	memset(out, 0, sizeof(*out));
	out->def = *def;
	out->def.name = strdup(def->name);
	if (!out->def.name)
		return -ENOMEM;
	for (i = 0; i < n_slices; i++) {
		const struct svc_portdef *sp = slice_port(slices[i], def);

		if (!sp)
			continue;
		if (n + slices[i]->n_eps > cap) {
			struct svc_backend *nb;

			cap = (n + slices[i]->n_eps) * 2;
			nb = realloc(b, cap * sizeof(*b));
			if (!nb) {
				oom = 1;
				break;
			}
			b = nb;
		}
		for (k = 0; k < slices[i]->n_eps; k++) {
			b[n] = slices[i]->eps[k];
			b[n].port = sp->port;
			/* borrowed from the slice; copied once deduplicated */
			b[n].node_name = slices[i]->eps[k].node_name;
			n++;
		}
	}
	if (n)
		qsort(b, n, sizeof(*b), backend_order);
	/* Drop duplicates, then give each kept backend its own node name. */
	for (i = 0, w = 0; i < n; i++) {
		if (w && !ipaddr_cmp(&b[w - 1].addr, &b[i].addr) && b[w - 1].port == b[i].port)
			continue;
		b[w++] = b[i];
	}
	for (i = 0; i < w; i++)
		b[i].node_name = oom ? NULL : dup_or_null(b[i].node_name, &oom);
	out->backends = b;
	out->n_backends = w;
	return oom ? -ENOMEM : 0;
}

static int build_service(const struct svc_spec *spec, struct svc_slice *const *slices,
			 size_t n_slices, struct service *out)
{
	size_t i;
	int err = 0;

	memset(out, 0, sizeof(*out));
	out->ns = strdup(spec->ns);
	out->name = strdup(spec->name);
	memcpy(out->ips, spec->ips, sizeof(out->ips));
	out->n_ips = spec->n_ips;
	out->affinity = spec->affinity;
	out->affinity_timeout = spec->affinity == SVC_AFFINITY_CLIENT_IP ?
					spec->affinity_timeout : 0;
	out->traffic_policy = spec->traffic_policy;
	out->ports = calloc(spec->n_ports ?: 1, sizeof(*out->ports));
	if (!out->ns || !out->name || !out->ports)
		return -ENOMEM;
	for (i = 0; i < spec->n_ports && !err; i++) {
		err = build_port(slices, n_slices, &spec->ports[i], &out->ports[i]);
		out->n_ports = i + 1;
	}
	return err;
}

int svc_table_build(struct svc_spec *const *specs, size_t n_specs,
		    struct svc_slice *const *slices, size_t n_slices,
		    struct svc_table *out)
{
	struct svc_spec **sv = NULL;
	struct svc_slice **sl = NULL;
	size_t i, first, last;
	int err = 0;

	memset(out, 0, sizeof(*out));
	sv = malloc((n_specs ?: 1) * sizeof(*sv));
	sl = malloc((n_slices ?: 1) * sizeof(*sl));
	out->v = calloc(n_specs ?: 1, sizeof(*out->v));
	if (!sv || !sl || !out->v) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(sv, specs, n_specs * sizeof(*sv));
	memcpy(sl, slices, n_slices * sizeof(*sl));
	qsort(sv, n_specs, sizeof(*sv), spec_order);
	qsort(sl, n_slices, sizeof(*sl), slice_order);
	for (i = 0; i < n_specs && !err; i++) {
		first = first_slice(sl, n_slices, sv[i]);
		for (last = first; last < n_slices && !slice_vs_service(sl[last], sv[i]); last++)
			;
		err = build_service(sv[i], sl + first, last - first, &out->v[i]);
		out->n = i + 1;
	}
out:
	free(sv);
	free(sl);
	if (err) {
		svc_table_free(out);
		return errorf(err, "service table");
	}
	return 0;
}
