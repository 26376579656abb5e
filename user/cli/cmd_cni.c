// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `bridgeless cni install`: put the plugin where the runtime looks for it
 * (BIN_DIR/bridgeless, as "type": "bridgeless" names it) and a conflist for
 * this node: bridgeless first with host-local IPAM over the node's pod CIDR,
 * then portmap (hostPort) and bandwidth, as Kubernetes nodes chain them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <jansson.h>
#include "cli/cli.h"
#include "cni/cni.h"
#include "lib/fs.h"
#include "lib/log.h"

/* bridgeless-cni beside the running bridgeless binary. */
static int default_plugin(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		return errorf(-errno, "readlink /proc/self/exe");
	self[n] = 0;
	snprintf(buf, len, "%s/bridgeless-cni", dirname(self));
	return 0;
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Copy through a temporary file and rename: a runtime never runs half a binary. */
static int install_file(const char *src, const char *dst, int mode)
{
	char tmp[PATH_MAX + 32], buf[65536];
	int in, out, err = 0;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errorf(-errno, "plugin binary %s (build it with make, or pass --plugin)",
			      src);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", dst, getpid());
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		err = errorf(-errno, "create %s", tmp);
		close(in);
		return err;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n) {
			err = errorf(-EIO, "write %s", tmp);
			break;
		}
	if (n < 0 && !err)
		err = errorf(-errno, "read %s", src);
	if (!err && fchmod(out, mode))
		err = errorf(-errno, "chmod %s", tmp);
	if (close(out) && !err)
		err = errorf(-errno, "write %s", tmp);
	close(in);
	if (!err && rename(tmp, dst))
		err = errorf(-errno, "rename %s to %s", tmp, dst);
	if (err)
		unlink(tmp);
	return err;
}

/* The conflist: host-local with one range per pod CIDR (a dual-stack node: two). */
static json_t *conflist(const struct ctx *c, const struct prefix *pod_cidrs, int n,
			const char *log_file)
{
	char cidr[PREFIX_STRLEN];
	json_t *conf, *ranges = json_array();
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(ranges, json_pack("[{s:s}]", "subnet",
							prefix_str(&pod_cidrs[i], cidr)));
	conf = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:{s:s, s:o}},"
			 " {s:s, s:{s:b}}, {s:s, s:{s:b}}]}",
			 "cniVersion", CNI_VERSION_INSTALL, "name", "bridgeless",
			 "plugins",
			 "type", "bridgeless", "pinDir", c->pin_dir, "stateDir",
			 c->state_dir, "logFile", log_file, "ipam", "type",
			 "host-local", "ranges", ranges,
			 "type", "portmap", "capabilities", "portMappings", 1,
			 "type", "bandwidth", "capabilities", "bandwidth", 1);
	return conf;
}

static int write_conflist(json_t *conf, const char *path)
{
	char tmp[PATH_MAX + 32];
	int err = 0;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, getpid());
	f = fopen(tmp, "we");
	if (!f)
		return errorf(-errno, "create %s", tmp);
	if (json_dumpf(conf, f, JSON_INDENT(2)) | (fputc('\n', f) == EOF) | fclose(f))
		err = errorf(-EIO, "write %s", tmp);
	else if (chmod(tmp, 0644))
		err = errorf(-errno, "chmod %s", tmp);
	else if (rename(tmp, path))
		err = errorf(-errno, "rename %s to %s", tmp, path);
	if (err)
		unlink(tmp);
	return err;
}

enum { CI_BIN_DIR = 1, CI_CONF_DIR, CI_POD_CIDR, CI_PLUGIN, CI_LOG_FILE };

static const struct opt_def install_opts[] = {
	{ .name = "bin-dir", .kind = OPT_PATH, .id = CI_BIN_DIR, .arg = "DIR" },
	{ .name = "conf-dir", .kind = OPT_PATH, .id = CI_CONF_DIR, .arg = "DIR" },
	{ .name = "pod-cidr", .kind = OPT_PREFIX, .id = CI_POD_CIDR, .arg = "CIDR",
	  .flags = OPT_REPEAT },
	{ .name = "plugin", .kind = OPT_PATH, .id = CI_PLUGIN, .arg = "PATH" },
	{ .name = "log-file", .kind = OPT_PATH, .id = CI_LOG_FILE, .arg = "PATH" },
	{}
};

static const char *str_or(const struct cli_call *call, int id, const char *def)
{
	const union opt_value *v = cli_opt(call, id);

	return v ? v->str : def;
}

static int cni_install(const struct ctx *c, const struct cli_call *call)
{
	const char *bin_dir = str_or(call, CI_BIN_DIR, CNI_PATH_DEFAULT);
	const char *conf_dir = str_or(call, CI_CONF_DIR, "/etc/cni/net.d");
	const char *plugin = str_or(call, CI_PLUGIN, NULL);
	const char *log_file = str_or(call, CI_LOG_FILE, CNI_LOG_DEFAULT);
	char src[PATH_MAX], dst[PATH_MAX], conf_path[PATH_MAX], s[PREFIX_STRLEN];
	char t[PREFIX_STRLEN];
	struct prefix pod_cidrs[2];
	struct node_rec node;
	json_t *conf;
	int err, n = 0, i;

	/* The plugin runs from the runtime's working directory. */
	if (c->pin_dir[0] != '/' || c->state_dir[0] != '/')
		return errorf_raw(-EINVAL,
				  "cni install: --pin-dir and --state-dir must be absolute paths for the conflist");
	/* --pod-cidr once per family, else the node's */
	for (i = 0; i < call->n_given; i++) {
		const struct prefix *p = &call->given[i].v.prefix;

		if (call->given[i].d->id != CI_POD_CIDR)
			continue;
		if (n == 2 || (n == 1 && pod_cidrs[0].family == p->family))
			return errorf_raw(-EINVAL, "cni install: --pod-cidr once per family");
		pod_cidrs[n++] = *p;
	}
	if (!n) {
		err = node_load(c, &node);
		if (err == -ENOENT)
			return errorf_raw(err,
					  "cni install: node not initialized, so its pod CIDR is unknown: run `bridgeless node init` first, or pass --pod-cidr");
		if (err)
			return error_prefix(err, "cni install");
		if (node_has_ipv4(&node))
			prefix_from_cidr(&pod_cidrs[n++], &node.pod_cidr);
		if (node_has_ipv6(&node))
			pod_cidrs[n++] = node.pod_cidr6;
	}
	if (!plugin) {
		err = default_plugin(src, sizeof(src));
		if (err)
			return error_prefix(err, "cni install");
		plugin = src;
	}

	if ((err = mkdir_p(bin_dir, 0755)) || (err = mkdir_p(conf_dir, 0755)))
		return error_prefix(err, "cni install");
	snprintf(dst, sizeof(dst), "%s/bridgeless", bin_dir);
	if (same_file(dst, "/proc/self/exe"))
		return errorf_raw(-EINVAL,
				  "cni install: %s is this bridgeless binary; the plugin goes into a CNI bin dir (--bin-dir)",
				  dst);
	err = install_file(plugin, dst, 0755);
	if (err)
		return error_prefix(err, "cni install");

	snprintf(conf_path, sizeof(conf_path), "%s/" CNI_CONFLIST_NAME, conf_dir);
	conf = conflist(c, pod_cidrs, n, log_file);
	if (!conf)
		return errorf(-ENOMEM, "cni install");
	err = write_conflist(conf, conf_path);
	json_decref(conf);
	if (err)
		return error_prefix(err, "cni install");
	printf("installed %s and %s (pod CIDR %s%s%s)\n", dst, conf_path,
	       prefix_str(&pod_cidrs[0], s), n > 1 ? ", " : "",
	       n > 1 ? prefix_str(&pod_cidrs[1], t) : "");
	return 0;
}

static const struct cli_cmd install = { .name = "install", .run = cni_install,
					.opts = CLI_OPTS(install_opts) };
const struct cli_cmd cmd_cni = { .name = "cni",
				 .sub = (const struct cli_cmd *const[]){ &install, NULL } };
