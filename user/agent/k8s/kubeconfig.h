/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where the Kubernetes API is and how to prove who we are: from a
 * kubeconfig file (as kubectl and kubeadm write it) or, inside a pod, from
 * the in-cluster configuration (KUBERNETES_SERVICE_HOST/_PORT and the
 * service account's files).
 */
#ifndef BL_K8S_KUBECONFIG_H
#define BL_K8S_KUBECONFIG_H

#include <stddef.h>

#define K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct k8s_blob {
	char *data; /* NULL: none */
	size_t len;
};

struct k8s_config {
	char *server; /* "https://host:port[/prefix]", no trailing slash */
	/* The cluster CA: a file or PEM data; neither: the system's CAs. */
	char *ca_file;
	struct k8s_blob ca;
	/* A bearer token: as it is, or a file read again for every request. */
	char *token;
	char *token_file;
	/* Or a client certificate and key: files or PEM data. */
	char *cert_file, *key_file;
	struct k8s_blob cert, key;
	char *source; /* "kubeconfig FILE (context C)" or "in-cluster": for logs */
};

/*
 * Read a kubeconfig: its current-context's cluster and user. Paths in it
 * are relative to its directory. Errors name the file and what is wrong
 * (a missing context, an exec plugin we cannot run...).
 */
int k8s_config_from_kubeconfig(const char *path, struct k8s_config *out);
/*
 * The in-cluster configuration. K8S_NOT_IN_CLUSTER (quietly) without
 * KUBERNETES_SERVICE_HOST/_PORT (not in a pod); errors name what is
 * missing (the service account's files).
 */
#define K8S_NOT_IN_CLUSTER 1
int k8s_config_in_cluster(struct k8s_config *out);
void k8s_config_free(struct k8s_config *c);

#endif
