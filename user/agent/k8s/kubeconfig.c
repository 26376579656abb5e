// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE /* asprintf */
/*
 * The kubeconfig is YAML (JSON also being YAML): read with libyaml's
 * document loader, the parser Debian ships and most YAML users in C share,
 * rather than a hand-written subset that would trip over flow style,
 * anchors, quoting or block scalars that kubectl and kubeadm may write.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>
#include "agent/k8s/base64.h"
#include "agent/k8s/kubeconfig.h"
#include "lib/log.h"

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);

		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

/* A scalar's text; NULL if n is not a scalar or is YAML's null. */
static const char *scalar(yaml_node_t *n)
{
	const char *s;

	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	s = (const char *)n->data.scalar.value;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (!*s || !strcmp(s, "null") || !strcmp(s, "~")))
		return NULL;
	return s;
}

static const char *map_str(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	return scalar(map_get(d, map, key));
}

/* The `inner` mapping of the item of sequence `list` whose name is name. */
static yaml_node_t *named(yaml_document_t *d, yaml_node_t *root, const char *list,
			  const char *name, const char *inner)
{
	yaml_node_t *seq = map_get(d, root, list);
	yaml_node_item_t *i;

	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
		yaml_node_t *item = yaml_document_get_node(d, *i);
		const char *n = map_str(d, item, "name");

		if (n && !strcmp(n, name))
			return map_get(d, item, inner);
	}
	return NULL;
}

/* A path of the kubeconfig, relative to its directory. */
static int path_from(const char *dir, const char *p, char **out)
{
	if (p[0] == '/')
		*out = strdup(p);
	else if (asprintf(out, "%s/%s", dir, p) < 0)
		*out = NULL;
	return *out ? 0 : -ENOMEM;
}

static int readable(const char *what, const char *path)
{
	return access(path, R_OK) ? errorf(-errno, "%s %s", what, path) : 0;
}

static int file_or_data(yaml_document_t *d, yaml_node_t *m, const char *dir,
			const char *key, char **file, struct k8s_blob *blob)
{
	char data_key[64];
	const char *f = map_str(d, m, key), *data;

	snprintf(data_key, sizeof(data_key), "%s-data", key);
	data = map_str(d, m, data_key);
	if (data) {
		if (base64_decode(data, &blob->data, &blob->len))
			return errorf_raw(-EINVAL, "%s: not base64", data_key);
		return 0;
	}
	if (!f)
		return 0;
	if (path_from(dir, f, file))
		return -ENOMEM;
	return readable(key, *file);
}

static int cluster(yaml_document_t *d, yaml_node_t *c, const char *dir,
		   struct k8s_config *out)
{
	const char *server = map_str(d, c, "server"), *insecure;
	size_t n;

	if (!server)
		return errorf_raw(-EINVAL, "no server");
	if (strncmp(server, "https://", 8))
		return errorf_raw(-EINVAL, "server %s: want https://", server);
	insecure = map_str(d, c, "insecure-skip-tls-verify");
	if (insecure && !strcmp(insecure, "true"))
		return errorf_raw(-EINVAL,
				  "insecure-skip-tls-verify: not supported (give the cluster's CA)");
	out->server = strdup(server);
	if (!out->server)
		return -ENOMEM;
	n = strlen(out->server);
	while (n && out->server[n - 1] == '/')
		out->server[--n] = 0;
	return file_or_data(d, c, dir, "certificate-authority", &out->ca_file, &out->ca);
}

static int user(yaml_document_t *d, yaml_node_t *u, const char *dir, struct k8s_config *out)
{
	const char *token = map_str(d, u, "token"), *tf = map_str(d, u, "tokenFile");
	int err;

	if (map_get(d, u, "exec") || map_get(d, u, "auth-provider"))
		return errorf_raw(-EINVAL,
				  "credential plugins (exec, auth-provider) are not supported: use a token, tokenFile or client certificate");
	if (token && !(out->token = strdup(token)))
		return -ENOMEM;
	if (!token && tf) {
		if (path_from(dir, tf, &out->token_file))
			return -ENOMEM;
		err = readable("tokenFile", out->token_file);
		if (err)
			return err;
	}
	err = file_or_data(d, u, dir, "client-certificate", &out->cert_file, &out->cert);
	if (!err)
		err = file_or_data(d, u, dir, "client-key", &out->key_file, &out->key);
	if (err)
		return err;
	if (!!(out->cert_file || out->cert.data) != !!(out->key_file || out->key.data))
		return errorf_raw(-EINVAL, "a client certificate needs its key and the other way round");
	if (!out->token && !out->token_file && !out->cert_file && !out->cert.data)
		return errorf_raw(-EINVAL, "no token, tokenFile or client certificate");
	return 0;
}

static int from_doc(yaml_document_t *d, const char *dir, struct k8s_config *out)
{
	yaml_node_t *root = yaml_document_get_root_node(d), *ctx, *c, *u;
	const char *cur, *cname, *uname;
	int err;

	if (!root || root->type != YAML_MAPPING_NODE)
		return errorf_raw(-EINVAL, "not a kubeconfig (want a mapping)");
	cur = map_str(d, root, "current-context");
	if (!cur)
		return errorf_raw(-EINVAL, "no current-context");
	ctx = named(d, root, "contexts", cur, "context");
	if (!ctx)
		return errorf_raw(-EINVAL, "no context \"%s\"", cur);
	cname = map_str(d, ctx, "cluster");
	uname = map_str(d, ctx, "user");
	c = cname ? named(d, root, "clusters", cname, "cluster") : NULL;
	if (!c)
		return errorf_raw(-EINVAL, "context %s: no cluster \"%s\"", cur, cname ?: "");
	u = uname ? named(d, root, "users", uname, "user") : NULL;
	if (!u)
		return errorf_raw(-EINVAL, "context %s: no user \"%s\"", cur, uname ?: "");
	err = cluster(d, c, dir, out);
	if (err)
		return error_prefix(err, "cluster %s", cname);
	err = user(d, u, dir, out);
	if (err)
		return error_prefix(err, "user %s", uname);
	if (asprintf(&out->source, "context %s", cur) < 0)
		out->source = NULL;
	return 0;
}

int k8s_config_from_kubeconfig(const char *path, struct k8s_config *out)
{
	char buf[PATH_MAX], dir[PATH_MAX], *src;
	yaml_parser_t parser;
	yaml_document_t doc;
	FILE *f;
	int err;

	memset(out, 0, sizeof(*out));
	f = fopen(path, "re");
	if (!f)
		return errorf(-errno, "kubeconfig %s", path);
	/* dirname() works in place: its answer points into buf. */
	snprintf(buf, sizeof(buf), "%s", path);
	snprintf(dir, sizeof(dir), "%s", dirname(buf));
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return errorf(-ENOMEM, "kubeconfig %s", path);
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		err = errorf_raw(-EINVAL, "kubeconfig %s: line %zu: %s%s%s", path,
				 parser.problem_mark.line + 1, parser.problem ?: "YAML error",
				 parser.context ? " " : "", parser.context ?: "");
		yaml_parser_delete(&parser);
		fclose(f);
		return err;
	}
	err = from_doc(&doc, dir, out);
	if (err == -ENOMEM)
		errorf(err, "read");
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (err) {
		k8s_config_free(out);
		return error_prefix(err, "kubeconfig %s", path);
	}
	if (asprintf(&src, "kubeconfig %s, %s", path, out->source ?: "") >= 0) {
		free(out->source);
		out->source = src;
	}
	return 0;
}

int k8s_config_in_cluster(struct k8s_config *out)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	int err;

	memset(out, 0, sizeof(*out));
	if (!host || !*host || !port || !*port)
		return K8S_NOT_IN_CLUSTER;
	if (asprintf(&out->server, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
		     host, port) < 0 ||
	    !(out->ca_file = strdup(K8S_SA_DIR "/ca.crt")) ||
	    !(out->token_file = strdup(K8S_SA_DIR "/token")) ||
	    !(out->source = strdup("in-cluster configuration"))) {
		k8s_config_free(out);
		return errorf(-ENOMEM, "in-cluster configuration");
	}
	err = readable("service account CA", out->ca_file);
	if (!err)
		err = readable("service account token", out->token_file);
	if (err) {
		k8s_config_free(out);
		return error_prefix(err, "in-cluster configuration");
	}
	return 0;
}

void k8s_config_free(struct k8s_config *c)
{
	free(c->server);
	free(c->ca_file);
	free(c->ca.data);
	free(c->token);
	free(c->token_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert.data);
	free(c->key.data);
	free(c->source);
	memset(c, 0, sizeof(*c));
}
