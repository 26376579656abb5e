/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Nanoseconds per run of a fixture's frame, from BPF_PROG_TEST_RUN: the
 * kernel times each call (one clock read before the first run and one after
 * the last, divided by the runs), and the median, minimum and maximum over
 * the calls are kept. Every call's verdict must be the fixture's, so a path
 * that took a wrong turn is never timed by mistake.
 */
#ifndef UNIT_TIMING_H
#define UNIT_TIMING_H

#include <stdbool.h>
#include <stddef.h>

#include "env.h"
#include "tcase.h"

struct timing {
	__u32 median, min, max; /* ns per run */
};

/*
 * One path: a fixture (a unit-test case found by name, or a case of the
 * timer's own) run repeat times a call. repeat > 1 suits frames that a run
 * leaves as it found them (test_run repeats on one skb); a frame that is
 * rewritten runs once a call, on a fresh copy.
 */
struct cost_path {
	const char *name;
	const char *fixture; /* a registered case's name, or NULL: tc */
	const struct tcase *tc;
	unsigned int repeat;
	/* a source port of its own for each call: each one a new NAT mapping */
	bool vary_sport;
	/* after the fixture passed once, before the timed calls; may be NULL */
	int (*tune)(struct env *env);
	/* after the timed calls; may be NULL */
	void (*done)(struct env *env);
};

/*
 * Run the fixture once as a case (run_case(): it must pass), then time its
 * input frame calls times. Returns 0, or -errno with why filled in.
 */
int time_path(struct env *env, const struct cost_path *cp, unsigned int calls,
	      struct timing *t, char *why, size_t n);

/* A program that only returns, timed the same way: test_run's own cost. */
int time_empty(unsigned int repeat, unsigned int calls, struct timing *t,
	       char *why, size_t n);

#endif
