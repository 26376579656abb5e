// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A Service, as the service table needs it: its cluster IPs, ports,
 * session affinity and internal traffic policy. Services without a
 * cluster IP of their own are not ours: headless ones (clusterIP None),
 * ExternalName ones, and those another proxy serves (label
 * service.kubernetes.io/service-proxy-name, as kube-proxy skips them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent/k8s/decode_port.h"
#include "agent/k8s/objects.h"
#include "lib/log.h"
#include "node/services.h"

#define PROXY_NAME_LABEL "service.kubernetes.io/service-proxy-name"

/* spec.clusterIPs (else spec.clusterIP); K8S_NOT_OURS when headless or unset. */
static int cluster_ips(json_t *spec, struct svc_spec *s)
{
	json_t *ips = json_object_get(spec, "clusterIPs"), *v;
	const char *one;
	size_t i;

	if (!json_is_array(ips) || !json_array_size(ips)) {
		if (k8s_opt_str(spec, "clusterIP", &one))
			return error_prefix(-EINVAL, "spec");
		if (!one || !*one || !strcmp(one, "None"))
			return K8S_NOT_OURS;
		if (ipaddr_parse(one, &s->ips[0]))
			return errorf_raw(-EINVAL, "spec.clusterIP \"%s\": not an IP address", one);
		s->n_ips = 1;
		return 0;
	}
	json_array_foreach(ips, i, v) {
		one = json_string_value(v);
		if (one && !strcmp(one, "None"))
			return K8S_NOT_OURS;
		if (i >= SVC_IPS_MAX)
			return errorf_raw(-EINVAL, "spec.clusterIPs: more than %d addresses",
					  SVC_IPS_MAX);
		if (!one || ipaddr_parse(one, &s->ips[i]))
			return errorf_raw(-EINVAL, "spec.clusterIPs[%zu]: not an IP address", i);
		s->n_ips = i + 1;
	}
	return 0;
}

static int affinity(json_t *spec, struct svc_spec *s)
{
	json_t *t = json_object_get(json_object_get(json_object_get(spec,
		"sessionAffinityConfig"), "clientIP"), "timeoutSeconds");
	const char *a;

	if (k8s_opt_str(spec, "sessionAffinity", &a))
		return error_prefix(-EINVAL, "spec");
	if (!a || !strcmp(a, "None"))
		return 0;
	if (strcmp(a, "ClientIP"))
		return errorf_raw(-EINVAL, "spec.sessionAffinity \"%s\": want None or ClientIP", a);
	s->affinity = SVC_AFFINITY_CLIENT_IP;
	s->affinity_timeout = SVC_AFFINITY_TIMEOUT_DEFAULT;
	if (!t || json_is_null(t))
		return 0;
	if (!json_is_integer(t) || json_integer_value(t) < 1 || json_integer_value(t) > 86400)
		return errorf_raw(-EINVAL,
				  "spec.sessionAffinityConfig.clientIP.timeoutSeconds: want a whole number from 1 to 86400");
	s->affinity_timeout = json_integer_value(t);
	return 0;
}

static int traffic_policy(json_t *spec, struct svc_spec *s)
{
	const char *p;

	if (k8s_opt_str(spec, "internalTrafficPolicy", &p))
		return error_prefix(-EINVAL, "spec");
	if (!p || !strcmp(p, "Cluster"))
		s->traffic_policy = SVC_TRAFFIC_CLUSTER;
	else if (!strcmp(p, "Local"))
		s->traffic_policy = SVC_TRAFFIC_LOCAL;
	else
		return errorf_raw(-EINVAL,
				  "spec.internalTrafficPolicy \"%s\": want Cluster or Local", p);
	return 0;
}

int k8s_decode_service(json_t *obj, void **out)
{
	json_t *spec = json_object_get(obj, "spec");
	json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
	const char *type, *ns = k8s_meta_str(obj, "namespace"), *name = k8s_meta_str(obj, "name");
	struct svc_spec *s;
	int err;

	*out = NULL;
	if (!name || !*name || !ns || !*ns)
		return errorf_raw(-EINVAL, "no metadata.%s", name && *name ? "namespace" : "name");
	if (!json_is_object(spec))
		return errorf_raw(-EINVAL, "spec: want an object");
	if (json_object_get(labels, PROXY_NAME_LABEL))
		return K8S_NOT_OURS;
	if (k8s_opt_str(spec, "type", &type))
		return error_prefix(-EINVAL, "spec");
	if (type && !strcmp(type, "ExternalName"))
		return K8S_NOT_OURS;
	s = calloc(1, sizeof(*s));
	if (!s)
		return errorf(-ENOMEM, "service");
	err = cluster_ips(spec, s);
	if (!err)
		err = affinity(spec, s);
	if (!err)
		err = traffic_policy(spec, s);
	if (!err)
		err = k8s_decode_ports(spec, "spec.ports", 1, &s->ports, &s->n_ports);
	if (!err) {
		s->ns = strdup(ns);
		s->name = strdup(name);
		if (!s->ns || !s->name)
			err = errorf(-ENOMEM, "service");
	}
	if (err) {
		svc_spec_free(s);
		return err;
	}
	*out = s;
	return K8S_DECODED;
}
