// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * CNI STATUS and GC (spec 1.1.0). STATUS: can ADD work now, i.e. is the
 * node's datapath loaded and the IPAM plugin there. GC: remove every
 * attachment of this network that the runtime no longer lists as valid,
 * pod and address, then let the IPAM plugin collect its own leftovers if
 * it speaks GC.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cni/cni.h"
#include "lib/log.h"

int cni_status(struct cni_req *r)
{
	struct node_rec node;
	char path[PATH_MAX];
	int err;

	err = cni_node_ready(r, &node, CNI_ERR_NOT_AVAILABLE);
	if (err)
		return err;
	/* CNI_PATH is optional for STATUS: without it there is nothing to look at. */
	if (!r->ipam_type || !r->path)
		return 0;
	err = cni_find_plugin(r->path, r->ipam_type, path, sizeof(path));
	if (err)
		return cni_error_code(CNI_ERR_NOT_AVAILABLE, err);
	if (r->vnum >= 10100 && cni_ipam_speaks(r, "1.1.0"))
		return cni_ipam_exec(r, "STATUS", NULL);
	return 0;
}

struct gc_walk {
	const struct cni_req *r;
	json_t *valid;
	char **stale;
	size_t n, cap;
};

static int is_valid(json_t *valid, const char *cid, const char *ifname)
{
	const char *c, *i;
	json_t *a;
	size_t k;

	json_array_foreach(valid, k, a) {
		c = json_string_value(json_object_get(a, "containerID"));
		i = json_string_value(json_object_get(a, "ifname"));
		/* An entry without ifname keeps every interface of the container. */
		if (c && !strcmp(c, cid) && (!i || !strcmp(i, ifname)))
			return 1;
	}
	return 0;
}

static int collect(const char *pod, struct cni_rec *rec, void *data)
{
	struct gc_walk *w = data;

	if (strcmp(rec->network, w->r->network) ||
	    is_valid(w->valid, rec->container_id, rec->ifname))
		return 0;
	if (w->n == w->cap) {
		char **s = realloc(w->stale, (w->cap = w->cap ? w->cap * 2 : 16) *
						     sizeof(*s));

		if (!s)
			return errorf(-ENOMEM, "gc");
		w->stale = s;
	}
	w->stale[w->n] = strdup(pod);
	if (!w->stale[w->n])
		return errorf(-ENOMEM, "gc");
	w->n++;
	return 0;
}

static int gc_one(const struct cni_req *r, const char *pod)
{
	int lock, err;

	lock = state_lock(&r->ctx);
	if (lock < 0)
		return lock;
	err = cni_del_recorded(&r->ctx, pod, r->path);
	state_unlock(lock);
	if (err == 1) /* a DEL got there first */
		return 0;
	if (!err)
		pr_info("gc: removed pod %s and released its address", pod);
	return err ? error_prefix(err, "gc pod %s", pod) : 0;
}

int cni_gc(struct cni_req *r)
{
	struct gc_walk w = { .r = r };
	char first[1024] = "";
	int err = 0, e;
	cni_code_t code = 0;
	size_t i;

	w.valid = json_object_get(r->conf, "cni.dev/valid-attachments");
	if (!w.valid) /* the name an earlier draft of the spec used */
		w.valid = json_object_get(r->conf, "cni.dev/attachments");
	if (!json_is_array(w.valid))
		return cni_errorf(CNI_ERR_CONFIG, -EINVAL,
				  "GC without a \"cni.dev/valid-attachments\" list: refusing to guess which attachments are stale");

	e = cni_rec_foreach(&r->ctx, collect, &w);
	if (e)
		err = cni_error_code(CNI_ERR_DATAPATH, e);
	/* As much as possible; the first failure is what we report. */
	for (i = 0; i < w.n; i++) {
		cni_code = CNI_ERR_DATAPATH;
		e = gc_one(r, w.stale[i]);
		if (e && !err) {
			err = e;
			code = cni_code;
			snprintf(first, sizeof(first), "%s", error_message());
		}
		free(w.stale[i]);
	}
	free(w.stale);
	if (err && first[0])
		return cni_errorf(code, err, "%s", first);
	if (err)
		return err;
	if (r->ipam_type && r->vnum >= 10100 && cni_ipam_speaks(r, "1.1.0"))
		return cni_ipam_exec(r, "GC", NULL);
	return 0;
}
