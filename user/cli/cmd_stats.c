// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <bpf/bpf.h>
#include <jansson.h>
#include "cli/cli.h"
#include "datapath/counters.h"
#include "datapath/datapath.h"

static int stats_cmd(const struct ctx *c, const struct cli_call *call)
{
	int json = !!cli_opt(call, CLI_JSON), err;
	json_t *out = NULL, *ctrs = NULL;
	struct bl_counter_val val;
	struct pinned pins;
	const char *name;
	__u32 i;

	err = pinned_open(c, &pins);
	if (err)
		return err;
	if (json) {
		out = json_object();
		ctrs = json_object();
		json_object_set_new(out, "counters", ctrs);
	}
	for (i = 0; i < BL_COUNTER_MAX; i++) {
		err = counter_read(pins.counters, i, &val);
		if (err)
			break;
		name = reason_name(i);
		if (json)
			json_object_set_new(ctrs, name,
					    json_pack("{s:I, s:I, s:b, s:s}", "packets",
						      (json_int_t)val.packets, "bytes",
						      (json_int_t)val.bytes, "drop",
						      reason_is_drop(i),
						      "description", reason_text(i)));
		else
			printf("%-20s %12llu %14llu  %s\n", name,
			       (unsigned long long)val.packets,
			       (unsigned long long)val.bytes, reason_text(i));
	}
	if (json && !err) {
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(out);
	pinned_close(&pins);
	return err;
}

const struct cli_cmd cmd_stats = { .name = "stats", .run = stats_cmd,
				   .opts = CLI_OPTS(cli_json_opts) };
