// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "cli/cli.h"
#include "lib/log.h"
#include "node/pod.h"

static int pod_add_cmd(const struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "ip", required_argument, NULL, 'i' },
		{ "ifname", required_argument, NULL, 'f' },
		{}
	};
	struct pod_add_req req = {};
	const char *name = NULL;
	struct pod_rec p;
	int opt, lock, err;
	char ip[16];

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': req.netns = optarg; break;
		case 'f': req.ifname = optarg; break;
		case 'i':
			if (ip_parse(optarg, &req.ip))
				return errorf_raw(-EINVAL, "pod add: IP \"%s\" does not parse",
						  optarg);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || !req.netns)
		goto usage;
	name = argv[optind];
	req.name = name;
	lock = state_lock(c);
	if (lock < 0)
		return error_prefix(lock, "pod add %s", name);
	err = pod_add(c, &req, &p);
	state_unlock(lock);
	if (err)
		return error_prefix(err, "pod add %s", name);
	printf("pod %s: %s on %s (host %s)\n", p.name, ip_str(p.ip, ip), p.ifname,
	       p.host_ifname);
	return 0;
usage:
	return errorf_raw(-EINVAL,
			  "usage: bridgeless pod add NAME --netns NETNS [--ip IP] [--ifname IFNAME]");
}

static int pod_del_cmd(const struct ctx *c, int argc, char **argv)
{
	int lock, err;

	if (argc != 2)
		return errorf_raw(-EINVAL, "usage: bridgeless pod del NAME");
	lock = state_lock(c);
	if (lock < 0)
		return error_prefix(lock, "pod del %s", argv[1]);
	err = pod_del(c, argv[1]);
	state_unlock(lock);
	return err ? error_prefix(err, "pod del %s", argv[1]) : 0;
}

static int list_one(const struct pod_rec *p, void *data)
{
	char ip[16], m1[18], m2[18];
	json_t *arr = data;

	if (!arr) {
		printf("%-24s %-15s %-10s %-8s %-12s %s\n", p->name, ip_str(p->ip, ip),
		       p->host_ifname, p->ifname, mac_str(p->mac, m1), p->netns);
		return 0;
	}
	json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}",
					     "name", p->name, "ip", ip_str(p->ip, ip),
					     "netns", p->netns, "ifname", p->ifname,
					     "host_ifname", p->host_ifname,
					     "host_ifindex", p->host_ifindex, "mac",
					     mac_str(p->mac, m1), "host_mac",
					     mac_str(p->host_mac, m2)));
	return 0;
}

static int pod_list_cmd(const struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      {} };
	json_t *arr = NULL;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (opt != 'j')
			return errorf_raw(-EINVAL, "usage: bridgeless pod list [--json]");
		arr = json_array();
	}
	if (!arr)
		printf("%-24s %-15s %-10s %-8s %-17s %s\n", "NAME", "IP", "HOST-IF",
		       "IFNAME", "MAC", "NETNS");
	err = pod_foreach(c, list_one, arr);
	if (arr && !err) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
	return err;
}

int cmd_pod(const struct ctx *c, int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "add"))
		return pod_add_cmd(c, argc, argv);
	if (argc >= 1 && !strcmp(argv[0], "del"))
		return pod_del_cmd(c, argc, argv);
	if (argc >= 1 && !strcmp(argv[0], "list"))
		return pod_list_cmd(c, argc, argv);
	return errorf_raw(-EINVAL, "usage: bridgeless pod add|del|list");
}
