// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "bridgeless.h"
#include "datapath/attach.h"
#include "cli/cli.h"
#include "cni/cni.h"
#include "datapath/datapath.h"
#include "lib/log.h"
#include "node/node.h"

static int node_init_cmd(const struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "uplink", required_argument, NULL, 'u' },
		{ "pod-cidr", required_argument, NULL, 'p' },
		{ "cluster-cidr", required_argument, NULL, 'c' },
		{ "node-ip", required_argument, NULL, 'n' },
		{ "nat-ports", required_argument, NULL, 'r' },
		{ "nat-max", required_argument, NULL, 'm' },
		{ "no-masquerade", required_argument, NULL, 'x' },
		{ "masquerade", required_argument, NULL, 'M' },
		{}
	};
	struct node_init_req req = {};
	int opt, lock, err;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'u': req.uplink = optarg; break;
		case 'p': req.pod_cidr = optarg; break;
		case 'c': req.cluster_cidr = optarg; break;
		case 'n': req.node_ip = optarg; break;
		case 'r': req.nat_ports = optarg; break;
		case 'm': req.nat_max = optarg; break;
		case 'M': req.masquerade = optarg; break;
		case 'x':
			if (req.n_no_masquerade == BL_MAX_NOMASQ - 1)
				return errorf_raw(-E2BIG, "at most %d --no-masquerade prefixes",
						  BL_MAX_NOMASQ - 1);
			req.no_masquerade[req.n_no_masquerade++] = optarg;
			break;
		default:
			return errorf_raw(-EINVAL, "usage: bridgeless node init --uplink DEV --pod-cidr CIDR "
					  "[--cluster-cidr CIDR] [--node-ip IP] [--nat-ports LO-HI] "
					  "[--nat-max N] [--no-masquerade CIDR]... [--masquerade on|off]");
		}
	}
	if (optind < argc)
		return errorf_raw(-EINVAL, "node init: unexpected argument \"%s\"",
				  argv[optind]);
	lock = state_lock(c);
	if (lock < 0)
		return error_prefix(lock, "node init");
	err = node_init(c, &req);
	state_unlock(lock);
	if (err)
		return error_prefix(err, "node init");
	pr_info("node initialized");
	return 0;
}

static int count_pods(const struct pod_rec *p, void *data)
{
	(*(int *)data)++;
	return 0;
}

static int node_status_cmd(const struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      {} };
	char pod[20], cluster[20], ip[16];
	int json = 0, opt, err, pods = 0, init;
	struct pinned pins;
	struct node_rec n;

	while ((opt = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (opt != 'j')
			return errorf_raw(-EINVAL, "usage: bridgeless node status [--json]");
		json = 1;
	}
	err = node_load(c, &n);
	if (err && err != -ENOENT)
		return error_prefix(err, "node status");
	init = !err && pinned_open(c, &pins) == 0;
	if (init)
		pinned_close(&pins);
	error_clear();
	pod_foreach(c, count_pods, &pods);

	if (json) {
		json_t *o = json_pack("{s:b, s:s, s:s}", "initialized", init,
				      "pin_dir", c->pin_dir, "state_dir", c->state_dir);

		if (init) {
			json_t *nm = json_array();
			int i;

			for (i = 0; i < n.n_nomasq; i++)
				json_array_append_new(nm, json_string(cidr_str(&n.nomasq[i], pod)));
			json_object_update_new(
				o, json_pack("{s:s, s:i, s:s, s:s, s:s, s:i, s:s, s:b, s:i, s:i, s:I, s:o}",
					     "uplink", n.uplink, "uplink_ifindex",
					     n.uplink_ifindex, "node_ip",
					     ip_str(n.node_ip, ip), "pod_cidr",
					     cidr_str(&n.pod_cidr, pod), "cluster_cidr",
					     cidr_str(&n.cluster_cidr, cluster), "pods",
					     pods, "attach", attach_mode_name(n.attach_mode),
					     "masquerade", n.masquerade, "nat_port_min",
					     n.nat_port_min, "nat_port_max", n.nat_port_max,
					     "nat_max", (json_int_t)n.nat_max, "no_masquerade", nm));
		}
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
		return 0;
	}
	if (!init) {
		printf("not initialized (pin dir %s, state dir %s)\n", c->pin_dir,
		       c->state_dir);
		return 0;
	}
	printf("initialized\n"
	       "  uplink        %s (ifindex %d, programs attached with %s)\n"
	       "  node IP       %s\n"
	       "  pod CIDR      %s\n"
	       "  cluster CIDR  %s\n"
	       "  pods          %d\n"
	       "  masquerade    %s (NAT ports %u-%u, table %u entries, %d no-masquerade prefixes)\n"
	       "  pin dir       %s\n"
	       "  state dir     %s\n",
	       n.uplink, n.uplink_ifindex, attach_mode_name(n.attach_mode),
	       ip_str(n.node_ip, ip), cidr_str(&n.pod_cidr, pod),
	       cidr_str(&n.cluster_cidr, cluster), pods, n.masquerade ? "on" : "off",
	       n.nat_port_min, n.nat_port_max, n.nat_max, n.n_nomasq, c->pin_dir,
	       c->state_dir);
	return 0;
}

static int node_reset_cmd(const struct ctx *c, int argc, char **argv)
{
	int lock, err;

	if (argc > 1)
		return errorf_raw(-EINVAL, "usage: bridgeless node reset");
	lock = state_lock(c);
	if (lock < 0)
		return error_prefix(lock, "node reset");
	err = node_reset(c, cni_del_owned);
	state_unlock(lock);
	return err ? error_prefix(err, "node reset") : 0;
}

int cmd_node(const struct ctx *c, int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "init"))
		return node_init_cmd(c, argc, argv);
	if (argc >= 1 && !strcmp(argv[0], "status"))
		return node_status_cmd(c, argc, argv);
	if (argc >= 1 && !strcmp(argv[0], "reset"))
		return node_reset_cmd(c, argc, argv);
	return errorf_raw(-EINVAL, "usage: bridgeless node init|status|reset");
}
