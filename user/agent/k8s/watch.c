// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One resource's list and watch, the way client-go's reflector does it:
 *
 *   LIST (pages of 500: limit/continue)  -> SYNC to the loop, rv = the list's
 *   WATCH from rv, allowWatchBookmarks    -> PUT/DEL per event, rv = the event's
 *     ended by the server (timeout)       -> WATCH again from rv at once
 *     dropped, refused, 401, unreachable  -> WATCH again from rv after a backoff
 *     410 Gone (HTTP, or an ERROR event)  -> LIST again; the loop reconciles
 *
 * A failed LIST is retried after a backoff too. The backoff doubles from
 * 0.5 s to 8 s with jitter (so a cluster's agents do not retry in step)
 * and starts over once a request works. Nothing here ever gives up: the
 * agent keeps what it has until the API answers again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "agent/k8s/http.h"
#include "agent/k8s/k8s.h"
#include "lib/log.h"

#define PAGE_LIMIT 500
#define LIST_TIMEOUT_S 60L
#define WATCH_MIN_S 300 /* each watch asks for 5 to 10 minutes */
#define BACKOFF_FIRST 0.5
#define BACKOFF_MAX 8.0
#define BODY_MAX (256u << 20) /* one LIST page */
#define EVENT_MAX (64u << 20) /* one watch event */

struct k8s_watcher {
	struct k8s_client *c;
	enum k8s_res r;
	const struct k8s_resource *res;
	struct k8s_http http;
	pthread_t thread;
	char *rv; /* where the next watch starts */
	unsigned int failures; /* in a row */
	char last_err[512]; /* logged already: the same again is debug */
	unsigned int seed;
	char *buf; /* a LIST page, or a watch's unfinished line */
	size_t len, cap;
	unsigned int events; /* in this watch */
};

/* --- bookkeeping -------------------------------------------------------------- */

struct stat_update {
	int ev; /* K8S_EV_*, or -1 */
	int lists, relists, errors;
	int watching; /* 1 open, 0 closed, -1 unchanged */
	int synced;
};

static void apply_stat(struct k8s_watch_stats *st, void *data)
{
	const struct stat_update *u = data;

	if (u->ev >= 0)
		st->events[u->ev]++;
	st->lists += u->lists;
	st->relists += u->relists;
	st->errors += u->errors;
	if (u->watching >= 0)
		st->watching = u->watching;
	if (u->synced || u->watching >= 0)
		st->last_sync = k8s_now();
}

static void count(struct k8s_watcher *w, struct stat_update u)
{
	k8s_client_stats(w->c, w->r, apply_stat, &u);
}

static double backoff(struct k8s_watcher *w)
{
	double d = BACKOFF_FIRST;
	unsigned int i;

	for (i = 1; i < w->failures && d < BACKOFF_MAX; i++)
		d *= 2;
	if (d > BACKOFF_MAX)
		d = BACKOFF_MAX;
	/* jitter: between half and all of it */
	return d * (0.5 + 0.5 * rand_r(&w->seed) / (double)RAND_MAX);
}

/*
 * Wait d seconds before trying again; a refused token is tried again as
 * soon as its file changes (a projected token is rotated by kubelet).
 */
static void wait_retry(struct k8s_watcher *w, int err, double d)
{
	double end = k8s_now() + d, left;

	if (err != -EACCES || !w->http.cfg->token_file) {
		k8s_client_sleep(w->c, d);
		return;
	}
	while ((left = end - k8s_now()) > 0) {
		if (k8s_client_sleep(w->c, left < 0.2 ? left : 0.2))
			return;
		if (k8s_http_token_changed(&w->http)) {
			pr_info("k8s: %s: the token file changed: trying it now", w->res->name);
			return;
		}
	}
}

/* A request failed: one line (repeats of the same cause at debug), then wait. */
static void failed(struct k8s_watcher *w, int err)
{
	char msg[sizeof(w->last_err)];
	double d;

	w->failures++;
	d = backoff(w);
	snprintf(msg, sizeof(msg), "%s", error_message());
	error_clear();
	if (strcmp(msg, w->last_err))
		pr_warn("k8s: %s: %s; retrying in %.1fs (until it works)", w->res->name, msg, d);
	else
		pr_debug("k8s: %s: %s; retrying in %.1fs", w->res->name, msg, d);
	snprintf(w->last_err, sizeof(w->last_err), "%s", msg);
	count(w, (struct stat_update){ .ev = -1, .errors = 1, .watching = 0 });
	wait_retry(w, err, d);
}

static void worked(struct k8s_watcher *w)
{
	if (w->failures)
		pr_info("k8s: %s: the API answers again (after %u failed attempt%s)",
			w->res->name, w->failures, w->failures == 1 ? "" : "s");
	w->failures = 0;
	w->last_err[0] = 0;
}

static void set_rv(struct k8s_watcher *w, const char *rv)
{
	char *n;

	if (!rv || !*rv || (w->rv && !strcmp(w->rv, rv)))
		return;
	n = strdup(rv);
	if (n) {
		free(w->rv);
		w->rv = n;
	}
}

static int buf_add(struct k8s_watcher *w, const char *p, size_t n, size_t max)
{
	if (w->len + n + 1 > max)
		return errorf_raw(-EFBIG, "more than %zu MiB in one %s", max >> 20,
				  max == BODY_MAX ? "page" : "event");
	if (w->len + n + 1 > w->cap) {
		size_t cap = (w->len + n + 1) * 2;
		char *nb = realloc(w->buf, cap);

		if (!nb)
			return errorf(-ENOMEM, "answer");
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	w->buf[w->len] = 0;
	return 0;
}

/* --- LIST -------------------------------------------------------------------- */

static int page_sink(const char *p, size_t n, void *data)
{
	return buf_add(data, p, n, BODY_MAX);
}

struct list {
	struct store_item *v;
	size_t n, cap;
};

/* One page's items into l; its resourceVersion and continue token out. */
static int take_page(struct k8s_watcher *w, struct list *l, char **rv, char **cont)
{
	json_error_t jerr;
	json_t *root, *items, *obj, *meta;
	struct store_item it;
	const char *s;
	size_t i;

	root = json_loadb(w->buf, w->len, 0, &jerr);
	if (!root)
		return errorf_raw(-EPROTO, "list: answer is not JSON: %s", jerr.text);
	items = json_object_get(root, "items");
	meta = json_object_get(root, "metadata");
	if (!json_is_array(items) && !json_is_null(items) && items) {
		json_decref(root);
		return errorf_raw(-EPROTO, "list: answer without an items array");
	}
	json_array_foreach(items, i, obj) {
		if (k8s_decode_item(w->r, obj, "k8s", &it))
			continue;
		if (l->n == l->cap) {
			struct store_item *nv;

			l->cap = l->cap * 2 + PAGE_LIMIT;
			nv = realloc(l->v, l->cap * sizeof(*nv));
			if (!nv) {
				free(it.key);
				if (it.obj)
					w->res->free(it.obj);
				json_decref(root);
				return errorf(-ENOMEM, "list");
			}
			l->v = nv;
		}
		l->v[l->n++] = it;
	}
	s = json_string_value(json_object_get(meta, "resourceVersion"));
	free(*rv);
	*rv = s ? strdup(s) : NULL;
	s = json_string_value(json_object_get(meta, "continue"));
	free(*cont);
	*cont = s && *s ? strdup(s) : NULL;
	json_decref(root);
	return 0;
}

static int list(struct k8s_watcher *w)
{
	struct list l = {};
	char *rv = NULL, *cont = NULL, *esc, path[4096];
	long status;
	int err, pages = 0;
	double t0 = k8s_now();
	struct k8s_msg *m;

	do {
		esc = cont ? curl_easy_escape(w->http.easy, cont, 0) : NULL;
		if (cont && !esc) {
			err = errorf(-ENOMEM, "list");
			break;
		}
		snprintf(path, sizeof(path), "%s?limit=%d%s%s", w->res->path, PAGE_LIMIT,
			 esc ? "&continue=" : "", esc ?: "");
		curl_free(esc);
		w->len = 0;
		w->http.opened = NULL;
		err = k8s_http_get(&w->http, path, LIST_TIMEOUT_S, page_sink, w, &status);
		if (!err)
			err = take_page(w, &l, &rv, &cont);
		pages++;
	} while (!err && cont);
	/* 410 on a continue: that snapshot expired meanwhile; failed() retries it whole. */
	free(cont);
	if (err) {
		store_items_free(l.v, l.n, w->res->free);
		free(rv);
		return error_prefix(err, "list");
	}
	if (!rv) {
		store_items_free(l.v, l.n, w->res->free);
		return errorf_raw(-EPROTO, "list: answer without metadata.resourceVersion");
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		store_items_free(l.v, l.n, w->res->free);
		free(rv);
		return errorf(-ENOMEM, "list");
	}
	pr_info("k8s: %s: listed %zu at resourceVersion %s (%d page%s, %.2fs)", w->res->name, l.n,
		rv, pages, pages == 1 ? "" : "s", k8s_now() - t0);
	*m = (struct k8s_msg){ .res = w->r, .type = K8S_MSG_SYNC, .items = l.v, .n_items = l.n };
	k8s_client_post(w->c, m);
	set_rv(w, rv);
	free(rv);
	return 0;
}

/* --- WATCH ------------------------------------------------------------------- */

static int event_type(const char *t)
{
	static const char *const names[K8S_EV_MAX] = { "ADDED", "MODIFIED", "DELETED",
						       "BOOKMARK", "ERROR" };
	int i;

	for (i = 0; t && i < K8S_EV_MAX; i++)
		if (!strcmp(t, names[i]))
			return i;
	return -1;
}

static void post(struct k8s_watcher *w, enum k8s_msg_type type, char *key, void *obj)
{
	struct k8s_msg *m = calloc(1, sizeof(*m));

	if (!m) {
		free(key);
		if (obj)
			w->res->free(obj);
		return;
	}
	*m = (struct k8s_msg){ .res = w->r, .type = type, .key = key, .obj = obj };
	k8s_client_post(w->c, m);
}

/* An ERROR event: a Status. 410 means list again. */
static int error_event(json_t *status)
{
	json_int_t code = json_integer_value(json_object_get(status, "code"));
	const char *msg = json_string_value(json_object_get(status, "message"));

	if (code == 410)
		return errorf_raw(-ESTALE, "ERROR event 410 Gone: %s", msg ?: "");
	return errorf_raw(-EPROTO, "watch: ERROR event %lld: %s", (long long)code, msg ?: "");
}

static int one_event(struct k8s_watcher *w, const char *line, size_t len)
{
	struct store_item it;
	json_error_t jerr;
	json_t *ev, *obj;
	int type, err = 0;

	ev = json_loadb(line, len, 0, &jerr);
	if (!ev)
		return errorf_raw(-EPROTO, "watch: event is not JSON: %s", jerr.text);
	type = event_type(json_string_value(json_object_get(ev, "type")));
	obj = json_object_get(ev, "object");
	if (type < 0 || !json_is_object(obj)) {
		json_decref(ev);
		return errorf_raw(-EPROTO, "watch: event without a known type and an object");
	}
	w->events++;
	count(w, (struct stat_update){ .ev = type, .watching = -1, .synced = 1 });
	switch (type) {
	case K8S_EV_ADDED:
	case K8S_EV_MODIFIED:
		err = k8s_decode_item(w->r, obj, "k8s", &it);
		if (err == K8S_NOT_OURS) {
			/* It may have been ours before (a Service made headless). */
			char key[512];

			if (!k8s_object_key(obj, key, sizeof(key)))
				post(w, K8S_MSG_DEL, strdup(key), NULL);
		} else if (!err && it.obj) {
			post(w, K8S_MSG_PUT, it.key, it.obj);
		} else {
			free(it.key); /* malformed (logged): keep what we have */
		}
		err = 0;
		break;
	case K8S_EV_DELETED: {
		/* Gone is gone, whether or not its last state decodes. */
		char key[512];

		if (!k8s_object_key(obj, key, sizeof(key)))
			post(w, K8S_MSG_DEL, strdup(key), NULL);
		break;
	}
	case K8S_EV_BOOKMARK:
		break;
	case K8S_EV_ERROR:
		err = error_event(obj);
		break;
	}
	if (!err) {
		error_clear();
		set_rv(w, k8s_object_rv(obj));
	}
	json_decref(ev);
	return err;
}

/* Bytes of the stream: one JSON event a line. */
static int stream_sink(const char *p, size_t n, void *data)
{
	struct k8s_watcher *w = data;
	size_t start = 0, i;
	char *nl;
	int err;

	err = buf_add(w, p, n, EVENT_MAX);
	if (err)
		return err;
	while ((nl = memchr(w->buf + start, '\n', w->len - start))) {
		i = nl - w->buf;
		if (i > start) {
			err = one_event(w, w->buf + start, i - start);
			if (err)
				return err;
		}
		start = i + 1;
	}
	memmove(w->buf, w->buf + start, w->len - start);
	w->len -= start;
	return 0;
}

static void opened(void *data)
{
	struct k8s_watcher *w = data;

	worked(w);
	count(w, (struct stat_update){ .ev = -1, .watching = 1 });
}

static int watch(struct k8s_watcher *w)
{
	char path[4096], *esc;
	int secs = WATCH_MIN_S + rand_r(&w->seed) % WATCH_MIN_S, err;
	long status;

	esc = curl_easy_escape(w->http.easy, w->rv, 0);
	if (!esc)
		return errorf(-ENOMEM, "watch");
	snprintf(path, sizeof(path),
		 "%s?watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%d",
		 w->res->path, esc, secs);
	curl_free(esc);
	w->len = 0;
	w->events = 0;
	w->http.opened = opened;
	pr_debug("k8s: %s: watching from resourceVersion %s", w->res->name, w->rv);
	err = k8s_http_get(&w->http, path, secs + 30L, stream_sink, w, &status);
	count(w, (struct stat_update){ .ev = -1, .watching = 0 });
	return err;
}

/* --- the thread ---------------------------------------------------------------- */

static void *run(void *arg)
{
	struct k8s_watcher *w = arg;
	int need_list = 1, err, first = 1;
	double t0, last_list = 0;

	while (!k8s_client_stopping(w->c)) {
		if (need_list) {
			/* 410 again right after a LIST: do not spin on a confused server. */
			if (!first && k8s_now() - last_list < 1 &&
			    k8s_client_sleep(w->c, backoff(w)))
				break;
			last_list = k8s_now();
			err = list(w);
			if (err == -EINTR)
				break;
			if (err) {
				failed(w, err);
				continue;
			}
			worked(w);
			count(w, (struct stat_update){ .ev = -1, .lists = 1, .relists = !first,
						      .watching = -1, .synced = 1 });
			first = 0;
			need_list = 0;
		}
		t0 = k8s_now();
		err = watch(w);
		if (err == -EINTR)
			break;
		if (err == -ESTALE) {
			pr_info("k8s: %s: resourceVersion %s is too old (%s): listing again",
				w->res->name, w->rv, error_message());
			error_clear();
			need_list = 1;
			continue;
		}
		if (!err && (w->events || k8s_now() - t0 >= 1)) {
			pr_debug("k8s: %s: the server ended the watch after %u events; watching again",
				 w->res->name, w->events);
			continue;
		}
		if (!err)
			err = errorf_raw(-EPROTO, "the server ended the watch at once");
		error_prefix(err, "watch");
		failed(w, err);
	}
	return NULL;
}

int k8s_watcher_start(struct k8s_client *c, enum k8s_res r, struct k8s_watcher **out)
{
	struct k8s_watcher *w;
	int err;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return errorf(-ENOMEM, "k8s watcher");
	w->c = c;
	w->r = r;
	w->res = &k8s_resources[r];
	w->seed = (unsigned int)(k8s_now() * 1e6) ^ (r * 2654435761u);
	err = k8s_http_init(&w->http, k8s_client_config(c), k8s_client_stop_flag(c));
	if (!err) {
		err = -pthread_create(&w->thread, NULL, run, w);
		if (err)
			errorf(err, "k8s: %s: thread", w->res->name);
	}
	if (err) {
		k8s_http_free(&w->http);
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

void k8s_watcher_wakeup(struct k8s_watcher *w)
{
	k8s_http_wakeup(&w->http);
}

void k8s_watcher_join(struct k8s_watcher *w)
{
	pthread_join(w->thread, NULL);
	k8s_http_free(&w->http);
	free(w->rv);
	free(w->buf);
	free(w);
}
