// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Delegating addresses to the IPAM plugin the configuration names, as CNI
 * does it: find the executable in CNI_PATH, run it with our environment
 * (CNI_COMMAND set to the command at hand) and our stdin, read its result
 * or error from its stdout. Its stderr is ours, so the runtime logs it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "cni/cni.h"
#include "lib/log.h"
#include "lib/number.h"

extern char **environ;

/* host-local takes a file lock; a plugin stuck longer than this is killed. */
#define IPAM_TIMEOUT_MS 120000
#define IPAM_OUT_MAX (1 << 20)

int cni_find_plugin(const char *cni_path, const char *type, char *out, size_t len)
{
	const char *dir = cni_path, *end;
	struct stat st;

	while (dir && *dir) {
		end = strchr(dir, ':');
		if (!end)
			end = dir + strlen(dir);
		if (end > dir) {
			snprintf(out, len, "%.*s/%s", (int)(end - dir), dir, type);
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(out, X_OK) == 0)
				return 0;
		}
		dir = *end ? end + 1 : NULL;
	}
	return cni_errorf(CNI_ERR_CONFIG, -ENOENT,
			  "IPAM plugin \"%s\" not found in CNI_PATH %s (install it, e.g. host-local from containernetworking-plugins, or fix \"ipam\": {\"type\": ...})",
			  type, cni_path ? cni_path : "(not set)");
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Feed in to the child's stdin while reading its stdout, so neither side can block the other. */
static int pump(pid_t pid, int in_fd, const char *in, size_t in_len, int out_fd,
		char **out, size_t *out_len)
{
	long deadline = now_ms() + IPAM_TIMEOUT_MS;
	size_t done = 0, cap = 4096;
	struct pollfd pfd[2];
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf) {
		kill(pid, SIGKILL); /* it would wait for its stdin forever */
		close(in_fd);
		return -ENOMEM;
	}
	*out_len = 0;
	fcntl(in_fd, F_SETFL, O_NONBLOCK);
	if (in_len == 0) {
		close(in_fd);
		in_fd = -1;
	}
	for (;;) {
		long left = deadline - now_ms();

		pfd[0] = (struct pollfd){ .fd = in_fd, .events = POLLOUT };
		pfd[1] = (struct pollfd){ .fd = out_fd, .events = POLLIN };
		if (left <= 0) {
			kill(pid, SIGKILL);
			free(buf);
			if (in_fd >= 0)
				close(in_fd);
			return -ETIMEDOUT;
		}
		if (poll(pfd, 2, left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (in_fd >= 0 && pfd[0].revents) {
			n = write(in_fd, in + done, in_len - done);
			if (n > 0)
				done += n;
			/* EPIPE: the plugin does not want (more of) its stdin. */
			if ((n < 0 && errno != EAGAIN) || done == in_len) {
				close(in_fd);
				in_fd = -1;
			}
		}
		if (pfd[1].revents) {
			if (*out_len + 1 >= cap && cap >= IPAM_OUT_MAX) {
				/* Not a result: stop it rather than cut it off (SIGPIPE). */
				kill(pid, SIGKILL);
				free(buf);
				if (in_fd >= 0)
					close(in_fd);
				return -EFBIG;
			}
			if (*out_len + 1 >= cap) {
				char *b = realloc(buf, cap * 2);

				if (!b) {
					kill(pid, SIGKILL);
					free(buf);
					if (in_fd >= 0)
						close(in_fd);
					return -ENOMEM;
				}
				buf = b;
				cap *= 2;
			}
			n = read(out_fd, buf + *out_len, cap - 1 - *out_len);
			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
				break;
			if (n > 0)
				*out_len += n;
		}
	}
	if (in_fd >= 0)
		close(in_fd);
	buf[*out_len] = 0;
	*out = buf;
	return 0;
}

/* Our environment with the CNI_* variables of this call. */
static int env_make(struct cni_call_env *e, const struct cni_req *r, const char *cmd)
{
	/* CNI_PATH too: a call from the agent has it from the record, not environ. */
	const char *names[] = { "CNI_COMMAND=", "CNI_CONTAINERID=", "CNI_NETNS=",
				"CNI_IFNAME=", "CNI_ARGS=", "CNI_PATH=" };
	const char *vals[] = { cmd, r->container_id, r->netns, r->ifname, r->args,
			       r->path };
	const size_t nv = sizeof(names) / sizeof(names[0]);
	size_t n = 0, i, k;

	while (environ[n])
		n++;
	e->v = calloc(n + nv + 1, sizeof(*e->v));
	if (!e->v)
		return -ENOMEM;
	for (i = 0, n = 0; environ[i]; i++) {
		for (k = 0; k < nv; k++)
			if (!strncmp(environ[i], names[k], strlen(names[k])))
				break;
		if (k == nv)
			e->v[n++] = environ[i];
	}
	e->own = n;
	for (k = 0; k < nv; k++) {
		if (!vals[k])
			continue;
		if (asprintf(&e->v[n], "%s%s", names[k], vals[k]) < 0) {
			e->v[n] = NULL;
			return -ENOMEM;
		}
		n++;
	}
	return 0;
}

static void env_free(struct cni_call_env *e)
{
	size_t i;

	if (!e->v)
		return;
	for (i = e->own; e->v[i]; i++)
		free(e->v[i]);
	free(e->v);
	e->v = NULL;
}

/*
 * Start plugin path with its stdin and stdout on pipes (*in_fd, *out_fd);
 * it gets nothing on its stdin until collect().
 */
/*
 * The child of spawn()'s vfork(): it shares our memory until execve(), so
 * only system calls here, and nothing of ours written (errno aside).
 */
static __attribute__((noinline)) void spawn_child(const char *path, char **argv,
						   char **envp, pid_t parent,
						   const int *in_p, const int *out_p,
						   int st_fd, const sigset_t *none)
{
	int e;

	/*
	 * Dies with us: killed after it got its stdin, the plugin would go
	 * on and reserve an address after whoever cleans up for us (DEL,
	 * the agent) looked.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(127);
	sigprocmask(SIG_SETMASK, none, NULL); /* the agent blocks some */
	if (dup2(in_p[0], 0) < 0 || dup2(out_p[1], 1) < 0)
		_exit(127);
	execve(path, argv, envp);
	e = errno;
	_exit(write(st_fd, &e, sizeof(e)) == sizeof(e) ? 127 : 126);
}

static int spawn(const char *path, char **envp, pid_t *pid, int *in_fd, int *out_fd)
{
	int in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 }, st_p[2] = { -1, -1 }, err = 0;
	char *argv[] = { (char *)path, NULL };
	pid_t parent = getpid();
	sigset_t none;
	ssize_t n;

	if (pipe2(in_p, O_CLOEXEC) || pipe2(out_p, O_CLOEXEC) || pipe2(st_p, O_CLOEXEC)) {
		err = errorf(-errno, "pipe");
		goto fail;
	}
	sigemptyset(&none);
	/* vfork(), as posix_spawn() does: no copy of our memory to make. */
	*pid = vfork();
	if (*pid < 0) {
		err = errorf(-errno, "vfork");
		goto fail;
	}
	if (*pid == 0)
		spawn_child(path, argv, envp, parent, in_p, out_p, st_p[1], &none);
	close(st_p[1]);
	st_p[1] = -1;
	/* The status pipe closes on exec, or brings exec's errno. */
	while ((n = read(st_p[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	if (n == sizeof(err)) {
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
		err = errorf(-err, "exec %s", path);
		goto fail;
	}
	err = 0;
	close(st_p[0]);
	close(in_p[0]);
	close(out_p[1]);
	*in_fd = in_p[1];
	*out_fd = out_p[0];
	return 0;
fail:
	for (n = 0; n < 2; n++) {
		if (in_p[n] >= 0)
			close(in_p[n]);
		if (out_p[n] >= 0)
			close(out_p[n]);
		if (st_p[n] >= 0)
			close(st_p[n]);
	}
	return err;
}

/*
 * Give the plugin spawn() started its stdin, read its stdout, reap it;
 * *status is its wait status, *out its stdout. Closes both pipes.
 */
static int collect(const char *path, pid_t pid, int in_fd, int out_fd,
		   const char *in, size_t in_len, char **out, size_t *out_len,
		   int *status)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int err;

	/* A plugin that exits before reading stdin must not kill us with SIGPIPE. */
	sigaction(SIGPIPE, &ign, &old);
	err = pump(pid, in_fd, in, in_len, out_fd, out, out_len);
	sigaction(SIGPIPE, &old, NULL);
	close(out_fd);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	if (err == -ETIMEDOUT)
		return errorf_raw(err, "%s did not finish in %d s; killed it", path,
				  IPAM_TIMEOUT_MS / 1000);
	if (err == -EFBIG)
		return errorf_raw(err, "%s printed more than %d KiB; killed it", path,
				  IPAM_OUT_MAX >> 10);
	if (err)
		return errorf(err, "%s", path);
	return err;
}

/* Run plugin path; *status is its wait status, *out its stdout. */
static int run(const char *path, char **envp, const char *in, size_t in_len,
	       char **out, size_t *out_len, int *status)
{
	int in_fd, out_fd, err;
	pid_t pid;

	err = spawn(path, envp, &pid, &in_fd, &out_fd);
	if (err)
		return err;
	return collect(path, pid, in_fd, out_fd, in, in_len, out, out_len, status);
}

/* The plugin's supportedVersions, as a new reference; NULL if it would not say. */
static json_t *plugin_versions(const struct cni_req *r, const char *path)
{
	struct cni_call_env e = {};
	char in[64], *out = NULL;
	json_t *o, *list = NULL;
	size_t out_len;
	int status;

	snprintf(in, sizeof(in), "{\"cniVersion\":\"%s\"}", r->version);
	if (env_make(&e, r, "VERSION") == 0 &&
	    run(path, e.v, in, strlen(in), &out, &out_len, &status) == 0 &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		o = json_loadb(out, out_len, 0, NULL);
		list = json_incref(json_object_get(o, "supportedVersions"));
		json_decref(o);
	}
	free(out);
	env_free(&e);
	error_clear();
	return json_is_array(list) ? list : (json_decref(list), NULL);
}

static int speaks(json_t *list, const char *v)
{
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
		if (json_is_string(e) && !strcmp(json_string_value(e), v))
			return 1;
	return 0;
}

int cni_ipam_speaks(const struct cni_req *r, const char *v)
{
	char path[PATH_MAX];
	json_t *list;
	int yes;

	if (cni_find_plugin(r->path, r->ipam_type, path, sizeof(path))) {
		error_clear();
		return 0;
	}
	list = plugin_versions(r, path);
	yes = speaks(list, v);
	json_decref(list);
	return yes;
}

/*
 * The plugin does not speak our version (Debian's host-local 1.1.1 stops at
 * 1.0.0): the same configuration in the newest version both sides speak
 * that is not newer than ours, or NULL.
 */
static char *downgraded_conf(const struct cni_req *r, const char *path)
{
	json_t *list = plugin_versions(r, path), *conf, *prev;
	const char *best = NULL;
	char *s = NULL;
	int i;

	for (i = 0; cni_versions[i]; i++)
		if (cni_version_num(cni_versions[i]) < r->vnum &&
		    speaks(list, cni_versions[i]))
			best = cni_versions[i];
	json_decref(list);
	if (!best)
		return NULL;
	pr_info("ipam %s: speaks CNI %s, not %s", r->ipam_type, best, r->version);
	conf = json_deep_copy(r->conf);
	json_object_set_new(conf, "cniVersion", json_string(best));
	prev = json_object_get(conf, "prevResult");
	if (json_is_object(prev))
		cni_result_convert(prev, best);
	s = json_dumps(conf, JSON_COMPACT);
	json_decref(conf);
	return s;
}

/* The plugin failed: pass its CNI error on, code and all. */
int cni_plugin_error(const struct cni_req *r, const char *cmd, const char *out,
			size_t out_len, int status)
{
	json_t *e = json_loadb(out, out_len, 0, NULL);
	const char *msg = json_string_value(json_object_get(e, "msg"));
	const char *det = json_string_value(json_object_get(e, "details"));
	json_int_t code = json_integer_value(json_object_get(e, "code"));
	int err;

	if (msg && code > 0)
		err = cni_errorf(code, -EIO, "ipam %s %s: %s%s%s", r->ipam_type, cmd,
				 msg, det && *det ? ": " : "", det ? det : "");
	else if (WIFEXITED(status))
		err = cni_errorf(CNI_ERR_IPAM, -EIO,
				 "ipam %s %s: exited with status %d without a CNI error (%.200s)",
				 r->ipam_type, cmd, WEXITSTATUS(status), out);
	else
		err = cni_errorf(CNI_ERR_IPAM, -EIO, "ipam %s %s: killed by signal %d",
				 r->ipam_type, cmd, WTERMSIG(status));
	json_decref(e);
	return err;
}

/* Find the plugin and make the environment of the call. */
static int call_prepare(const struct cni_req *r, const char *cmd,
			struct cni_ipam_call *c)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->req = r;
	c->cmd = cmd;
	c->in_fd = c->out_fd = -1;
	err = cni_find_plugin(r->path, r->ipam_type, c->path, sizeof(c->path));
	if (err)
		return err;
	if (env_make(&c->env, r, cmd)) {
		env_free(&c->env);
		return cni_errorf(CNI_ERR_IPAM, -ENOMEM, "ipam: out of memory");
	}
	return 0;
}

static int call_spawn(struct cni_ipam_call *c)
{
	int err = spawn(c->path, c->env.v, &c->pid, &c->in_fd, &c->out_fd);

	if (err) {
		c->pid = 0;
		return cni_error_code(CNI_ERR_IPAM, error_prefix(err, "ipam %s %s",
								 c->req->ipam_type,
								 c->cmd));
	}
	return 0;
}

/*
 * The spawned plugin gets its stdin; its result or its CNI error. When it
 * does not speak the request's version it is asked again in the newest
 * version both sides speak.
 */
static int call_result(struct cni_ipam_call *c, json_t **result)
{
	const struct cni_req *r = c->req;
	char *out = NULL, *in = r->raw, *conv = NULL;
	size_t out_len, in_len = r->raw_len;
	int err, status, tries;
	json_t *res;

	if (result)
		*result = NULL;
	for (tries = 0;; tries++) {
		free(out);
		out = NULL;
		err = tries ? call_spawn(c) : 0;
		if (err)
			goto out;
		/* What cni_ipam_feed() gave it already is not sent again. */
		err = collect(c->path, c->pid, c->in_fd, c->out_fd, in + c->fed,
			      in_len - c->fed, &out, &out_len, &status);
		c->pid = 0;
		c->fed = 0;
		if (err) {
			err = cni_error_code(CNI_ERR_IPAM,
					     error_prefix(err, "ipam %s %s", r->ipam_type,
							  c->cmd));
			goto out;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			break;
		res = json_loadb(out, out_len, 0, NULL);
		if (tries == 0 && json_integer_value(json_object_get(res, "code")) ==
					  CNI_ERR_VERSION) {
			json_decref(res);
			conv = downgraded_conf(r, c->path);
			if (conv) {
				in = conv;
				in_len = strlen(conv);
				continue;
			}
		} else {
			json_decref(res);
		}
		err = cni_plugin_error(r, c->cmd, out, out_len, status);
		goto out;
	}
	if (result && out_len) {
		res = json_loadb(out, out_len, 0, NULL);
		if (!json_is_object(res)) {
			json_decref(res);
			err = cni_errorf(CNI_ERR_IPAM, -EINVAL,
					 "ipam %s %s: result is not a JSON object (%.200s)",
					 r->ipam_type, c->cmd, out);
			goto out;
		}
		*result = res;
	}
out:
	free(out);
	free(conv);
	return err;
}

int cni_ipam_exec(const struct cni_req *r, const char *cmd, json_t **result)
{
	struct cni_ipam_call c;
	int err;

	if (result)
		*result = NULL;
	err = call_prepare(r, cmd, &c);
	if (!err)
		err = call_spawn(&c);
	if (!err)
		err = call_result(&c, result);
	env_free(&c.env);
	return err;
}

void cni_ipam_start(const struct cni_req *r, const char *cmd,
		    struct cni_ipam_call *c)
{
	/* Where it cannot be started now, cni_ipam_finish() says why. */
	if (call_prepare(r, cmd, c) || call_spawn(c)) {
		env_free(&c->env);
		error_clear();
	}
}

int cni_ipam_finish(struct cni_ipam_call *c, json_t **result)
{
	int err;

	if (!c->pid)
		return cni_ipam_exec(c->req, c->cmd, result);
	err = call_result(c, result);
	env_free(&c->env);
	return err;
}

void cni_ipam_feed(struct cni_ipam_call *c)
{
	const struct cni_req *r = c->req;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	ssize_t n;

	if (!c->pid || c->in_fd < 0)
		return;
	fcntl(c->in_fd, F_SETFL, O_NONBLOCK);
	sigaction(SIGPIPE, &ign, &old);
	while (c->fed < r->raw_len) {
		n = write(c->in_fd, r->raw + c->fed, r->raw_len - c->fed);
		if (n <= 0)
			break; /* full (EAGAIN) or gone: cni_ipam_finish() sees to it */
		c->fed += n;
	}
	sigaction(SIGPIPE, &old, NULL);
	if (c->fed == r->raw_len) {
		close(c->in_fd);
		c->in_fd = -1;
	}
}

void cni_ipam_cancel(struct cni_ipam_call *c)
{
	int status;
	json_t *res;

	if (c->pid && c->fed) {
		/* It may be acting already: let it finish, whatever it says. */
		call_result(c, &res);
		json_decref(res);
		error_clear();
	}
	if (c->pid) {
		/* It has had no stdin yet, so it has done nothing. */
		kill(c->pid, SIGKILL);
		close(c->in_fd);
		close(c->out_fd);
		while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
			;
		c->pid = 0;
	}
	env_free(&c->env);
}

int cni_ipam_addr(json_t *result, struct ipam_addr *out)
{
	json_t *ips = json_object_get(result, "ips"), *ip, *dns;
	char addr[INET6_ADDRSTRLEN + 1];
	const char *a, *slash;
	struct ipaddr ia;
	uint64_t len;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (ips && !json_is_array(ips))
		return cni_errorf(CNI_ERR_IPAM, -EINVAL, "IPAM result: \"ips\" is not a list");
	json_array_foreach(ips, i, ip) {
		a = json_string_value(json_object_get(ip, "address"));
		if (!a)
			return cni_errorf(CNI_ERR_IPAM, -EINVAL,
					  "IPAM result: ips[%zu] has no \"address\" string", i);
		if (!strchr(a, ':')) {
			uint32_t ip4;
			int len4;

			/* An address the pod is given must be exactly an address. */
			if (ip_prefix_parse(a, &ip4, &len4))
				return cni_errorf(CNI_ERR_IPAM, -EINVAL,
						  "IPAM result: address \"%s\" is not a.b.c.d/len", a);
			if (!out->has_ip) {
				out->ip = ip4;
				out->prefix_len = len4;
				out->has_ip = 1;
			}
			continue;
		}
		/* IPv6: the address in its parser's strict form, a length 0-128 */
		slash = strchr(a, '/');
		if (!slash || (size_t)(slash - a) >= sizeof(addr) ||
		    (snprintf(addr, sizeof(addr), "%.*s", (int)(slash - a), a),
		     ipaddr_parse(addr, &ia)) ||
		    ia.family != AF_INET6 || (slash[1] == '0' && slash[2]) ||
		    num_parse_u64(slash + 1, 0, 128, &len))
			return cni_errorf(CNI_ERR_IPAM, -EINVAL,
					  "IPAM result: address \"%s\" is not an IPv6 address/len", a);
		if (!out->has_ip6) {
			memcpy(out->ip6, ia.a, 16);
			out->has_ip6 = 1;
		}
	}
	if (!out->has_ip && !out->has_ip6)
		return cni_errorf(CNI_ERR_IPAM, -EADDRNOTAVAIL, "IPAM result has no address");
	dns = json_object_get(result, "dns");
	out->dns = json_is_object(dns) ? json_incref(dns) : NULL;
	return 0;
}
