// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * CNI DEL, and the same DEL for attachments the runtime did not DEL itself
 * (GC, node reset, the agent's reconcile), from their records.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cni/cni.h"
#include "lib/log.h"

static void del_feed_ipam(void *arg)
{
	cni_ipam_feed(arg);
}

/*
 * DEL's part under the state lock: the pod goes, the IPAM plugin (started)
 * gets its stdin once the pod is out of the datapath, then the record goes.
 * On failure the plugin is cancelled.
 */
static int del_pod(struct cni_req *r, struct cni_ipam_call *ipam)
{
	char saved[1024];
	int err;

	err = pod_del_unplugged(&r->ctx, r->pod_name, del_feed_ipam, ipam);
	if (!err)
		err = cni_rec_remove(&r->ctx, r->pod_name);
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
 */
int cni_del(struct cni_req *r)
{
	struct cni_ipam_call ipam;
	int lock, err;

	cni_ipam_start(r, "DEL", &ipam);
	/* Nothing of ours can exist without the state dir; do not create it. */
	if (access(r->ctx.state_dir, F_OK) == 0) {
		lock = state_lock(&r->ctx);
		if (lock < 0) {
			cni_ipam_cancel(&ipam);
			return cni_error_code(CNI_ERR_DATAPATH, lock);
		}
		err = del_pod(r, &ipam);
		state_unlock(lock);
		if (err)
			return err;
	}
	/* Always: the address may be held even where our part never was made. */
	return cni_ipam_finish(&ipam, NULL);
}

int cni_del_recorded(const struct ctx *c, const char *pod, const char *cni_path)
{
	struct cni_req d = { .command = "DEL" };
	struct cni_ipam_call ipam;
	struct cni_rec rec;
	int err;

	err = cni_rec_load(c, pod, &rec);
	if (err == -ENOENT)
		return 1;
	if (err) {
		/* pod_del() can still take the pod: better than keeping it for good. */
		pr_warn("pod %s: %s: its IPAM address cannot be released", pod,
			error_message());
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
	err = del_pod(&d, &ipam);
	if (!err)
		err = cni_ipam_finish(&ipam, NULL);
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
