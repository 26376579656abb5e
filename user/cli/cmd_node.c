// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli/cli.h"
#include "cni/cni.h"
#include "datapath/attach.h"
#include "datapath/datapath.h"
#include "lib/log.h"
#include "node/node.h"

static int node_init_cmd(const struct ctx *c, const struct cli_call *call)
{
	struct node_init_req req = {};
	int i, lock, err;

	for (i = 0; i < call->n_given; i++) {
		err = node_init_set(&req, call->given[i].d, &call->given[i].v, NULL);
		if (err)
			return error_prefix(err, "node init");
	}
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

/* The IPv6 half of node status, where the node has IPv6. */
static void status6_json(json_t *o, const struct node_rec *n)
{
	char p[PREFIX_STRLEN], ip[IPADDR_STRLEN];
	json_t *nm = json_array();
	int i;

	for (i = 0; i < n->n_nomasq6; i++)
		json_array_append_new(nm, json_string(prefix_str(&n->nomasq6[i], p)));
	json_object_set_new(o, "pod_cidr6", json_string(prefix_str(&n->pod_cidr6, p)));
	json_object_set_new(o, "cluster_cidr6", json_string(prefix_str(&n->cluster_cidr6, p)));
	json_object_set_new(o, "node_ip6", json_string(ip6_str(n->node_ip6, ip)));
	json_object_set_new(o, "masquerade6", json_boolean(n->masquerade6));
	json_object_set_new(o, "no_masquerade6", nm);
	if (n->svc_cidr6.family == AF_INET6)
		json_object_set_new(o, "service_cidr6", json_string(prefix_str(&n->svc_cidr6, p)));
}

static void status6_text(const struct node_rec *n)
{
	char p[PREFIX_STRLEN], q[PREFIX_STRLEN], ip[IPADDR_STRLEN];

	if (!node_has_ipv6(n))
		return;
	printf("  IPv6          node IP %s, pod CIDR %s, cluster CIDR %s\n"
	       "  masquerade6   %s (%d no-masquerade prefixes)%s%s\n",
	       ip6_str(n->node_ip6, ip), prefix_str(&n->pod_cidr6, p),
	       prefix_str(&n->cluster_cidr6, q), n->masquerade6 ? "on" : "off",
	       n->n_nomasq6, n->svc_cidr6.family ? ", service CIDR " : "",
	       n->svc_cidr6.family ? prefix_str(&n->svc_cidr6, p) : "");
}

static int node_status_cmd(const struct ctx *c, const struct cli_call *call)
{
	char pod[20], cluster[20], svc1[20], svc2[20], ip[16];
	int json = !!cli_opt(call, CLI_JSON), err, pods = 0, init;
	struct pinned pins;
	struct node_rec n;

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
			nm = json_array();
			for (i = 0; i < n.n_svc_cidr; i++)
				json_array_append_new(nm, json_string(cidr_str(&n.svc_cidr[i], pod)));
			json_object_set_new(o, "service_cidrs", nm);
			json_object_set_new(o, "services", json_string(n.bpf_services ? "bpf" : "host"));
			json_object_set_new(o, "svc_max", json_integer(n.svc_max));
			json_object_set_new(o, "svc_backends_max", json_integer(n.svc_backends_max));
			if (node_has_ipv6(&n))
				status6_json(o, &n);
			if (!node_has_ipv4(&n)) {
				json_object_set_new(o, "pod_cidr", json_string(""));
				json_object_set_new(o, "cluster_cidr", json_string(""));
			}
			if (!n.node_ip)
				json_object_set_new(o, "node_ip", json_string(""));
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
	       "  services      %s (service CIDR %s%s%s; maps for %u frontends, %u backends)\n"
	       "  pin dir       %s\n"
	       "  state dir     %s\n",
	       n.uplink, n.uplink_ifindex, attach_mode_name(n.attach_mode),
	       ip_str(n.node_ip, ip), cidr_str(&n.pod_cidr, pod),
	       cidr_str(&n.cluster_cidr, cluster), pods, n.masquerade ? "on" : "off",
	       n.nat_port_min, n.nat_port_max, n.nat_max, n.n_nomasq,
	       n.bpf_services ? "load-balanced in BPF" : "to the host stack (kube-proxy)",
	       n.n_svc_cidr ? cidr_str(&n.svc_cidr[0], svc1) : "none",
	       n.n_svc_cidr > 1 ? ", " : "", n.n_svc_cidr > 1 ? cidr_str(&n.svc_cidr[1], svc2) : "",
	       n.svc_max, n.svc_backends_max, c->pin_dir, c->state_dir);
	status6_text(&n);
	return 0;
}

static int node_reset_cmd(const struct ctx *c, const struct cli_call *call)
{
	int lock, err;

	lock = state_lock(c);
	if (lock < 0)
		return error_prefix(lock, "node reset");
	/* ADDs killed before their pod record: their IPAM addresses go too. */
	cni_collect_unfinished(c);
	error_clear();
	err = node_reset(c, cni_del_owned);
	state_unlock(lock);
	return err ? error_prefix(err, "node reset") : 0;
}

static const struct cli_cmd init = { .name = "init", .run = node_init_cmd,
				     .opts = CLI_OPTS(node_init_opts) };
static const struct cli_cmd status = { .name = "status", .run = node_status_cmd,
				       .opts = CLI_OPTS(cli_json_opts) };
static const struct cli_cmd reset = { .name = "reset", .run = node_reset_cmd };
const struct cli_cmd cmd_node = { .name = "node",
				  .sub = (const struct cli_cmd *const[]){ &init, &status,
									  &reset, NULL } };
