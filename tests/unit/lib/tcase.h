/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One case: a row of a fixture file's table. An input frame, the program,
 * the expected verdict, the expected output frame and the one counter that
 * must move (plus nat_new when a mapping is made); a setup may change the
 * node first and a verify step checks the NAT table afterwards.
 *
 * A fixture file registers its table with TCASES(table); the runner finds
 * every registered table in the linked objects, so a new fixture file needs
 * no list to be edited anywhere.
 */
#ifndef UNIT_TCASE_H
#define UNIT_TCASE_H

#include <stdbool.h>
#include <stddef.h>

#include "env.h"
#include "packet.h"

#define NO_COUNT (-1)

struct tcase {
	const char *name;
	enum prog_id prog;
	struct pkt_spec in;
	int verdict;
	int reason; /* enum bl_counter, or NO_COUNT: no counter may move */
	struct pkt_spec out; /* kind PK_NONE: the input, unchanged */
	__u32 linear; /* nonzero: skb with only this many bytes linear */
	/*
	 * An IPv4 frame shorter than an IPv4 header: test_run on Linux 6.18
	 * refuses those with EINVAL before the program runs (an ARP frame of
	 * any length is accepted), so there the case can only be skipped.
	 */
	bool short_ip;
	bool needs_fib;
	bool nat_new; /* a new mapping: nat_new must move as well */
	/* one more counter that must move; 0 (FWD_LOCAL, never one): none */
	enum bl_counter also;
	/*
	 * The node port is NAT's pick (the pod's port is outside the range):
	 * it must lie in the configured range; the expected frame is then
	 * built with it and compared byte for byte as usual.
	 */
	bool any_port;
	/*
	 * Nonzero: the expected frame, byte for byte, written out by hand; the
	 * frame built from out must be exactly this (a check of the builder).
	 */
	const __u8 *golden;
	__u32 golden_len;
	int (*setup)(struct env *env);
	void (*cleanup)(struct env *env);
	/* after the frame and counters matched: the NAT table, say */
	int (*verify)(struct env *env, const struct pkt *got, char *why, size_t n);
};

struct tcase_table {
	const struct tcase *cases;
	size_t n;
};

/*
 * The tables live in one ELF section; the linker marks its bounds with
 * __start_/__stop_ symbols, as it does for any section named like a C
 * identifier. The alignment is given so the compiler cannot pad entries
 * apart: the section must read as one array.
 */
#define TCASES(table)                                                         \
	static const struct tcase_table tcase_table_##table                  \
		__attribute__((used, section("tcase_tables"),                 \
			       aligned(__alignof__(struct tcase_table)))) = { \
			table, sizeof(table) / sizeof(table[0])               \
		}

extern const struct tcase_table __start_tcase_tables[];
extern const struct tcase_table __stop_tcase_tables[];

#define for_each_tcase(tab, tc)                                               \
	for (tab = __start_tcase_tables; tab < __stop_tcase_tables; tab++)     \
		for (tc = tab->cases; tc < tab->cases + tab->n; tc++)

/* The registered case of that name, or NULL. */
const struct tcase *tcase_find(const char *name);

#endif
