// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <jansson.h>
#include "cli/cli.h"
#include "datapath/datapath.h"
#include "datapath/nat_table.h"
#include "lib/log.h"

static const char *proto_name(__u8 p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" :
	       p == IPPROTO_ICMP ? "icmp" : "?";
}

static const char *endpoint_str(const __u8 *addr, __u16 port, char *buf)
{
	uint32_t ip;
	char s[16];

	memcpy(&ip, addr, 4);
	sprintf(buf, "%s:%u", ip_str(ip, s), port);
	return buf;
}

static int print_flow(const struct nat_flow *f, void *data)
{
	char pod[24], node[26], remote[24];
	json_t *arr = data;

	endpoint_str(f->ekey.saddr, f->ekey.sport, pod);
	if (f->out.seen & BL_NAT_VIA_HOST)
		strcpy(node, "inbound via host stack");
	else if (f->out.seen & BL_NAT_INBOUND)
		strcpy(node, "inbound, untranslated");
	else if (f->out.svc & BL_NAT_SVC_FWD)
		/* a service flow: the backend, in the node's column */
		snprintf(node, sizeof(node), "->%s",
			 endpoint_str(f->out.addr, f->out.port, remote));
	else
		endpoint_str(f->out.addr, f->out.port, node);
	endpoint_str(f->ekey.daddr, f->ekey.dport, remote);
	if (arr) {
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:I, s:I, s:i, s:b, s:b}",
				       "protocol", proto_name(f->ekey.proto), "pod", pod,
				       "node", node, "remote", remote, "age_s",
				       f->age_ns / 1e9, "idle_s", f->idle_ns / 1e9,
				       "packets_out", (json_int_t)f->out.packets,
				       "packets_in",
				       (json_int_t)(f->in_found ? f->in.packets : 0),
				       "timeout_s", f->timeout_s, "complete",
				       f->in_found || (f->out.seen & BL_NAT_UNPAIRED),
				       "service", !!(f->out.svc & BL_NAT_SVC_FWD)));
		return 0;
	}
	printf("%-5s %-21s <-> %-21s  %-21s %8.1f %8.1f %8llu %8llu%s\n",
	       proto_name(f->ekey.proto), pod, node, remote, f->age_ns / 1e9,
	       f->idle_ns / 1e9, (unsigned long long)f->out.packets,
	       (unsigned long long)(f->in_found ? f->in.packets : 0),
	       f->in_found || (f->out.seen & BL_NAT_UNPAIRED) ? "" : "  (no reverse entry)");
	return 0;
}

static int nat_list(int fd, int json)
{
	json_t *arr = json ? json_array() : NULL;
	int err;

	if (!json)
		printf("%-5s %-21s     %-21s  %-21s %8s %8s %8s %8s\n", "PROTO", "POD",
		       "NODE", "REMOTE", "AGE(s)", "IDLE(s)", "PKTS-OUT", "PKTS-IN");
	err = nat_foreach(fd, &nat_default_timeouts, print_flow, arr);
	if (json && !err) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
	return err;
}

static int nat_list_cmd(const struct ctx *c, const struct cli_call *call)
{
	struct pinned pins;
	int err;

	err = pinned_open(c, &pins);
	if (err)
		return err;
	err = nat_list(pins.nat, !!cli_opt(call, CLI_JSON));
	pinned_close(&pins);
	return err ? error_prefix(err, "nat list") : 0;
}

static int nat_gc_cmd(const struct ctx *c, const struct cli_call *call)
{
	struct nat_gc_stats st;
	struct pinned pins;
	int err;

	err = pinned_open(c, &pins);
	if (err)
		return err;
	err = nat_gc(pins.nat, &nat_default_timeouts, &st);
	if (!err)
		printf("nat gc: %u entries scanned, %u mappings expired, %u half-mappings removed, %u live\n",
		       st.scanned, st.expired, st.orphans, st.live);
	pinned_close(&pins);
	return err ? error_prefix(err, "nat gc") : 0;
}

static const struct cli_cmd list = { .name = "list", .run = nat_list_cmd,
				     .opts = CLI_OPTS(cli_json_opts) };
static const struct cli_cmd gc = { .name = "gc", .run = nat_gc_cmd };
const struct cli_cmd cmd_nat = { .name = "nat",
				 .sub = (const struct cli_cmd *const[]){ &list, &gc, NULL } };
