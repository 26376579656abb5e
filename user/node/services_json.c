// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The service table as JSON: what STATE/services.json holds and what
 * `bridgeless service list --json` prints. Field names follow the
 * Kubernetes objects they come from (clusterIPs, sessionAffinity,
 * internalTrafficPolicy, nodeName), so they read the same as kubectl's.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/jsonfile.h"
#include "lib/log.h"
#include "node/services.h"

static json_t *backend_json(const struct svc_backend *b)
{
	char ip[IPADDR_STRLEN];
	json_t *j;

	j = json_pack("{s:s, s:i, s:b, s:b, s:b}", "ip", ipaddr_str(&b->addr, ip),
		      "port", b->port, "ready", b->ready, "serving", b->serving,
		      "terminating", b->terminating);
	if (j && b->node_name)
		json_object_set_new(j, "nodeName", json_string(b->node_name));
	return j;
}

static json_t *port_json(const struct svc_port *p)
{
	json_t *j, *bs = json_array();
	size_t i;

	for (i = 0; bs && i < p->n_backends; i++)
		if (json_array_append_new(bs, backend_json(&p->backends[i]))) {
			json_decref(bs);
			return NULL;
		}
	j = json_pack("{s:s, s:s, s:i, s:o}", "name", p->def.name, "protocol",
		      svc_protocol_name(p->def.protocol), "port", p->def.port,
		      "backends", bs);
	return j;
}

static json_t *service_json(const struct service *s)
{
	char ip[IPADDR_STRLEN];
	json_t *j, *ips = json_array(), *ports = json_array();
	size_t i;
	int k;

	for (k = 0; ips && k < s->n_ips; k++)
		json_array_append_new(ips, json_string(ipaddr_str(&s->ips[k], ip)));
	for (i = 0; ports && i < s->n_ports; i++)
		if (json_array_append_new(ports, port_json(&s->ports[i]))) {
			json_decref(ports);
			ports = NULL;
		}
	j = json_pack("{s:s, s:s, s:o, s:s, s:s, s:o}", "namespace", s->ns, "name",
		      s->name, "clusterIPs", ips, "sessionAffinity",
		      s->affinity == SVC_AFFINITY_CLIENT_IP ? "ClientIP" : "None",
		      "internalTrafficPolicy",
		      s->traffic_policy == SVC_TRAFFIC_LOCAL ? "Local" : "Cluster",
		      "ports", ports);
	if (j && s->affinity == SVC_AFFINITY_CLIENT_IP)
		json_object_set_new(j, "sessionAffinityTimeoutSeconds",
				    json_integer(s->affinity_timeout));
	return j;
}

json_t *svc_table_to_json(const struct svc_table *t)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr && i < t->n; i++)
		if (json_array_append_new(arr, service_json(&t->v[i]))) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

/* --- reading it back --------------------------------------------------------- */

static int want_uint(json_t *j, const char *key, long long max, long long *out)
{
	json_t *v = json_object_get(j, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return errorf_raw(-EINVAL, "%s: want a whole number up to %lld", key, max);
	*out = json_integer_value(v);
	return 0;
}

static int want_str(json_t *j, const char *key, const char **out)
{
	*out = json_string_value(json_object_get(j, key));
	return *out ? 0 : errorf_raw(-EINVAL, "%s: want a string", key);
}

static int backend_from(json_t *j, struct svc_backend *b)
{
	const char *s;
	long long port;
	json_t *node;

	memset(b, 0, sizeof(*b));
	if (want_str(j, "ip", &s))
		return -EINVAL;
	if (ipaddr_parse(s, &b->addr))
		return errorf_raw(-EINVAL, "ip \"%s\": not an IP address", s);
	if (want_uint(j, "port", 65535, &port))
		return -EINVAL;
	b->port = port;
	b->ready = json_is_true(json_object_get(j, "ready"));
	b->serving = json_is_true(json_object_get(j, "serving"));
	b->terminating = json_is_true(json_object_get(j, "terminating"));
	node = json_object_get(j, "nodeName");
	if (json_is_string(node)) {
		b->node_name = strdup(json_string_value(node));
		if (!b->node_name)
			return -ENOMEM;
	}
	return 0;
}

static int port_from(json_t *j, struct svc_port *p)
{
	json_t *bs = json_object_get(j, "backends"), *b;
	const char *s;
	long long port;
	size_t i;
	int err;

	if (want_str(j, "name", &s))
		return -EINVAL;
	p->def.name = strdup(s);
	if (!p->def.name)
		return -ENOMEM;
	if (want_str(j, "protocol", &s))
		return -EINVAL;
	if (svc_protocol_parse(s, &p->def.protocol))
		return errorf_raw(-EINVAL, "protocol \"%s\": want TCP, UDP or SCTP", s);
	if (want_uint(j, "port", 65535, &port))
		return -EINVAL;
	p->def.port = port;
	if (!json_is_array(bs))
		return errorf_raw(-EINVAL, "backends: want an array");
	p->backends = calloc(json_array_size(bs) ?: 1, sizeof(*p->backends));
	if (!p->backends)
		return -ENOMEM;
	json_array_foreach(bs, i, b) {
		err = backend_from(b, &p->backends[i]);
		p->n_backends = i + 1;
		if (err)
			return error_prefix(err, "backend %zu", i);
	}
	return 0;
}

static int service_from(json_t *j, struct service *s)
{
	json_t *ips = json_object_get(j, "clusterIPs"), *ports, *v;
	const char *str;
	long long n;
	size_t i;
	int err;

	if (want_str(j, "namespace", &str) || !(s->ns = strdup(str)))
		return -EINVAL;
	if (want_str(j, "name", &str) || !(s->name = strdup(str)))
		return -EINVAL;
	if (!json_is_array(ips) || json_array_size(ips) > SVC_IPS_MAX)
		return errorf_raw(-EINVAL, "clusterIPs: want an array of up to %d addresses",
				  SVC_IPS_MAX);
	json_array_foreach(ips, i, v) {
		if (!json_is_string(v) || ipaddr_parse(json_string_value(v), &s->ips[i]))
			return errorf_raw(-EINVAL, "clusterIPs[%zu]: not an IP address", i);
		s->n_ips = i + 1;
	}
	if (want_str(j, "sessionAffinity", &str))
		return -EINVAL;
	if (!strcmp(str, "ClientIP")) {
		s->affinity = SVC_AFFINITY_CLIENT_IP;
		if (want_uint(j, "sessionAffinityTimeoutSeconds", 86400, &n))
			return -EINVAL;
		s->affinity_timeout = n;
	} else if (strcmp(str, "None")) {
		return errorf_raw(-EINVAL, "sessionAffinity \"%s\": want None or ClientIP", str);
	}
	if (want_str(j, "internalTrafficPolicy", &str))
		return -EINVAL;
	if (!strcmp(str, "Local"))
		s->traffic_policy = SVC_TRAFFIC_LOCAL;
	else if (strcmp(str, "Cluster"))
		return errorf_raw(-EINVAL, "internalTrafficPolicy \"%s\": want Cluster or Local",
				  str);
	ports = json_object_get(j, "ports");
	if (!json_is_array(ports))
		return errorf_raw(-EINVAL, "ports: want an array");
	s->ports = calloc(json_array_size(ports) ?: 1, sizeof(*s->ports));
	if (!s->ports)
		return -ENOMEM;
	json_array_foreach(ports, i, v) {
		err = port_from(v, &s->ports[i]);
		s->n_ports = i + 1;
		if (err)
			return error_prefix(err, "port %zu", i);
	}
	return 0;
}

int svc_table_from_json(json_t *arr, struct svc_table *out)
{
	json_t *v;
	size_t i;
	int err;

	memset(out, 0, sizeof(*out));
	if (!json_is_array(arr))
		return errorf_raw(-EINVAL, "service table: want an array of services");
	out->v = calloc(json_array_size(arr) ?: 1, sizeof(*out->v));
	if (!out->v)
		return errorf(-ENOMEM, "service table");
	json_array_foreach(arr, i, v) {
		err = service_from(v, &out->v[i]);
		out->n = i + 1;
		if (err) {
			if (err == -ENOMEM)
				errorf(err, "read");
			error_prefix(err, "service %zu (%s/%s)", i, json_str(v, "namespace"),
				     json_str(v, "name"));
			svc_table_free(out);
			return err;
		}
	}
	return 0;
}

static void table_path(const struct ctx *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", c->state_dir, SVC_TABLE_FILE);
}

int svc_table_save(const struct ctx *c, const struct svc_table *t)
{
	char path[PATH_MAX];
	json_t *arr = svc_table_to_json(t);

	table_path(c, path, sizeof(path));
	if (!arr)
		return errorf(-ENOMEM, "write %s", path);
	return json_file_save(json_pack("{s:o}", "services", arr), path);
}

int svc_table_load(const struct ctx *c, struct svc_table *out)
{
	char path[PATH_MAX];
	json_t *j;
	int err;

	memset(out, 0, sizeof(*out));
	table_path(c, path, sizeof(path));
	err = json_file_load(path, &j);
	if (err)
		return err;
	err = svc_table_from_json(json_object_get(j, "services"), out);
	json_decref(j);
	return err ? error_prefix(err, "%s", path) : 0;
}
