/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * HTTPS GETs to the Kubernetes API with libcurl: the cluster CA and the
 * credentials of a struct k8s_config, the body handed over as it arrives
 * (a watch is one long response), and a stop that ends a request at once
 * from another thread.
 */
#ifndef BL_K8S_HTTP_H
#define BL_K8S_HTTP_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include "agent/k8s/kubeconfig.h"

struct k8s_http {
	const struct k8s_config *cfg;
	const atomic_int *stop;
	CURL *easy; /* one per watcher: its connection is kept between requests */
	CURLM *multi; /* to wait on the transfer and be woken up */
	char curl_err[CURL_ERROR_SIZE];
	/* during a request */
	long status;
	int (*sink)(const char *buf, size_t len, void *data);
	void *data;
	int sink_err;
	/* If set, called once the answer's headers say 200 (a watch is open). */
	void (*opened)(void *data);
	char *err_body; /* a non-200 answer's body (a Status object) */
	size_t err_len;
	struct stat token_st; /* of the token file the last request read */
};

/* The token file is not the one the last request sent (it was rotated). */
int k8s_http_token_changed(const struct k8s_http *h);

/* Once, before any thread uses libcurl. */
int k8s_http_global_init(void);

int k8s_http_init(struct k8s_http *h, const struct k8s_config *cfg, const atomic_int *stop);
void k8s_http_free(struct k8s_http *h);
/* From any thread: make a request in progress look at *stop now. */
void k8s_http_wakeup(struct k8s_http *h);

/*
 * GET path (with its query) from the API server, giving up after timeout_s.
 * A 200 answer's body goes to sink as it arrives (a non-zero return ends
 * the request and is returned); h->opened, if set, is called before. Returns 0 with *status 200; for another
 * status, -EACCES (401, 403), -ESTALE (410 Gone) or -EPROTO, with
 * *status set and the server's message as the current error; -EINTR when
 * *stop was set; other -errno for connection and TLS failures, with
 * libcurl's message.
 */
int k8s_http_get(struct k8s_http *h, const char *path, long timeout_s,
		 int (*sink)(const char *buf, size_t len, void *data), void *data,
		 long *status);

#endif
