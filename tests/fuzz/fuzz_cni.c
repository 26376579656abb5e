// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What a container runtime hands the CNI plugin: the CNI_* environment
 * (input lines NAME=VALUE up to the first empty line) and the network
 * configuration on stdin (the rest), prevResult included. Oracles: the pod
 * name splits back into exactly the container id and interface it came
 * from (or is a hash, which never looks like one that splits); the parsed
 * configuration, printed, parses to the same; the CNI record written for
 * it loads back the same; converting prevResult to a version twice is
 * converting it once; its routes, printed as a result, read back the same.
 */
#include "cni/cni.h"
#include "fuzz.h"

static const char *const vars[] = { "CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS",
				     "CNI_IFNAME",  "CNI_ARGS",	       "CNI_PATH", NULL };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

static void set_env(char *env)
{
	char *line, *save = NULL, *eq;
	int i;

	for (i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	for (line = strtok_r(env, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = 0;
		for (i = 0; vars[i]; i++)
			if (!strcmp(line, vars[i]))
				setenv(line, eq + 1, 1);
	}
}

static void check_pod_name(const struct cni_req *r)
{
	const char *dot = strchr(r->pod_name, '.');

	oracle(pod_name_valid(r->pod_name), "pod name \"%s\" invalid", r->pod_name);
	if (dot) {
		oracle((size_t)(dot - r->pod_name) == strlen(r->container_id) &&
			       !strncmp(r->pod_name, r->container_id, dot - r->pod_name) &&
			       !strcmp(dot + 1, r->ifname),
		       "pod name \"%s\" does not split into \"%s\" and \"%s\"", r->pod_name,
		       r->container_id, r->ifname);
	} else {
		oracle(!strncmp(r->pod_name, "cni-", 4) && strlen(r->pod_name) == 20,
		       "pod name \"%s\" is neither readable nor a hash", r->pod_name);
	}
}

static void check_reparse(const struct cni_req *r)
{
	struct cni_req r2 = { .command = r->command };
	char *s = json_dumps(r->conf, JSON_COMPACT);
	int err;

	oracle(s, "configuration does not print");
	/* What cni_env_load() starts from (no BRIDGELESS_* variables here). */
	r2.ctx.pin_dir = PIN_DIR_DEFAULT;
	r2.ctx.state_dir = STATE_DIR_DEFAULT;
	r2.log_file = CNI_LOG_DEFAULT;
	err = cni_conf_parse(&r2, s, strlen(s));
	oracle(!err, "printed configuration refused: %s (%s)", error_message(), s);
	oracle(!strcmp(r2.version, r->version) && r2.vnum == r->vnum &&
		       !strcmp(r2.network, r->network) &&
		       !strcmp(r2.ctx.pin_dir, r->ctx.pin_dir) &&
		       !strcmp(r2.ctx.state_dir, r->ctx.state_dir) &&
		       !strcmp(r2.log_file, r->log_file) &&
		       !r2.ipam_type == !r->ipam_type &&
		       (!r->ipam_type || !strcmp(r2.ipam_type, r->ipam_type)) &&
		       !r2.prev_result == !r->prev_result,
	       "printed configuration parses otherwise: %s", s);
	json_decref(r2.conf);
	free(s);
}

static void check_record(const struct cni_req *r)
{
	json_t *o = cni_rec_to_json(r);
	struct cni_rec rec;
	int err;

	oracle(o, "no record");
	err = cni_rec_from_json(o, &rec);
	oracle(!err, "record of an accepted call refused");
	oracle(!strcmp(rec.container_id, r->container_id) && !strcmp(rec.ifname, r->ifname) &&
		       !strcmp(rec.network, r->network) &&
		       !rec.cni_path == !r->path &&
		       (!r->path || !strcmp(rec.cni_path, r->path)),
	       "record loads otherwise");
	oracle(!json_object_get(rec.conf, "prevResult"), "record keeps prevResult");
	cni_rec_free(&rec);
	json_decref(o);
}

static void check_prev(const struct cni_req *r)
{
	/* a pod of both families: every route is printed */
	static const struct pod_rec both = { .ip = 1, .has_ip6 = 1 };
	struct pod_routes rs, rs2;
	json_t *a, *b, *res;
	unsigned int i;
	int k;

	for (k = 0; cni_versions[k]; k++) {
		a = json_deep_copy(r->prev_result);
		cni_result_convert(a, cni_versions[k]);
		b = json_deep_copy(a);
		cni_result_convert(b, cni_versions[k]);
		oracle(json_equal(a, b), "converting to %s twice differs", cni_versions[k]);
		json_decref(a);
		json_decref(b);
	}
	if (cni_ipam_routes(r, r->prev_result, &rs))
		return;
	res = json_pack("{s:[]}", "routes");
	cni_routes_result(json_object_get(res, "routes"), &rs, &both);
	oracle(!cni_ipam_routes(r, res, &rs2), "printed routes refused: %s", error_message());
	oracle(rs2.n == rs.n, "routes: %u printed, %u read back", rs.n, rs2.n);
	for (i = 0; i < rs.n; i++)
		oracle(prefix_equal(&rs.r[i], &rs2.r[i]), "route %u reads back otherwise", i);
	json_decref(res);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct cni_req r = {};
	char *in, *split, *env;
	size_t len;

	if (size > 65536)
		return 0;
	in = fuzz_str(data, size);
	split = strstr(in, "\n\n");
	env = in;
	if (split) {
		*split = 0;
		split += 2;
	} else {
		split = in + strlen(in);
	}
	set_env(env);
	if (cni_env_load(&r) || !strcmp(r.command, "VERSION"))
		goto out;
	/* The commands that name an attachment. */
	if (!strcmp(r.command, "ADD") || !strcmp(r.command, "DEL") || !strcmp(r.command, "CHECK"))
		check_pod_name(&r);
	len = strlen(split);
	if (cni_conf_parse(&r, split, len))
		goto out;
	check_reparse(&r);
	if (!strcmp(r.command, "ADD")) /* what ADD writes */
		check_record(&r);
	if (r.prev_result)
		check_prev(&r);
out:
	json_decref(r.conf);
	error_clear();
	free(in);
	return 0;
}
