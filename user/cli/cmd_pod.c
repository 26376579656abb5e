// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "cli/cli.h"
#include "lib/log.h"
#include "netlink/netns.h"
#include "node/pod.h"

enum { POD_NETNS = 1, POD_IP, POD_IFNAME };

static const struct opt_def pod_add_opts[] = {
	{ .name = "netns", .kind = OPT_PATH, .id = POD_NETNS, .arg = "NETNS",
	  .flags = OPT_REQUIRED },
	{ .name = "ip", .kind = OPT_IP, .id = POD_IP, .arg = "IP", .flags = OPT_REPEAT },
	{ .name = "ifname", .kind = OPT_IFNAME, .id = POD_IFNAME, .arg = "IFNAME" },
	{}
};

static int pod_add_cmd(const struct ctx *c, const struct cli_call *call)
{
	const union opt_value *netns = cli_opt(call, POD_NETNS);
	const union opt_value *ifname = cli_opt(call, POD_IFNAME);
	struct pod_add_req req = {};
	char s[IPADDR_STRLEN + 16], path[PATH_MAX];
	struct pod_rec p;
	uint8_t ip6[16];
	int lock, err, i;

	if (!netns)
		return errorf_raw(-EINVAL, "pod add: --netns is required");
	req.name = call->operands[0];
	/* --ip once per family */
	for (i = 0; i < call->n_given; i++) {
		const struct ipaddr *a = &call->given[i].v.addr;

		if (call->given[i].d->id != POD_IP)
			continue;
		if (a->family == AF_INET6 ? !!req.ip6 : req.ip_given)
			return errorf_raw(-EINVAL, "pod add %s: --ip given twice for %s",
					  req.name, a->family == AF_INET6 ? "IPv6" : "IPv4");
		if (a->family == AF_INET6) {
			memcpy(ip6, a->a, 16);
			req.ip6 = ip6;
		} else {
			memcpy(&req.ip, a->a, 4);
			req.ip_given = 1;
		}
	}
	req.ifname = ifname ? ifname->str : NULL;
	/* Before the lock: a netns path that would block must not hold up the node. */
	req.nsfd = netns_open(netns->str, path, sizeof(path));
	if (req.nsfd < 0)
		return error_prefix(req.nsfd, "pod add %s", req.name);
	req.netns = path;
	lock = state_lock(c);
	if (lock < 0) {
		close(req.nsfd);
		return error_prefix(lock, "pod add %s", req.name);
	}
	err = pod_add(c, &req, &p);
	state_unlock(lock);
	close(req.nsfd);
	if (err)
		return error_prefix(err, "pod add %s", req.name);
	printf("pod %s: %s on %s (host %s)\n", p.name, pod_ips_str(&p, s, sizeof(s)),
	       p.ifname, p.host_ifname);
	return 0;
}

static int pod_del_cmd(const struct ctx *c, const struct cli_call *call)
{
	const char *name = call->operands[0];
	int lock, err;

	lock = state_lock(c);
	if (lock < 0)
		return error_prefix(lock, "pod del %s", name);
	err = pod_del(c, name);
	state_unlock(lock);
	return err ? error_prefix(err, "pod del %s", name) : 0;
}

/* A pod without IPv4 shows "" ("-" in the table), without IPv6 no "ip6". */
static int list_one(const struct pod_rec *p, void *data)
{
	char ip[16] = "", ip6[IPADDR_STRLEN] = "", m1[18], m2[18];
	json_t *arr = data, *o;

	if (p->ip)
		ip_str(p->ip, ip);
	if (p->has_ip6)
		ip6_str(p->ip6, ip6);
	if (!arr) {
		printf("%-24s %-15s %-24s %-10s %-8s %-17s %s\n", p->name, ip[0] ? ip : "-",
		       ip6[0] ? ip6 : "-", p->host_ifname, p->ifname, mac_str(p->mac, m1),
		       p->netns);
		return 0;
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "name", p->name, "ip", ip,
		      "netns", p->netns, "ifname", p->ifname, "host_ifname", p->host_ifname,
		      "host_ifindex", p->host_ifindex, "mac", mac_str(p->mac, m1),
		      "host_mac", mac_str(p->host_mac, m2));
	if (o && p->has_ip6)
		json_object_set_new(o, "ip6", json_string(ip6));
	json_array_append_new(arr, o);
	return 0;
}

static int pod_list_cmd(const struct ctx *c, const struct cli_call *call)
{
	json_t *arr = cli_opt(call, CLI_JSON) ? json_array() : NULL;
	int err;

	if (!arr)
		printf("%-24s %-15s %-24s %-10s %-8s %-17s %s\n", "NAME", "IP", "IP6",
		       "HOST-IF", "IFNAME", "MAC", "NETNS");
	err = pod_foreach(c, list_one, arr);
	if (arr && !err) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
	return err;
}

static const struct cli_cmd add = { .name = "add", .run = pod_add_cmd, .operands = "NAME",
				    .n_operands = 1, .opts = CLI_OPTS(pod_add_opts) };
static const struct cli_cmd del = { .name = "del", .run = pod_del_cmd, .operands = "NAME",
				    .n_operands = 1 };
static const struct cli_cmd list = { .name = "list", .run = pod_list_cmd,
				     .opts = CLI_OPTS(cli_json_opts) };
const struct cli_cmd cmd_pod = { .name = "pod",
				 .sub = (const struct cli_cmd *const[]){ &add, &del, &list,
									 NULL } };
