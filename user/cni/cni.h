/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The bridgeless CNI plugin (build/bridgeless-cni): a container runtime runs
 * it with CNI_* environment variables and the network configuration on
 * stdin, as the CNI spec (1.1.0, also 1.0.0 and 0.3.x/0.4.0) says. It does
 * what `bridgeless pod add/del` do, through the same pod_add()/pod_del(),
 * with the address coming from the IPAM plugin the configuration names.
 */
#ifndef BL_CNI_H
#define BL_CNI_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include "netlink/nl.h"
#include "node/pod.h"
#include "node/state.h"

/* Well-known CNI error codes, and ours from 100 on. */
enum cni_code {
	CNI_ERR_VERSION = 1, /* incompatible CNI version */
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_ENV = 4, /* invalid or missing CNI_* environment variable */
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6, /* stdin is not JSON, or a version does not parse */
	CNI_ERR_CONFIG = 7, /* invalid network configuration */
	CNI_ERR_TRY_LATER = 11, /* node not initialized yet */
	CNI_ERR_NOT_AVAILABLE = 50, /* STATUS: cannot take ADDs */
	CNI_ERR_DATAPATH = 100, /* netlink, BPF or state failure */
	CNI_ERR_CHECK = 101, /* CHECK: the pod's networking is not as ADD left it */
	CNI_ERR_IPAM = 102, /* the IPAM plugin failed without a CNI error */
};

#define CNI_VERSION_LATEST "1.1.0"
#define CNI_LOG_DEFAULT "/var/log/bridgeless-cni.log"
#define CNI_CONFLIST_NAME "10-bridgeless.conflist"
/* Written into the conflist by `bridgeless cni install`: the newest version
 * the reference plugins chained after us (Debian's 1.1.1) speak. */
#define CNI_VERSION_INSTALL "1.0.0"

/* One invocation: the environment and the parsed configuration. */
struct cni_req {
	const char *command; /* CNI_COMMAND */
	const char *container_id; /* CNI_CONTAINERID */
	const char *netns; /* CNI_NETNS; may be NULL on DEL */
	const char *ifname; /* CNI_IFNAME */
	const char *args; /* CNI_ARGS */
	const char *path; /* CNI_PATH */

	char *raw; /* stdin exactly as received */
	size_t raw_len;
	json_t *conf; /* stdin, parsed */
	char version[16]; /* cniVersion */
	int vnum; /* cniVersion as a number, see cni_version_num() */
	const char *network; /* "name" */
	json_t *ipam; /* "ipam" section, borrowed from conf */
	const char *ipam_type;
	json_t *prev_result; /* borrowed from conf, NULL if none */
	const char *log_file;
	struct ctx ctx; /* pin and state dirs */
	char pod_name[POD_NAME_MAX + 1];
	char note[320]; /* what the log line adds to "ok" */
};

/*
 * error.c: the error a CNI call ends with. Codes are the spec's unsigned
 * integers: an IPAM plugin's is passed on as it said it, never narrowed.
 */
typedef long long cni_code_t;
extern cni_code_t cni_code;
/* Record a message (as errorf_raw) with its CNI code; returns err. */
int cni_errorf(cni_code_t code, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Give the current error (from errorf & co.) a CNI code; returns err. */
int cni_error_code(cni_code_t code, int err);

/* version.c */
/* "a.b.c" -> a*10000 + b*100 + c; -1 if it does not parse. */
int cni_version_num(const char *v);
int cni_version_supported(const char *v);
extern const char *const cni_versions[];

/* config.c */
/* Read the environment for req->command; CNI_ERR_ENV with every bad variable named. */
int cni_env_load(struct cni_req *req);
/* Parse stdin; version, name, ipam, prevResult, pinDir, stateDir, logFile. */
int cni_conf_parse(struct cni_req *req, const char *buf, size_t len);
/*
 * The pod name for (container id, ifname): stable, pod_name_valid(), and
 * one attachment's alone ("<id>.<ifname>" where the id has no dot, else
 * "cni-<hash>").
 */
void cni_pod_name(const char *container_id, const char *ifname, char *buf);

/* result.c */
/* Convert a result object in place to version v (0.x "version" fields, 1.1 fields). */
void cni_result_convert(json_t *res, const char *v);
/* Print the result, the error, or the VERSION answer on stdout. */
int cni_print(json_t *res);
void cni_print_error(const char *version, cni_code_t code, const char *msg,
		     const char *details);
void cni_print_version(const char *req_version);

/* ipam.c: delegate to the IPAM plugin in CNI_PATH, the CNI way. */
struct ipam_addr {
	uint32_t ip; /* network byte order, where has_ip */
	int prefix_len;
	int has_ip;
	int has_ip6;
	uint8_t ip6[16];
	json_t *dns; /* the IPAM result's dns, new reference or NULL */
};
/* Full path of plugin type in CNI_PATH; -ENOENT (CNI_ERR_CONFIG) if none. */
int cni_find_plugin(const char *cni_path, const char *type, char *out, size_t len);
/*
 * Run the IPAM plugin with command cmd, the environment of req and its
 * stdin; *result (may be NULL) gets what it printed on success. When the
 * plugin does not speak req's version it is asked again in the newest
 * version both sides speak.
 */
int cni_ipam_exec(const struct cni_req *req, const char *cmd, json_t **result);
/*
 * The same in two steps, so that the plugin's start-up (most of what a Go
 * plugin costs) overlaps our own work: cni_ipam_start() spawns it with no
 * stdin yet, so it can do nothing; cni_ipam_finish() gives it its stdin and
 * returns what cni_ipam_exec() would (everything, where it could not be
 * spawned early); cni_ipam_cancel() kills it instead, before it acted.
 * Exactly one of the two ends every cni_ipam_start(). cni_ipam_feed() gives
 * it its stdin without waiting, so it acts while we go on; a
 * cni_ipam_cancel() after that lets it finish and drops its result.
 */
struct cni_call_env {
	char **v;
	size_t own; /* v[own..] were allocated here */
};
struct cni_ipam_call {
	const struct cni_req *req;
	const char *cmd;
	char path[PATH_MAX];
	struct cni_call_env env;
	pid_t pid; /* 0: not running */
	int in_fd, out_fd;
	size_t fed; /* bytes of stdin it has had */
};
void cni_ipam_start(const struct cni_req *req, const char *cmd,
		    struct cni_ipam_call *call);
int cni_ipam_finish(struct cni_ipam_call *call, json_t **result);
void cni_ipam_cancel(struct cni_ipam_call *call);
void cni_ipam_feed(struct cni_ipam_call *call);
/*
 * The IPAM plugin failed (wait status, what it printed): its CNI error
 * passed on, code and all, else one of ours saying how it ended.
 */
int cni_plugin_error(const struct cni_req *req, const char *cmd, const char *out,
		     size_t out_len, int status);
/*
 * The first IPv4 and the first IPv6 address of an IPAM result (host-local
 * with a range per family gives one of each); at least one.
 */
int cni_ipam_addr(json_t *result, struct ipam_addr *out);
/* 1 if the IPAM plugin speaks CNI version v (VERSION), 0 if not. */
int cni_ipam_speaks(const struct cni_req *req, const char *v);

/* routes.c: the IPAM plugin's routes, through the pod's gateway. */
/* Its result's routes but the default ones; CNI_ERR_CONFIG for a bad one. */
int cni_ipam_routes(const struct cni_req *req, json_t *result, struct pod_routes *out);
/* Append those of pod p's families to a result's "routes" as {dst, gw}. */
void cni_routes_result(json_t *routes, const struct pod_routes *rs, const struct pod_rec *p);
/* CHECK: every prevResult route via our gateway is in the pod netns (nl) on oif. */
int cni_check_routes(const struct cni_req *req, struct nl *nl, int oif);

/* state.c: per attachment, what DEL and GC need, in STATE/cni/<pod name>. */
struct cni_rec {
	char container_id[POD_NAME_MAX + 1];
	char ifname[IF_NAMESIZE];
	char network[256];
	json_t *conf; /* the configuration ADD got, without prevResult */
	char *cni_path; /* ADD's CNI_PATH; NULL in records from before it was kept */
};
int cni_rec_save(const struct ctx *c, const char *pod, const struct cni_req *req);
json_t *cni_rec_to_json(const struct cni_req *req);
/* -EINVAL unless o is a whole record. */
int cni_rec_from_json(json_t *o, struct cni_rec *rec);
int cni_rec_load(const struct ctx *c, const char *pod, struct cni_rec *rec);
void cni_rec_free(struct cni_rec *rec);
int cni_rec_remove(const struct ctx *c, const char *pod);
/* Records that do not parse go to quarantine (state_quarantine). Caller holds the lock. */
int cni_rec_quarantine_bad(const struct ctx *c);
int cni_rec_foreach(const struct ctx *c,
		    int (*fn)(const char *pod, struct cni_rec *rec, void *data),
		    void *data);

/* log.c: one line per call in the log file. */
void cni_log_call(const struct cni_req *req, const char *log_file, int err,
		  const char *outcome, long usec);

/* The node is initialized and its maps are pinned, else code (11, 50, ...). */
int cni_node_ready(const struct cni_req *req, struct node_rec *node, int code);

/* The commands: add.c (ADD), del.c (DEL), check.c (CHECK), gc.c (GC, STATUS). */
int cni_add(struct cni_req *req, json_t **result);
int cni_del(struct cni_req *req);
/*
 * DEL of an attachment the runtime did not DEL itself (GC, the agent's
 * reconcile), from its record: the pod and the record go, and the address
 * is released through the IPAM plugin with the configuration ADD had, as
 * DEL does. The plugin is looked for in cni_path, else in the record's
 * CNI_PATH, else in CNI_PATH_DEFAULT. The caller holds the state lock.
 * 1, having done nothing, if pod has no record (not a CNI attachment, or
 * DELeted meanwhile) or one that does not load (logged).
 */
#define CNI_PATH_DEFAULT "/opt/cni/bin"
int cni_del_recorded(const struct ctx *c, const char *pod, const char *cni_path);
/* The same as a pod_del_hook, for node reset and the agent's reconcile. */
pod_del_hook cni_del_owned;
/*
 * CNI records without a pod record: an ADD killed after it wrote its
 * record and before pod_add() wrote the pod's. Each is DELeted from its
 * record (the IPAM plugin's address released). The caller holds the
 * state lock, so no ADD is under way. How many, or -errno.
 */
int cni_collect_unfinished(const struct ctx *c);
int cni_check(struct cni_req *req);
int cni_gc(struct cni_req *req);
int cni_status(struct cni_req *req);

#endif
