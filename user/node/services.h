/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The service table: every Kubernetes Service with a cluster IP as the
 * node must know it to load-balance it: its cluster IPs, its ports, session
 * affinity and internal traffic policy, and per port the backends its
 * EndpointSlices name, with their conditions and node. The agent builds it
 * from Services and EndpointSlices (from the API or a file) and saves it as
 * STATE/services.json; the datapath's service maps are filled from it.
 *
 * A value type: a table owns all its memory, two tables can be compared to
 * tell what changed, and it reads back from its JSON form.
 */
#ifndef BL_SERVICES_H
#define BL_SERVICES_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lib/addr.h"
#include "lib/ctx.h"

#define SVC_TABLE_FILE "services.json" /* under the state dir */
#define SVC_IPS_MAX 2 /* spec.clusterIPs: one per family */
#define SVC_AFFINITY_TIMEOUT_DEFAULT 10800 /* Kubernetes' default, seconds */

enum svc_affinity { SVC_AFFINITY_NONE, SVC_AFFINITY_CLIENT_IP };
enum svc_traffic_policy { SVC_TRAFFIC_CLUSTER, SVC_TRAFFIC_LOCAL };

/* A port as a Service or an EndpointSlice names it. */
struct svc_portdef {
	char *name; /* "" when unnamed (a Service's only port) */
	uint8_t protocol; /* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP */
	uint16_t port;
};

/* An endpoint of a service port (in a slice: port 0, the slice's ports apply). */
struct svc_backend {
	struct ipaddr addr;
	uint16_t port;
	uint8_t ready, serving, terminating;
	char *node_name; /* NULL when the slice does not say */
};

struct svc_port {
	struct svc_portdef def;
	struct svc_backend *backends; /* by address, then port; no duplicates */
	size_t n_backends;
};

struct service {
	char *ns, *name;
	struct ipaddr ips[SVC_IPS_MAX]; /* the primary family first */
	int n_ips;
	enum svc_affinity affinity;
	uint32_t affinity_timeout; /* seconds; 0 without ClientIP affinity */
	enum svc_traffic_policy traffic_policy;
	struct svc_port *ports; /* in the Service's order */
	size_t n_ports;
};

/* By namespace, then name. */
struct svc_table {
	struct service *v;
	size_t n;
};

/* --- what the table is built from (the agent decodes these) ---------------- */

/* A Service with a cluster IP (headless and ExternalName ones are not). */
struct svc_spec {
	char *ns, *name;
	struct ipaddr ips[SVC_IPS_MAX];
	int n_ips;
	enum svc_affinity affinity;
	uint32_t affinity_timeout;
	enum svc_traffic_policy traffic_policy;
	struct svc_portdef *ports;
	size_t n_ports;
};

/* An EndpointSlice: its Service (label kubernetes.io/service-name), ports, endpoints. */
struct svc_slice {
	char *ns, *name, *service;
	struct svc_portdef *ports;
	size_t n_ports;
	struct svc_backend *eps; /* the first address of each endpoint */
	size_t n_eps;
};

void svc_spec_free(struct svc_spec *s);
void svc_slice_free(struct svc_slice *s);

/*
 * The table for these Services and slices: a service port's backends are
 * the endpoints of the Service's slices, on the slice port of the same name
 * and protocol. The inputs may be in any order; they are not changed.
 */
int svc_table_build(struct svc_spec *const *specs, size_t n_specs,
		    struct svc_slice *const *slices, size_t n_slices,
		    struct svc_table *out);

/* --- the table ---------------------------------------------------------------- */

void svc_table_free(struct svc_table *t);
int service_equal(const struct service *a, const struct service *b);
/*
 * Calls fn(old, new, data) for every service that differs: (NULL, s) added,
 * (s, NULL) removed, (a, b) changed. Returns how many differ.
 */
size_t svc_table_diff(const struct svc_table *old, const struct svc_table *new,
		      void (*fn)(const struct service *old,
				 const struct service *new, void *data),
		      void *data);
/* Counts over the whole table (any pointer may be NULL). */
void svc_table_count(const struct svc_table *t, size_t *backends, size_t *ready);

const char *svc_protocol_name(uint8_t protocol); /* "TCP" */
int svc_protocol_parse(const char *s, uint8_t *protocol);

/* --- JSON (services_json.c) ----------------------------------------------------- */

/* The table as a JSON array of services (see docs/AGENT-K8S.md). NULL: out of memory. */
json_t *svc_table_to_json(const struct svc_table *t);
/* Back from that array; -EINVAL naming the service and field that is wrong. */
int svc_table_from_json(json_t *arr, struct svc_table *out);
/* STATE/services.json, written atomically ({"services": [...]}). */
int svc_table_save(const struct ctx *c, const struct svc_table *t);
/* -ENOENT (quietly) when the agent never wrote one. */
int svc_table_load(const struct ctx *c, struct svc_table *out);

#endif
