// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Per CNI attachment, STATE/cni/<pod name>: the container id, interface and
 * network it belongs to, the configuration ADD got and its CNI_PATH. GC
 * needs them to find stale attachments, GC and the agent to release their
 * addresses through the same IPAM plugin and configuration. The pod itself is the ordinary pod record.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cni/cni.h"
#include "lib/fs.h"
#include "lib/jsonfile.h"
#include "lib/log.h"

static void rec_dir(const struct ctx *c, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/cni", c->state_dir);
}

static int rec_path(const struct ctx *c, const char *pod, char *buf)
{
	if (!pod_name_valid(pod))
		return -EINVAL;
	if (snprintf(buf, PATH_MAX, "%s/cni/%s", c->state_dir, pod) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int cni_rec_save(const struct ctx *c, const char *pod, const struct cni_req *r)
{
	char dir[PATH_MAX], path[PATH_MAX];
	json_t *conf, *o;
	int err;

	rec_dir(c, dir);
	err = mkdir_p(dir, 0700);
	if (err)
		return err;
	err = rec_path(c, pod, path);
	if (err)
		return errorf(err, "cni record for %s", pod);
	conf = json_deep_copy(r->conf);
	json_object_del(conf, "prevResult");
	o = json_pack("{s:s, s:s, s:s, s:o}", "containerID", r->container_id,
		      "ifname", r->ifname, "network", r->network, "config", conf);
	if (!o)
		return errorf(-ENOMEM, "cni record for %s", pod);
	if (r->path)
		json_object_set_new(o, "cniPath", json_string(r->path));
	/* Through a temporary file, so a crash never leaves half a record. */
	return json_file_save(o, path);
}

int cni_rec_load(const struct ctx *c, const char *pod, struct cni_rec *rec)
{
	char path[PATH_MAX];
	const char *cid, *ifn, *net, *path_env;
	json_t *o;
	int err;

	memset(rec, 0, sizeof(*rec));
	err = rec_path(c, pod, path);
	if (err)
		return err;
	err = json_file_load(path, &o);
	if (err)
		return err;
	cid = json_string_value(json_object_get(o, "containerID"));
	ifn = json_string_value(json_object_get(o, "ifname"));
	net = json_string_value(json_object_get(o, "network"));
	path_env = json_string_value(json_object_get(o, "cniPath"));
	rec->conf = json_incref(json_object_get(o, "config"));
	rec->cni_path = path_env ? strdup(path_env) : NULL;
	if (!cid || !ifn || !net || !json_is_object(rec->conf) ||
	    (path_env && !rec->cni_path)) {
		json_decref(o);
		cni_rec_free(rec);
		return errorf_raw(-EINVAL, "%s: bad cni record", path);
	}
	snprintf(rec->container_id, sizeof(rec->container_id), "%s", cid);
	snprintf(rec->ifname, sizeof(rec->ifname), "%s", ifn);
	snprintf(rec->network, sizeof(rec->network), "%s", net);
	json_decref(o);
	return 0;
}

void cni_rec_free(struct cni_rec *rec)
{
	json_decref(rec->conf);
	rec->conf = NULL;
	free(rec->cni_path);
	rec->cni_path = NULL;
}

int cni_rec_remove(const struct ctx *c, const char *pod)
{
	char path[PATH_MAX];

	if (rec_path(c, pod, path))
		return 0;
	if (unlink(path) && errno != ENOENT)
		return errorf(-errno, "remove %s", path);
	/* The last one takes the directory with it: node reset knows nothing of it. */
	rec_dir(c, path);
	rmdir(path);
	return 0;
}

int cni_rec_foreach(const struct ctx *c,
		    int (*fn)(const char *pod, struct cni_rec *rec, void *data),
		    void *data)
{
	char dir[PATH_MAX];
	struct cni_rec rec;
	struct dirent *de;
	int err = 0;
	DIR *d;

	rec_dir(c, dir);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : errorf(-errno, "open %s", dir);
	while (!err && (de = readdir(d))) {
		if (!pod_name_valid(de->d_name))
			continue;
		if (cni_rec_load(c, de->d_name, &rec)) {
			pr_warn("skipping cni record %s/%s: %s", dir, de->d_name,
				error_message());
			error_clear();
			continue;
		}
		err = fn(de->d_name, &rec, data);
		cni_rec_free(&rec);
	}
	closedir(d);
	return err;
}
