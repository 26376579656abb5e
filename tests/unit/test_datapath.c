// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Golden-packet unit tests for the production tc programs (from_pod,
 * from_uplink, to_pod), run with BPF_PROG_TEST_RUN.
 *
 * Every case is one row of a table: an input frame, the program, the
 * expected verdict, the expected output frame and the one counter that must
 * move (plus nat_new when a mapping is made). Frames are described field by
 * field and built by small helpers that compute every checksum from scratch
 * (IPv4, TCP/UDP with the pseudo-header, ICMP, the header an ICMP error
 * quotes), so an expected frame never borrows a byte from the program's
 * output: a rewrite the datapath gets wrong cannot also be "expected". Every
 * output checksum is also recomputed on its own. The one exception is a NAT
 * port picked at random, which is read from the output, checked against the
 * range, and then put into the expected frame.
 *
 * Each case starts with the node configured as `node init` leaves it
 * (masquerade on, NAT ports 61000-65535, the cluster CIDR and one
 * --no-masquerade prefix in nomasq) and an empty NAT table; a setup may
 * change the config, fill the table, or send frames first (the flow whose
 * reply a case tests), and a verify step checks the NAT table afterwards.
 *
 * The test runs in a private network namespace it creates at start: the
 * kernel's FIB, neighbours and sysctls that bpf_fib_lookup() sees are then
 * only the ones set up here, the results do not depend on the machine, and
 * nothing outside the namespace is touched. Maps are loaded unpinned, so the
 * bpffs is not touched either.
 *
 * Where things are:
 *   lib/       the framework: the test node (node.h), the frame builder
 *              (packet.c, csum.c), the environment (netns.c: namespace and
 *              FIB; env.c: the loaded datapath and its config; nat_table.c),
 *              the case table (tcase.h), running and judging a case
 *              (runner.c, compare.c), and timing one (timing.c, for
 *              tools/bpf-cost, whose loop-safe frames are in
 *              fixtures/cost_loops.c)
 *   fixtures/  one file per feature with its cases and their setup and
 *              verify steps; shared.c holds the flows and checks several
 *              files use, frames.h their frame shorthands. A new file
 *              registers its table with TCASES() and needs nothing else.
 *
 * Output: one "PASS name", "FAIL name: why" or "SKIP name: why" line per case
 * (tests/run counts them); exit status 1 if any case failed.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/env.h"
#include "lib/netns.h"
#include "lib/runner.h"
#include "lib/tcase.h"

/* A small NAT table is enough and quick to create. */
#define NAT_TABLE_SIZE 4096

int main(void)
{
	const struct tcase_table *tab;
	const struct tcase *tc;
	struct env env = {};
	char why[512];
	int err, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("SKIP test_datapath: needs root (BPF_PROG_TEST_RUN, netns)\n");
		return 0;
	}
	/*
	 * First thing: a network namespace of our own. Routes, neighbours and
	 * sysctls set for the FIB cases stay in it and vanish with us.
	 */
	err = netns_private();
	if (err) {
		printf("SKIP test_datapath: cannot create a network namespace: %s\n",
		       strerror(-err));
		return 0;
	}
	if (env_open(&env, NAT_TABLE_SIZE, why, sizeof(why))) {
		printf("FAIL test_datapath_setup: %s\n", why);
		env_close(&env);
		return 1;
	}

	for_each_tcase(tab, tc) {
		switch (run_case(&env, tc, why, sizeof(why))) {
		case CASE_PASS:
			printf("PASS %s\n", tc->name);
			break;
		case CASE_SKIP:
			printf("SKIP %s: %s\n", tc->name, why);
			break;
		default:
			printf("FAIL %s: %s\n", tc->name, why);
			failed = 1;
		}
	}
	env_close(&env);
	return failed;
}
