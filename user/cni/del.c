// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * CNI DEL, and the same DEL for attachments the runtime did not DEL itself
 * (GC, node reset, the agent's reconcile, an ADD retried after a kill),
 * from their records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cni/cni.h"
#include "lib/log.h"

static void del_feed_ipam(void *arg)
{
	cni_ipam_feed(arg);
}

/*
 * Is the pod of r's name the attachment DEL names? Its record says which
 * container and interface it is; a record of another (two names that
 * met) or none (a pod `bridgeless pod add` made) keeps it. A record that
 * does not parse goes to quarantine: the name is one attachment's alone
 * (cni_pod_name), so the pod is taken.
 */
static int ours(struct cni_req *r)
{
	struct cni_rec rec;
	int err, mine;

	err = cni_rec_load(&r->ctx, r->pod_name, &rec);
	if (err == -ENOENT) {
		/* An ADD killed as it wrote the record leaves its temporary file. */
		cni_rec_remove(&r->ctx, r->pod_name);
		error_clear();
		return 0;
	}
	if (err == -EINVAL) {
		if (state_quarantine(&r->ctx, "cni", r->pod_name, error_message()))
			return err;
		error_clear();
		return 1;
	}
	if (err)
		return err;
	mine = !strcmp(rec.container_id, r->container_id) && !strcmp(rec.ifname, r->ifname);
	if (!mine)
		pr_warn("pod %s belongs to container %s interface %s, not %s %s; left alone",
			r->pod_name, rec.container_id, rec.ifname, r->container_id,
			r->ifname);
	cni_rec_free(&rec);
	return mine;
}

/*
 * DEL's part under the state lock: the pod goes, the IPAM plugin (started)
 * gets its stdin once the pod is out of the datapath. The record stays
 * until the plugin released the address: killed before, whoever comes
 * next (the runtime's DEL, the agent, an ADD) finds it and releases it.
 * *mine: the pod and record were this attachment's. On failure the plugin
 * is cancelled.
 */
static int del_pod(struct cni_req *r, struct cni_ipam_call *ipam, int *mine)
{
	char saved[ERR_MSG_MAX];
	int err;

	err = ours(r);
	*mine = err > 0;
	if (err == 0)
		return 0;
	if (err > 0)
		err = pod_del_unplugged(&r->ctx, r->pod_name, del_feed_ipam, ipam);
	if (!err)
		return 0;
	snprintf(saved, sizeof(saved), "%s", error_message());
	cni_ipam_cancel(ipam);
	errorf_raw(err, "%s", saved);
	return cni_error_code(CNI_ERR_DATAPATH, error_prefix(err, "pod %s", r->pod_name));
}

/*
 * The IPAM plugin is started first and starts up while the pod goes; it
 * gets its stdin, and with it the address to release, once the pod is out
 * of the datapath (no endpoint, no programs), and releases it while the
 * veth is deleted. Where the pod cannot be deleted before that, it is
 * killed, having done nothing, and the address stays held for the
 * runtime's retry, as before; a failure after that (deleting the veth or
 * the records) leaves the address released and the pod for the retry,
 * whose ADD of the same address would be refused meanwhile (ipam_reserve).
 * An IPAM plugin that is not installed (an ADD refused for it, or removed
 * since) releases nothing: the rest is still done and DEL succeeds.
 */
/*
 * The record, under the lock again: the address is released now. (Unless
 * an ADD of the name came in between: the record is its own then.)
 */
static int rec_done(struct cni_req *r)
{
	struct pod_rec p;
	int lock, err = 0;

	lock = state_lock(&r->ctx);
	if (lock < 0)
		return cni_error_code(CNI_ERR_DATAPATH, lock);
	if (pod_load(&r->ctx, r->pod_name, &p) == -ENOENT)
		err = cni_rec_remove(&r->ctx, r->pod_name);
	error_clear();
	state_unlock(lock);
	return err ? cni_error_code(CNI_ERR_DATAPATH, err) : 0;
}

int cni_del(struct cni_req *r)
{
	struct cni_ipam_call ipam;
	char path[PATH_MAX];
	int lock, err, mine = 0;

	cni_ipam_start(r, "DEL", &ipam);
	/* Nothing of ours can exist without the state dir; do not create it. */
	if (access(r->ctx.state_dir, F_OK) == 0) {
		lock = state_lock(&r->ctx);
		if (lock < 0) {
			cni_ipam_cancel(&ipam);
			return cni_error_code(CNI_ERR_DATAPATH, lock);
		}
		err = del_pod(r, &ipam, &mine);
		state_unlock(lock);
		if (err)
			return err;
	}
	if (!ipam.pid && cni_find_plugin(r->path, r->ipam_type, path, sizeof(path)) == -ENOENT) {
		snprintf(r->note, sizeof(r->note),
			 "(ipam %s not found in CNI_PATH: no address released)", r->ipam_type);
		error_clear();
		return mine ? rec_done(r) : 0;
	}
	/* Always: the address may be held even where our part never was made. */
	err = cni_ipam_finish(&ipam, NULL);
	return err || !mine ? err : rec_done(r);
}

int cni_del_recorded(const struct ctx *c, const char *pod, const char *cni_path)
{
	struct cni_req d = { .command = "DEL" };
	struct cni_ipam_call ipam;
	struct cni_rec rec;
	int err, mine;

	err = cni_rec_load(c, pod, &rec);
	if (err == -ENOENT)
		return 1;
	if (err) {
		/* pod_del() can still take the pod: better than keeping it for good. */
		pr_warn("pod %s: %s: its IPAM address cannot be released", pod,
			error_message());
		if (err == -EINVAL)
			state_quarantine(c, "cni", pod, error_message());
		error_clear();
		return 1;
	}
	d.container_id = rec.container_id;
	d.ifname = rec.ifname;
	d.path = cni_path ? cni_path : rec.cni_path ? rec.cni_path : CNI_PATH_DEFAULT;
	d.log_file = CNI_LOG_DEFAULT;
	d.ctx = *c;
	d.raw = json_dumps(rec.conf, JSON_COMPACT);
	if (!d.raw) {
		err = errorf(-ENOMEM, "cni record %s", pod);
		goto out;
	}
	d.raw_len = strlen(d.raw);
	err = cni_conf_parse(&d, d.raw, d.raw_len);
	if (err)
		goto out;
	/* This node's dirs and pod, whatever the configuration says. */
	d.ctx = *c;
	snprintf(d.pod_name, sizeof(d.pod_name), "%s", pod);
	cni_ipam_start(&d, "DEL", &ipam);
	err = del_pod(&d, &ipam, &mine);
	if (!err)
		err = cni_ipam_finish(&ipam, NULL);
	/* Last: killed before, the record is there to do it all again. */
	if (!err)
		err = cni_rec_remove(c, pod);
out:
	json_decref(d.conf);
	free(d.raw);
	cni_rec_free(&rec);
	return err;
}

int cni_del_owned(const struct ctx *c, const char *pod)
{
	return cni_del_recorded(c, pod, NULL);
}

struct unfinished {
	const struct ctx *c;
	char **pods;
	size_t n, cap;
};

static int collect_unfinished(const char *pod, struct cni_rec *rec, void *data)
{
	struct unfinished *u = data;
	struct pod_rec p;
	char **v;

	if (pod_load(u->c, pod, &p) != -ENOENT) {
		error_clear();
		return 0;
	}
	error_clear();
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 8;
		v = realloc(u->pods, u->cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		u->pods = v;
	}
	u->pods[u->n] = strdup(pod);
	if (u->pods[u->n])
		u->n++;
	return 0;
}

int cni_collect_unfinished(const struct ctx *c)
{
	struct unfinished u = { .c = c };
	int err, n = 0;
	size_t i;

	cni_rec_quarantine_bad(c);
	err = cni_rec_foreach(c, collect_unfinished, &u);
	for (i = 0; i < u.n; i++) {
		err = cni_del_recorded(c, u.pods[i], NULL);
		if (err < 0) {
			pr_warn("reconcile: cni attachment %s (ADD did not finish): %s",
				u.pods[i], error_message());
			error_clear();
		} else {
			n++;
			pr_warn("reconcile: cni attachment %s: ADD did not finish; released its IPAM address",
				u.pods[i]);
		}
		free(u.pods[i]);
	}
	free(u.pods);
	return err < 0 ? err : n;
}
