// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What a CNI call brings: CNI_* environment variables and stdin JSON. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cni/cni.h"

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* The spec's container id: alphanumeric first, then [A-Za-z0-9_.-]. */
static int container_id_valid(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return 0;
	return 1;
}

static int utf8(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

static void add_problem(char *buf, size_t len, const char *fmt, const char *arg)
{
	size_t n = strlen(buf);

	if (n && n < len)
		n += snprintf(buf + n, len - n, "; ");
	if (n < len)
		snprintf(buf + n, len - n, fmt, arg);
}

int cni_env_load(struct cni_req *r)
{
	/* Which variables each command needs (spec: CNI_NETNS optional on DEL). */
	int need_cid = 0, need_netns = 0, need_path = 0;
	char why[768] = "";

	r->command = env("CNI_COMMAND");
	r->container_id = env("CNI_CONTAINERID");
	r->netns = env("CNI_NETNS");
	r->ifname = env("CNI_IFNAME");
	r->args = env("CNI_ARGS");
	r->path = env("CNI_PATH");
	r->log_file = env("BRIDGELESS_CNI_LOG") ?: CNI_LOG_DEFAULT;
	r->ctx.pin_dir = env("BRIDGELESS_PIN_DIR") ?: PIN_DIR_DEFAULT;
	r->ctx.state_dir = env("BRIDGELESS_STATE_DIR") ?: STATE_DIR_DEFAULT;

	if (!r->command)
		return cni_errorf(CNI_ERR_ENV, -EINVAL,
				  "CNI_COMMAND not set (ADD, DEL, CHECK, GC, STATUS or VERSION)");
	if (!strcmp(r->command, "ADD") || !strcmp(r->command, "CHECK")) {
		need_cid = need_netns = need_path = 1;
	} else if (!strcmp(r->command, "DEL")) {
		need_cid = need_path = 1;
	} else if (!strcmp(r->command, "GC")) {
		need_path = 1;
	} else if (strcmp(r->command, "STATUS") && strcmp(r->command, "VERSION")) {
		return cni_errorf(CNI_ERR_ENV, -EINVAL,
				  "CNI_COMMAND \"%s\" unknown (ADD, DEL, CHECK, GC, STATUS or VERSION)",
				  r->command);
	}

	if (need_cid && !r->container_id)
		add_problem(why, sizeof(why), "%s not set", "CNI_CONTAINERID");
	else if (need_cid && !container_id_valid(r->container_id))
		add_problem(why, sizeof(why),
			    "CNI_CONTAINERID \"%s\" invalid (alphanumeric first, then letters, digits, '_', '.', '-')",
			    r->container_id);
	if (need_netns && !r->netns)
		add_problem(why, sizeof(why), "%s not set", "CNI_NETNS");
	else if (need_netns && r->netns[0] != '/')
		add_problem(why, sizeof(why), "CNI_NETNS \"%s\" is not an absolute path",
			    r->netns);
	if (need_cid && !r->ifname)
		add_problem(why, sizeof(why), "%s not set", "CNI_IFNAME");
	else if (need_cid && (!ifname_valid(r->ifname) || !utf8(r->ifname)))
		add_problem(why, sizeof(why),
			    "CNI_IFNAME \"%s\" invalid (1-15 UTF-8 bytes, no '/', ':', blanks or control characters, not . or ..)",
			    r->ifname);
	if (need_path && !r->path)
		add_problem(why, sizeof(why), "%s not set", "CNI_PATH");
	/* They go into JSON (results, records), which is UTF-8 only. */
	if (r->netns && !utf8(r->netns))
		add_problem(why, sizeof(why), "%s is not UTF-8", "CNI_NETNS");
	if (r->args && !utf8(r->args))
		add_problem(why, sizeof(why), "%s is not UTF-8", "CNI_ARGS");
	if (r->path && !utf8(r->path))
		add_problem(why, sizeof(why), "%s is not UTF-8", "CNI_PATH");
	if (why[0])
		return cni_errorf(CNI_ERR_ENV, -EINVAL, "%s %s", r->command, why);
	if (need_cid)
		cni_pod_name(r->container_id, r->ifname, r->pod_name);
	return 0;
}

static int opt_string(json_t *conf, const char *key, const char **out)
{
	json_t *v = json_object_get(conf, key);

	if (!v)
		return 0;
	if (!json_is_string(v))
		return cni_errorf(CNI_ERR_CONFIG, -EINVAL, "\"%s\" must be a string", key);
	if (json_string_length(v))
		*out = json_string_value(v);
	return 0;
}

static int parse_ipam(struct cni_req *r)
{
	int needed = strcmp(r->command, "GC") && strcmp(r->command, "STATUS");
	json_t *type;

	r->ipam = json_object_get(r->conf, "ipam");
	if (!r->ipam) {
		if (!needed)
			return 0;
		return cni_errorf(CNI_ERR_CONFIG, -EINVAL,
				  "network %s: no \"ipam\" section (bridgeless delegates addresses to an IPAM plugin, e.g. \"ipam\": {\"type\": \"host-local\", \"ranges\": [[{\"subnet\": \"<pod CIDR>\"}]]})",
				  r->network);
	}
	type = json_object_get(r->ipam, "type");
	if (!json_is_object(r->ipam) || !json_is_string(type) ||
	    !json_string_length(type))
		return cni_errorf(CNI_ERR_CONFIG, -EINVAL,
				  "network %s: \"ipam\" must be an object with a \"type\" naming the IPAM plugin",
				  r->network);
	r->ipam_type = json_string_value(type);
	if (strchr(r->ipam_type, '/') || !strcmp(r->ipam_type, ".") ||
	    !strcmp(r->ipam_type, ".."))
		return cni_errorf(CNI_ERR_CONFIG, -EINVAL,
				  "network %s: ipam type \"%s\" must be a plugin name, not a path",
				  r->network, r->ipam_type);
	return 0;
}

int cni_conf_parse(struct cni_req *r, const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *v;
	int err;

	r->conf = json_loadb(buf, len, 0, &jerr);
	if (!r->conf)
		return cni_errorf(CNI_ERR_DECODE, -EINVAL,
				  "network configuration on stdin is not valid JSON: line %d column %d: %s",
				  jerr.line, jerr.column, jerr.text);
	if (!json_is_object(r->conf))
		return cni_errorf(CNI_ERR_DECODE, -EINVAL,
				  "network configuration on stdin must be a JSON object");
	/* First, so that even a rejected configuration is logged where it asks. */
	if ((err = opt_string(r->conf, "logFile", &r->log_file)))
		return err;

	v = json_object_get(r->conf, "cniVersion");
	if (!v)
		return cni_errorf(CNI_ERR_CONFIG, -EINVAL,
				  "network configuration has no \"cniVersion\" (supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0)");
	if (!json_is_string(v) || cni_version_num(json_string_value(v)) < 0)
		return cni_errorf(CNI_ERR_DECODE, -EINVAL,
				  "cniVersion %s does not parse as a version (want e.g. \"1.0.0\")",
				  json_is_string(v) ? json_string_value(v) : "(not a string)");
	snprintf(r->version, sizeof(r->version), "%s", json_string_value(v));
	r->vnum = cni_version_num(r->version);
	if (!cni_version_supported(r->version))
		return cni_errorf(CNI_ERR_VERSION, -EINVAL,
				  "incompatible CNI version: config is \"%s\", bridgeless supports 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0",
				  r->version);

	v = json_object_get(r->conf, "name");
	if (!json_is_string(v) || !json_string_length(v))
		return cni_errorf(CNI_ERR_CONFIG, -EINVAL,
				  "network configuration has no \"name\"");
	r->network = json_string_value(v);
	v = json_object_get(r->conf, "type");
	if (!json_is_string(v) || !json_string_length(v))
		return cni_errorf(CNI_ERR_CONFIG, -EINVAL, "network %s: no \"type\"",
				  r->network);

	if ((err = opt_string(r->conf, "pinDir", &r->ctx.pin_dir)) ||
	    (err = opt_string(r->conf, "stateDir", &r->ctx.state_dir)))
		return err;
	if (r->ctx.pin_dir[0] != '/' || r->ctx.state_dir[0] != '/')
		return cni_errorf(CNI_ERR_CONFIG, -EINVAL,
				  "network %s: pinDir and stateDir must be absolute paths",
				  r->network);

	v = json_object_get(r->conf, "prevResult");
	if (v && !json_is_null(v)) {
		if (!json_is_object(v))
			return cni_errorf(CNI_ERR_DECODE, -EINVAL,
					  "network %s: \"prevResult\" must be an object",
					  r->network);
		r->prev_result = v;
	}
	v = json_object_get(r->conf, "dns");
	if (v && !json_is_object(v))
		return cni_errorf(CNI_ERR_CONFIG, -EINVAL,
				  "network %s: \"dns\" must be an object", r->network);
	return parse_ipam(r);
}

/*
 * One name per (container id, interface), never two attachments to one
 * name: "<id>.<ifname>" is readable (what `bridgeless pod list` shows) and
 * taken only where the id has no dot, so the first dot splits it back;
 * anything else gets "cni-" and a 64-bit hash, which has no dot and so
 * never meets a readable name. (DEL also compares the id and interface
 * its record saved, in case two hashes ever meet.)
 */
void cni_pod_name(const char *container_id, const char *ifname, char *buf)
{
	uint64_t h = 14695981039346656037ull;
	const char *s;
	int n;

	n = snprintf(buf, POD_NAME_MAX + 1, "%s.%s", container_id, ifname);
	if (!strchr(container_id, '.') && n <= POD_NAME_MAX && pod_name_valid(buf))
		return;
	for (s = container_id; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	h = (h ^ '/') * 1099511628211ull;
	for (s = ifname; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	snprintf(buf, POD_NAME_MAX + 1, "cni-%016llx", (unsigned long long)h);
}
