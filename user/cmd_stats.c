// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>
#include "bridgeless.h"
#include "cli.h"
#include "datapath.h"
#include "log.h"

struct counter_desc {
	const char *name;
	int is_drop;
	const char *text;
};

#define BL_DESC_ENTRY(name, is_drop, text) { #name, is_drop, text },
static const struct counter_desc counter_desc[BL_COUNTER_MAX] = {
	BL_COUNTERS(BL_DESC_ENTRY)
};
#undef BL_DESC_ENTRY

static void lower(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++)
		out[i] = tolower((unsigned char)in[i]);
	out[i] = 0;
}

/* Sum one counter over all CPUs. */
static int counter_read(int fd, __u32 key, struct bl_counter_val *sum)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct bl_counter_val *v;

	if (ncpu < 0)
		return errorf(ncpu, "count CPUs");
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(fd, &key, v)) {
		free(v);
		return errorf(-errno, "read counters");
	}
	for (i = 0; i < ncpu; i++) {
		sum->packets += v[i].packets;
		sum->bytes += v[i].bytes;
	}
	free(v);
	return 0;
}

int cmd_stats(const struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      {} };
	struct bl_counter_val val;
	struct pinned pins;
	json_t *out = NULL, *ctrs = NULL;
	int json = 0, opt, err;
	char name[64];
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
		lower(counter_desc[i].name, name, sizeof(name));
		if (json)
			json_object_set_new(ctrs, name,
					    json_pack("{s:I, s:I, s:b, s:s}", "packets",
						      (json_int_t)val.packets, "bytes",
						      (json_int_t)val.bytes, "drop",
						      counter_desc[i].is_drop,
						      "description", counter_desc[i].text));
		else
			printf("%-20s %12llu %14llu  %s\n", name,
			       (unsigned long long)val.packets,
			       (unsigned long long)val.bytes, counter_desc[i].text);
	}
	if (json && !err) {
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(out);
	pinned_close(&pins);
	return err;
}
