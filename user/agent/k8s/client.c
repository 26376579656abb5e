// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The client: its watcher threads, the queue from them to the agent's
 * loop (an eventfd wakes the loop's poll), and the stop. Threads rather
 * than libcurl's multi interface in the loop: a watch is one long blocking
 * request, so each resource's list/watch/relist state machine is straight
 * code in its own thread, and a slow reconcile pass in the loop never
 * delays reading a stream (nor the other way round).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include "agent/k8s/http.h"
#include "agent/k8s/k8s.h"
#include "lib/log.h"

struct k8s_client {
	const struct k8s_config *cfg;
	struct agent_stats *stats;
	pthread_mutex_t *stats_lock;
	atomic_int stop;
	pthread_mutex_t lock; /* the queue; the stop's condition */
	pthread_cond_t cond;
	struct k8s_msg *head, **tail;
	int efd;
	unsigned int synced;
	struct k8s_watcher *w[K8S_RES_MAX];
};

double k8s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void msg_free(struct k8s_msg *m)
{
	free(m->key);
	if (m->obj)
		k8s_resources[m->res].free(m->obj);
	store_items_free(m->items, m->n_items, k8s_resources[m->res].free);
	free(m);
}

void k8s_client_post(struct k8s_client *c, struct k8s_msg *m)
{
	uint64_t one = 1;

	m->next = NULL;
	pthread_mutex_lock(&c->lock);
	*c->tail = m;
	c->tail = &m->next;
	pthread_mutex_unlock(&c->lock);
	if (write(c->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, the loop will wake anyway */
	}
}

int k8s_client_sleep(struct k8s_client *c, double s)
{
	struct timespec ts;
	double until;

	clock_gettime(CLOCK_REALTIME, &ts);
	until = ts.tv_sec + ts.tv_nsec / 1e9 + s;
	ts.tv_sec = (time_t)until;
	ts.tv_nsec = (long)((until - ts.tv_sec) * 1e9);
	pthread_mutex_lock(&c->lock);
	while (!atomic_load(&c->stop))
		if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&c->lock);
	return atomic_load(&c->stop);
}

int k8s_client_stopping(const struct k8s_client *c)
{
	return atomic_load(&c->stop);
}

const struct k8s_config *k8s_client_config(const struct k8s_client *c)
{
	return c->cfg;
}

const atomic_int *k8s_client_stop_flag(const struct k8s_client *c)
{
	return &c->stop;
}

void k8s_client_stats(struct k8s_client *c, enum k8s_res r,
		      void (*fn)(struct k8s_watch_stats *st, void *data), void *data)
{
	pthread_mutex_lock(c->stats_lock);
	fn(&c->stats->k8s[r], data);
	pthread_mutex_unlock(c->stats_lock);
}

int k8s_client_start(const struct k8s_config *cfg, struct agent_stats *stats,
		     pthread_mutex_t *lock, struct k8s_client **out)
{
	struct k8s_client *c;
	double now = k8s_now();
	int r, err;

	*out = NULL;
	err = k8s_http_global_init();
	if (err)
		return err;
	c = calloc(1, sizeof(*c));
	if (!c)
		return errorf(-ENOMEM, "k8s client");
	c->cfg = cfg;
	c->stats = stats;
	c->stats_lock = lock;
	c->tail = &c->head;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->efd < 0) {
		err = errorf(-errno, "eventfd");
		k8s_client_stop(c);
		return err;
	}
	pthread_mutex_lock(lock);
	for (r = 0; r < K8S_RES_MAX; r++) {
		memset(&stats->k8s[r], 0, sizeof(stats->k8s[r]));
		stats->k8s[r].name = k8s_resources[r].name;
		stats->k8s[r].last_sync = now; /* "since" counts from the start */
	}
	pthread_mutex_unlock(lock);
	for (r = 0; r < K8S_RES_MAX; r++) {
		err = k8s_watcher_start(c, r, &c->w[r]);
		if (err) {
			k8s_client_stop(c);
			return err;
		}
	}
	*out = c;
	return 0;
}

int k8s_client_fd(const struct k8s_client *c)
{
	return c->efd;
}

unsigned int k8s_client_apply(struct k8s_client *c, struct k8s_store *stores,
			      unsigned int *synced, unsigned int *listed)
{
	struct k8s_msg *m, *next;
	unsigned int changed = 0;
	uint64_t n;
	int r;

	*listed = 0;
	if (read(c->efd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing new since the last call; the queue says */
	}
	pthread_mutex_lock(&c->lock);
	m = c->head;
	c->head = NULL;
	c->tail = &c->head;
	pthread_mutex_unlock(&c->lock);
	for (; m; m = next) {
		next = m->next;
		switch (m->type) {
		case K8S_MSG_SYNC:
			store_sync(&stores[m->res], m->items, m->n_items);
			c->synced |= 1u << m->res;
			*listed |= 1u << m->res;
			changed |= 1u << m->res;
			break;
		case K8S_MSG_PUT:
			store_put(&stores[m->res], m->key, m->obj);
			m->obj = NULL;
			changed |= 1u << m->res;
			break;
		case K8S_MSG_DEL:
			if (store_del(&stores[m->res], m->key))
				changed |= 1u << m->res;
			break;
		}
		msg_free(m);
	}
	error_clear();
	pthread_mutex_lock(c->stats_lock);
	for (r = 0; r < K8S_RES_MAX; r++)
		c->stats->k8s[r].objects = stores[r].n;
	pthread_mutex_unlock(c->stats_lock);
	*synced = c->synced;
	return changed;
}

void k8s_client_stop(struct k8s_client *c)
{
	struct k8s_msg *m, *next;
	int r;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	atomic_store(&c->stop, 1);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	for (r = 0; r < K8S_RES_MAX; r++)
		if (c->w[r])
			k8s_watcher_wakeup(c->w[r]);
	for (r = 0; r < K8S_RES_MAX; r++)
		if (c->w[r])
			k8s_watcher_join(c->w[r]);
	for (m = c->head; m; m = next) {
		next = m->next;
		msg_free(m);
	}
	if (c->efd >= 0)
		close(c->efd);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
