// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One line per CNI call in the log file, so that an operator can follow what
 * the runtime asked for a container and what came of it. One write() with
 * O_APPEND: lines of concurrent calls never interleave.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cni/cni.h"
#include "lib/log.h"

/* Kubernetes runtimes name the pod in CNI_ARGS: K8S_POD_NAMESPACE=..;K8S_POD_NAME=.. */
static const char *k8s_arg(const char *args, const char *key, int *len)
{
	size_t klen = strlen(key);
	const char *p = args;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			p += klen + 1;
			*len = strcspn(p, ";");
			return p;
		}
		p = strchr(p, ';');
		if (p)
			p++;
	}
	*len = 1;
	return "-";
}

void cni_log_call(const struct cni_req *r, const char *log_file, int err,
		  const char *outcome, long usec)
{
	char line[ERR_MSG_MAX + 4096], out[sizeof(line) * 2], when[40];
	const char *ns = NULL, *pod = NULL;
	struct timespec ts;
	int fd, n, nl = 0, pl = 0;
	struct tm tm;

	if (!log_file || !*log_file)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (r->args && strstr(r->args, "K8S_POD_NAME=")) {
		ns = k8s_arg(r->args, "K8S_POD_NAMESPACE", &nl);
		pod = k8s_arg(r->args, "K8S_POD_NAME", &pl);
	}
	n = snprintf(line, sizeof(line),
		     "%s.%03ldZ pid=%d %s container=%s ifname=%s netns=%s network=%s%s%.*s%s%.*s: ",
		     when, ts.tv_nsec / 1000000, getpid(),
		     r->command ? r->command : "(no CNI_COMMAND)",
		     r->container_id ? r->container_id : "-",
		     r->ifname ? r->ifname : "-", r->netns ? r->netns : "-",
		     r->network ? r->network : "-", pod ? " k8s=" : "", nl, ns ? ns : "",
		     pod ? "/" : "", pl, pod ? pod : "");
	if (n < (int)sizeof(line)) {
		if (err)
			n += snprintf(line + n, sizeof(line) - n, "error %lld: %s", cni_code,
				      error_message());
		else
			n += snprintf(line + n, sizeof(line) - n, "ok%s%s", outcome ? " " : "",
				      outcome ? outcome : "");
	}
	if (n >= (int)sizeof(line) - 32)
		n = sizeof(line) - 32;
	snprintf(line + n, sizeof(line) - n, " (%ld.%03ld ms)", usec / 1000, usec % 1000);
	/* One line, whatever CNI_ARGS, the network name or the netns path hold. */
	n = str_escape(out, sizeof(out) - 1, line);
	out[n++] = '\n';

	fd = open(log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return; /* logging must never fail the call */
	if (write(fd, out, n) < 0)
		pr_debug("log %s: write failed", log_file);
	close(fd);
}
