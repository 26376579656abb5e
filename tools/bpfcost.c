// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bpfcost: nanoseconds per packet of each datapath path, for tools/bpf-cost.
 *
 *   bpfcost [--calls N] [--out FILE]
 *
 * Times the production programs with BPF_PROG_TEST_RUN on the unit tests'
 * fixtures (tests/unit): the same frame builder, the same private network
 * namespace with its FIB and neighbour, the node configured as `node init`
 * leaves it, here with the NAT table at its default size. Each path's
 * fixture first runs once as a case and must pass (frame, verdict,
 * counters), then its frame is timed N times (default 20000); every call's
 * verdict is checked too. The paths are listed in tools/bpf-cost.
 *
 * Prints the median, min and max ns of each path, net of the empty program
 * run the same way, and whether the local-redirect target is met; --out
 * also writes "path<TAB>median<TAB>min<TAB>max" lines, the figures as
 * test_run reports them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "fixtures/cost_loops.h"
#include "lib/env.h"
#include "lib/netns.h"
#include "lib/timing.h"

/* Runs a call of the looping paths and the empty_loop baseline. */
#define LOOP 250
/* The local-redirect target: ns for the program, net of empty_loop. */
#define LOCAL_TARGET_NS 30

/*
 * The node of the earlier bpf-cost (`node init --nat-ports 1024-65535`):
 * every source port of snat_new_cold is kept, so each call makes its
 * mapping without a port search.
 */
static int wide_nat_range(struct env *env)
{
	return update_config(env, BL_CFG_MASQUERADE, 1024, 65535);
}

static const struct cost_path paths[] = {
	{ .name = "local_redirect", .tc = &local_redirect_loop, .repeat = LOOP,
	  .done = cost_loops_done },
	{ .name = "drop", .fixture = "spoof_source_ip", .repeat = LOOP },
	{ .name = "uplink_host", .fixture = "uplink_to_node", .repeat = LOOP },
	{ .name = "snat_egress", .tc = &snat_egress_loop, .repeat = LOOP,
	  .done = cost_loops_done },
	{ .name = "reverse_nat", .tc = &reverse_nat_loop, .repeat = LOOP,
	  .done = cost_loops_done },
	{ .name = "snat_egress_cold", .fixture = "nat_egress_existing_mapping", .repeat = 1 },
	{ .name = "reverse_nat_cold", .fixture = "nat_reply_udp", .repeat = 1 },
	{ .name = "snat_new_cold", .fixture = "nat_egress_udp_port_outside_range",
	  .repeat = 1, .vary_sport = true, .tune = wide_nat_range },
};

static FILE *out;

static void report(const char *name, const struct timing *t, const char *note)
{
	printf("%-16s %6u ns/packet   (min %u, max %u)   %s\n", name, t->median,
	       t->min, t->max, note);
	if (out)
		fprintf(out, "%s\t%u\t%u\t%u\n", name, t->median, t->min, t->max);
}

static int usage(void)
{
	fprintf(stderr, "usage: tools/bpf-cost [--calls N] [--out FILE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct timing empty_loop, empty_1, t;
	const char *step = "empty_loop";
	unsigned long calls = 20000;
	long local_ns = -1;
	struct env env = {};
	struct utsname u;
	char why[512], note[96], *end;
	size_t i;
	int err, a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--calls") && a + 1 < argc) {
			errno = 0;
			calls = strtoul(argv[++a], &end, 10);
			if (errno || end == argv[a] || *end || argv[a][0] == '-' ||
			    !calls || calls > 10000000) {
				fprintf(stderr, "bpf-cost: --calls takes a whole number from 1 to 10000000\n");
				return 2;
			}
		} else if (!strcmp(argv[a], "--out") && a + 1 < argc) {
			out = fopen(argv[++a], "w");
			if (!out) {
				fprintf(stderr, "bpf-cost: %s: %s\n", argv[a], strerror(errno));
				return 1;
			}
		} else {
			return usage();
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		fprintf(stderr, "bpf-cost: must run as root\n");
		return 1;
	}
	err = netns_private();
	if (err) {
		fprintf(stderr, "bpf-cost: cannot create a network namespace: %s\n",
			strerror(-err));
		return 1;
	}
	/* 0: the NAT table at its default size, as a node's */
	if (env_open(&env, 0, why, sizeof(why)) || env.fib_skip) {
		fprintf(stderr, "bpf-cost: setup: %s\n", env.fib_skip ?: why);
		env_close(&env);
		return 1;
	}

	uname(&u);
	printf("BPF_PROG_TEST_RUN: %lu calls per path (median, min, max); kernel %s\n",
	       calls, u.release);
	err = time_empty(LOOP, calls, &empty_loop, why, sizeof(why));
	if (!err) {
		snprintf(note, sizeof(note),
			 "an empty program, %d repeats a call: test_run's own cost", LOOP);
		report("empty_loop", &empty_loop, note);
	}
	if (!err) {
		step = "empty_1";
		err = time_empty(1, calls, &empty_1, why, sizeof(why));
	}
	if (!err)
		report("empty_1", &empty_1, "the same, one run a call");
	for (i = 0; !err && i < sizeof(paths) / sizeof(paths[0]); i++) {
		const struct cost_path *cp = &paths[i];
		const struct timing *base = cp->repeat > 1 ? &empty_loop : &empty_1;

		step = cp->name;
		err = time_path(&env, cp, calls, &t, why, sizeof(why));
		if (err)
			break;
		snprintf(note, sizeof(note), "%ld ns net", (long)t.median - base->median);
		report(cp->name, &t, note);
		if (cp->tc == &local_redirect_loop)
			local_ns = (long)t.median - empty_loop.median;
	}
	env_close(&env);
	if (out && fclose(out) && !err) {
		step = "--out";
		snprintf(why, sizeof(why), "%s", strerror(errno));
		err = -EIO;
	}
	if (err) {
		fprintf(stderr, "bpf-cost: %s: %s\n", step, why);
		return 1;
	}
	/*
	 * The target is the program's own cost: what test_run reports for it
	 * less what it reports for an empty program in the same loop.
	 */
	printf("target local redirect <= %d ns: %s (%ld ns for the program: %ld ns as test_run reports it, less %u ns of the empty program)\n",
	       LOCAL_TARGET_NS, local_ns <= LOCAL_TARGET_NS ? "met" : "missed",
	       local_ns, local_ns + empty_loop.median, empty_loop.median);
	return 0;
}
