// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <bpf/bpf.h>
#include <jansson.h>
#include "bridgeless.h"
#include "cli/cli.h"
#include "datapath/counters.h"
#include "datapath/datapath.h"
#include "lib/log.h"

int cmd_stats(const struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      {} };
	struct bl_counter_val val;
	struct pinned pins;
	json_t *out = NULL, *ctrs = NULL;
	int json = 0, opt, err;
	const char *name;
	__u32 i;

	while ((opt = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (opt != 'j')
			return errorf_raw(-EINVAL, "usage: bridgeless stats [--json]");
		json = 1;
	}
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
