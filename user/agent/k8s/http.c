// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE /* asprintf, explicit_bzero */
/*
 * libcurl does the HTTPS: TLS with the cluster CA (and nothing else
 * trusted when one is given), client certificates from files or PEM in
 * memory, keep-alive, chunked transfer, gzip. Each request runs in a multi
 * handle so that curl_multi_wakeup() can end a watch that waits for data
 * the moment the agent stops.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "agent/k8s/http.h"
#include "lib/log.h"

#define ERR_BODY_MAX 4096
#define CONNECT_TIMEOUT_S 10L
#define TOKEN_MAX 16384

int k8s_http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) ? errorf(-ENOMEM, "libcurl init") : 0;
}

static size_t on_body(char *buf, size_t size, size_t n, void *p)
{
	struct k8s_http *h = p;
	size_t len = size * n;

	if (!h->status)
		curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &h->status);
	if (h->status != 200) {
		size_t room = ERR_BODY_MAX - h->err_len;
		char *nb;

		if (len < room)
			room = len;
		nb = realloc(h->err_body, h->err_len + room + 1);
		if (nb) {
			memcpy(nb + h->err_len, buf, room);
			h->err_len += room;
			nb[h->err_len] = 0;
			h->err_body = nb;
		}
		return len;
	}
	h->sink_err = h->sink(buf, len, h->data);
	return h->sink_err ? 0 : len;
}

/* The end of the headers: a watch that answers 200 is open. */
static size_t on_header(char *buf, size_t size, size_t n, void *p)
{
	struct k8s_http *h = p;
	size_t len = size * n;
	long code = 0;

	if (len == 2 && buf[0] == '\r' && buf[1] == '\n' && h->opened) {
		curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code == 200)
			h->opened(h->data);
	}
	return len;
}

static int blob_opt(CURL *e, CURLoption opt, const struct k8s_blob *b)
{
	struct curl_blob cb = { .data = b->data, .len = b->len, .flags = CURL_BLOB_COPY };

	return curl_easy_setopt(e, opt, &cb) != CURLE_OK;
}

static int tls_opts(CURL *e, const struct k8s_config *c)
{
	int bad = 0;

	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	/* With the cluster's CA given, trust it alone: not the system's too. */
	if (c->ca.data || c->ca_file)
		bad |= curl_easy_setopt(e, CURLOPT_CAPATH, NULL) != CURLE_OK;
	if (c->ca.data)
		bad |= blob_opt(e, CURLOPT_CAINFO_BLOB, &c->ca);
	else if (c->ca_file)
		bad |= curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) != CURLE_OK;
	if (c->cert.data) {
		bad |= blob_opt(e, CURLOPT_SSLCERT_BLOB, &c->cert);
		bad |= curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK;
	} else if (c->cert_file) {
		bad |= curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert_file) != CURLE_OK;
	}
	if (c->key.data) {
		bad |= blob_opt(e, CURLOPT_SSLKEY_BLOB, &c->key);
		bad |= curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK;
	} else if (c->key_file) {
		bad |= curl_easy_setopt(e, CURLOPT_SSLKEY, c->key_file) != CURLE_OK;
	}
	return bad ? errorf_raw(-EINVAL, "libcurl refused a TLS option (built without OpenSSL blobs?)") : 0;
}

int k8s_http_init(struct k8s_http *h, const struct k8s_config *cfg, const atomic_int *stop)
{
	CURL *e;
	int err;

	memset(h, 0, sizeof(*h));
	h->cfg = cfg;
	h->stop = stop;
	h->easy = e = curl_easy_init();
	h->multi = curl_multi_init();
	if (!e || !h->multi) {
		k8s_http_free(h);
		return errorf(-ENOMEM, "libcurl");
	}
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->curl_err);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	/* A watch may stay silent for minutes: keepalive finds a dead peer. */
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "bridgeless-agent");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, h);
	err = tls_opts(e, cfg);
	if (err)
		k8s_http_free(h);
	return err;
}

void k8s_http_free(struct k8s_http *h)
{
	if (h->easy)
		curl_easy_cleanup(h->easy);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	free(h->err_body);
	h->easy = NULL;
	h->multi = NULL;
	h->err_body = NULL;
}

void k8s_http_wakeup(struct k8s_http *h)
{
	if (h->multi)
		curl_multi_wakeup(h->multi);
}

/* "Authorization: Bearer <token>", the token file read afresh (it rotates). */
static int auth_header(struct k8s_http *h, char **out)
{
	const struct k8s_config *c = h->cfg;
	char buf[TOKEN_MAX];
	const char *tok = c->token;
	size_t n;
	FILE *f;

	*out = NULL;
	if (!tok && c->token_file) {
		f = fopen(c->token_file, "re");
		if (!f)
			return errorf(-errno, "token %s", c->token_file);
		if (fstat(fileno(f), &h->token_st))
			memset(&h->token_st, 0, sizeof(h->token_st));
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		while (n && strchr(" \t\r\n", buf[n - 1]))
			n--;
		buf[n] = 0;
		if (!n)
			return errorf_raw(-EINVAL, "token %s: empty", c->token_file);
		tok = buf;
	}
	if (!tok)
		return 0;
	if (asprintf(out, "Authorization: Bearer %s", tok) < 0) {
		*out = NULL;
		return errorf(-ENOMEM, "token");
	}
	return 0;
}

int k8s_http_token_changed(const struct k8s_http *h)
{
	struct stat st;

	if (!h->cfg->token_file || stat(h->cfg->token_file, &st))
		return 0;
	return st.st_dev != h->token_st.st_dev || st.st_ino != h->token_st.st_ino ||
	       st.st_size != h->token_st.st_size ||
	       st.st_mtim.tv_sec != h->token_st.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != h->token_st.st_mtim.tv_nsec;
}

/* The message of a Status object, else the body's start. */
static void status_message(const struct k8s_http *h, long status)
{
	const char *msg = NULL, *reason = "";
	json_t *j = h->err_body ? json_loads(h->err_body, 0, NULL) : NULL;

	if (j) {
		msg = json_string_value(json_object_get(j, "message"));
		reason = json_string_value(json_object_get(j, "reason")) ?: "";
	}
	if (msg)
		errorf_raw(-EPROTO, "HTTP %ld %s: %s", status, reason, msg);
	else
		errorf_raw(-EPROTO, "HTTP %ld%s%.200s", status, h->err_body ? ": " : "",
			   h->err_body ?: "");
	json_decref(j);
}

static int run(struct k8s_http *h)
{
	CURLMcode mc;
	CURLMsg *m;
	int running = 1, left;
	CURLcode res = CURLE_OK;

	if (curl_multi_add_handle(h->multi, h->easy) != CURLM_OK)
		return errorf(-ENOMEM, "libcurl");
	for (;;) {
		mc = curl_multi_perform(h->multi, &running);
		if (mc != CURLM_OK || !running || atomic_load(h->stop))
			break;
		mc = curl_multi_poll(h->multi, NULL, 0, 1000, NULL);
		if (mc != CURLM_OK)
			break;
	}
	while ((m = curl_multi_info_read(h->multi, &left)))
		if (m->msg == CURLMSG_DONE)
			res = m->data.result;
	curl_multi_remove_handle(h->multi, h->easy);
	if (atomic_load(h->stop))
		return -EINTR;
	if (mc != CURLM_OK)
		return errorf_raw(-EIO, "libcurl: %s", curl_multi_strerror(mc));
	if (res == CURLE_WRITE_ERROR && h->sink_err)
		return h->sink_err;
	if (res != CURLE_OK)
		return errorf_raw(res == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO, "%s",
				  h->curl_err[0] ? h->curl_err : curl_easy_strerror(res));
	return 0;
}

int k8s_http_get(struct k8s_http *h, const char *path, long timeout_s,
		 int (*sink)(const char *buf, size_t len, void *data), void *data,
		 long *status)
{
	struct curl_slist *hdrs = NULL, *more;
	char *url = NULL, *auth = NULL;
	int err;

	*status = 0;
	h->status = 0;
	h->sink = sink;
	h->data = data;
	h->sink_err = 0;
	h->curl_err[0] = 0;
	free(h->err_body);
	h->err_body = NULL;
	h->err_len = 0;
	err = auth_header(h, &auth);
	if (err)
		return err;
	if (asprintf(&url, "%s%s", h->cfg->server, path) < 0) {
		free(auth);
		return errorf(-ENOMEM, "request");
	}
	hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (hdrs && auth && !(more = curl_slist_append(hdrs, auth))) {
		curl_slist_free_all(hdrs);
		hdrs = NULL;
	}
	if (!hdrs) {
		free(auth);
		free(url);
		return errorf(-ENOMEM, "request");
	}
	curl_easy_setopt(h->easy, CURLOPT_URL, url);
	curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h->easy, CURLOPT_TIMEOUT, timeout_s);
	err = run(h);
	if (!h->status)
		curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &h->status);
	*status = h->status;
	curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	/* The token is not left in freed memory. */
	if (auth)
		explicit_bzero(auth, strlen(auth));
	free(auth);
	free(url);
	if (err)
		return err;
	if (h->status == 200)
		return 0;
	status_message(h, h->status);
	if (h->status == 401 || h->status == 403)
		return -EACCES;
	return h->status == 410 ? -ESTALE : -EPROTO;
}
