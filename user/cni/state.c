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

json_t *cni_rec_to_json(const struct cni_req *r)
{
	json_t *conf, *o;

	conf = json_deep_copy(r->conf);
	json_object_del(conf, "prevResult");
	o = json_pack("{s:s, s:s, s:s, s:o}", "containerID", r->container_id,
		      "ifname", r->ifname, "network", r->network, "config", conf);
	if (o && r->path)
		json_object_set_new(o, "cniPath", json_string(r->path));
	return o;
}

int cni_rec_save(const struct ctx *c, const char *pod, const struct cni_req *r)
{
	char dir[PATH_MAX], path[PATH_MAX];
	json_t *o;
	int err;

	rec_dir(c, dir);
	err = mkdir_state(dir);
	if (err)
		return err;
	err = rec_path(c, pod, path);
	if (err)
		return errorf(err, "cni record for %s", pod);
	o = cni_rec_to_json(r);
	if (!o)
		return errorf(-ENOMEM, "cni record for %s", pod);
	/* Through a temporary file, so a crash never leaves half a record. */
	return json_file_save(o, path);
}

static int copy_str(json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) >= len ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -EINVAL;
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int cni_rec_from_json(json_t *o, struct cni_rec *rec)
{
	json_t *path_env = json_object_get(o, "cniPath");

	memset(rec, 0, sizeof(*rec));
	if (copy_str(o, "containerID", rec->container_id, sizeof(rec->container_id)) ||
	    copy_str(o, "ifname", rec->ifname, sizeof(rec->ifname)) ||
	    !ifname_valid(rec->ifname) ||
	    copy_str(o, "network", rec->network, sizeof(rec->network)) ||
	    !json_is_object(json_object_get(o, "config")) ||
	    (path_env && !json_is_string(path_env)))
		return -EINVAL;
	rec->conf = json_incref(json_object_get(o, "config"));
	if (path_env) {
		rec->cni_path = strdup(json_string_value(path_env));
		if (!rec->cni_path) {
			cni_rec_free(rec);
			return -ENOMEM;
		}
	}
	return 0;
}

int cni_rec_load(const struct ctx *c, const char *pod, struct cni_rec *rec)
{
	char path[PATH_MAX];
	json_t *o;
	int err;

	memset(rec, 0, sizeof(*rec));
	err = rec_path(c, pod, path);
	if (err)
		return err;
	err = json_file_load(path, &o);
	if (err)
		return err;
	err = cni_rec_from_json(o, rec);
	json_decref(o);
	if (err == -EINVAL)
		return errorf_raw(-EINVAL, "%s: bad cni record", path);
	return err ? errorf(err, "%s", path) : 0;
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
	int err;

	if (rec_path(c, pod, path))
		return 0;
	err = file_remove(path);
	if (err)
		return err;
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

int cni_rec_quarantine_bad(const struct ctx *c)
{
	char dir[PATH_MAX];
	struct cni_rec rec;
	struct dirent *de;
	int n = 0, err;
	DIR *d;

	rec_dir(c, dir);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!pod_name_valid(de->d_name))
			continue;
		err = cni_rec_load(c, de->d_name, &rec);
		if (!err)
			cni_rec_free(&rec);
		if (err != -EINVAL) {
			error_clear();
			continue;
		}
		if (state_quarantine(c, "cni", de->d_name, error_message()) == 0)
			n++;
		error_clear();
	}
	closedir(d);
	return n;
}
