/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Judging a program's output: the frame byte for byte against the expected
 * one (a difference is named by its field, "ip ttl" rather than "byte 22"),
 * every checksum of the output recomputed on its own, and the counters.
 * Each returns true when something is wrong, with why filled in.
 */
#ifndef UNIT_COMPARE_H
#define UNIT_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "bridgeless.h"
#include "packet.h"

const char *verdict_name(int v);
bool diff_bytes(const struct pkt *got, const struct pkt *want, char *why,
		size_t n);
bool bad_csums(const struct pkt *p, char *why, size_t n);
/*
 * Exactly the counters reason, reason2 and reason3 (each an enum bl_counter
 * or -1 for none) moved, by one packet of len bytes; no other one.
 */
bool diff_counters(const struct bl_counter_val *before,
		   const struct bl_counter_val *after, int reason, int reason2,
		   int reason3, __u32 len, char *why, size_t n);

#endif
