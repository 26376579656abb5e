// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bridgeless-cni: the CNI plugin ("type": "bridgeless"). A container runtime
 * runs it with CNI_COMMAND and friends in the environment and the network
 * configuration on stdin; the result or the error goes to stdout as JSON,
 * and one line per call to the log file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cni/cni.h"
#include "lib/log.h"

#define STDIN_MAX (16 << 20)

static int read_stdin(struct cni_req *r)
{
	size_t cap = 8192, len = 0;
	char *buf = malloc(cap), *b;
	ssize_t n;

	if (!buf)
		return cni_errorf(CNI_ERR_IO, -ENOMEM, "read stdin: out of memory");
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= STDIN_MAX) {
				free(buf);
				return cni_errorf(CNI_ERR_IO, -EFBIG,
						  "network configuration on stdin is over %d MiB",
						  STDIN_MAX >> 20);
			}
			b = realloc(buf, cap *= 2);
			if (!b) {
				free(buf);
				return cni_errorf(CNI_ERR_IO, -ENOMEM,
						  "read stdin: out of memory");
			}
			buf = b;
		}
		n = read(0, buf + len, cap - 1 - len);
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return cni_errorf(CNI_ERR_IO, -errno, "read stdin: %s",
					  strerror(errno));
		}
		len += n;
	}
	buf[len] = 0;
	r->raw = buf;
	r->raw_len = len;
	return 0;
}

/* VERSION: stdin may hold {"cniVersion": ...}, or nothing at all. */
static int version(struct cni_req *r)
{
	json_t *o = NULL;

	if (read_stdin(r) == 0 && r->raw_len)
		o = json_loadb(r->raw, r->raw_len, 0, NULL);
	error_clear();
	cni_print_version(json_string_value(json_object_get(o, "cniVersion")));
	json_decref(o);
	return 0;
}

static long usec_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000000 + (t.tv_nsec - t0->tv_nsec) / 1000;
}

static void outcome_of(const struct cni_req *r, json_t *res, char *buf, size_t len)
{
	json_t *ips = json_object_get(res, "ips");
	const char *a = json_string_value(
		json_object_get(json_array_get(ips, json_array_size(ips) - 1), "address"));

	snprintf(buf, len, "%s pod %s", a ? a : "(no address)", r->pod_name);
}

int main(int argc, char **argv)
{
	struct cni_req r = {};
	json_t *res = NULL;
	struct timespec t0;
	char outcome[320] = "";
	int err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	log_setup_libbpf();
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
			 !strcmp(argv[1], "version"))) {
		printf("bridgeless-cni: the bridgeless CNI plugin (CNI spec %s; also 0.3.0-1.0.0).\n"
		       "A container runtime runs it with CNI_COMMAND=ADD|DEL|CHECK|GC|STATUS|VERSION,\n"
		       "CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH and the network configuration\n"
		       "on stdin. Install it with `bridgeless cni install`.\n",
		       CNI_VERSION_LATEST);
		return 0;
	}

	err = cni_env_load(&r);
	if (!err && !strcmp(r.command, "VERSION")) {
		version(&r);
		goto log;
	}
	if (!err)
		err = read_stdin(&r);
	if (!err)
		err = cni_conf_parse(&r, r.raw, r.raw_len);
	if (err)
		goto out;

	/* Who waits for our state lock sees which call holds it. */
	snprintf(outcome, sizeof(outcome), "CNI %s container %s interface %s", r.command,
		 r.container_id ?: "-", r.ifname ?: "-");
	state_lock_describe(outcome);
	outcome[0] = 0;
	if (!strcmp(r.command, "ADD")) {
		err = cni_add(&r, &res);
		if (!err) {
			outcome_of(&r, res, outcome, sizeof(outcome));
			err = cni_print(res);
		}
	} else if (!strcmp(r.command, "DEL")) {
		err = cni_del(&r);
	} else if (!strcmp(r.command, "CHECK")) {
		err = cni_check(&r);
	} else if (!strcmp(r.command, "GC")) {
		err = cni_gc(&r);
	} else {
		err = cni_status(&r);
	}
out:
	if (err)
		cni_print_error(r.version[0] ? r.version : NULL,
				cni_code ? cni_code : CNI_ERR_DATAPATH,
				error_message()[0] ? error_message() : strerror(-err),
				NULL);
log:
	cni_log_call(&r, r.log_file, err, outcome[0] ? outcome : r.note[0] ? r.note : NULL,
		     usec_since(&t0));
	json_decref(res);
	json_decref(r.conf);
	free(r.raw);
	return err ? 1 : 0;
}
