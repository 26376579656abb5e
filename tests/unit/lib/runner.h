/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Running cases through BPF_PROG_TEST_RUN and judging them. */
#ifndef UNIT_RUNNER_H
#define UNIT_RUNNER_H

#include <stddef.h>

#include "env.h"
#include "packet.h"
#include "tcase.h"

enum case_result { CASE_PASS, CASE_FAIL, CASE_SKIP };

/*
 * Each case starts with the node configured as `node init` leaves it and an
 * empty NAT table, runs its setup, its frame and its checks; why says what
 * went wrong (or why it was skipped).
 */
enum case_result run_case(struct env *env, const struct tcase *tc, char *why,
			  size_t n);

/* Run one frame through a program, as a case's setup; -EPROTO on a surprise. */
int run_spec(struct env *env, enum prog_id prog, const struct pkt_spec *s,
	     int verdict);

#endif
