// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "datapath/counters.h"
#include "lib/log.h"

struct reason_desc {
	const char *name;
	int is_drop;
	const char *text;
};

#define BL_DESC_ENTRY(name, is_drop, text) { #name, is_drop, text },
static const struct reason_desc desc[BL_COUNTER_MAX] = { BL_COUNTERS(BL_DESC_ENTRY) };
#undef BL_DESC_ENTRY

/* The enum names in lower case, made once before main() (and any thread). */
static char lower[BL_COUNTER_MAX][40];

__attribute__((constructor)) static void names_init(void)
{
	unsigned int i, j;

	for (i = 0; i < BL_COUNTER_MAX; i++) {
		for (j = 0; desc[i].name[j] && j + 1 < sizeof(lower[i]); j++) {
			char ch = desc[i].name[j];

			lower[i][j] = ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
		}
		lower[i][j] = 0;
	}
}

const char *reason_name(unsigned int reason)
{
	return reason < BL_COUNTER_MAX ? lower[reason] : NULL;
}

const char *reason_text(unsigned int reason)
{
	return reason < BL_COUNTER_MAX ? desc[reason].text : "";
}

int reason_is_drop(unsigned int reason)
{
	return reason < BL_COUNTER_MAX && desc[reason].is_drop;
}

static int ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n < 0 ? errorf(n, "count CPUs") : n;
}

/*
 * Sum a per-CPU value made only of __u64 fields, field by field over all
 * CPUs: both the reason counters and the per-pod counters are.
 */
static int percpu_sum(int fd, uint32_t key, __u64 *sum, size_t words)
{
	int n = ncpus(), i;
	size_t w;
	__u64 *v;

	if (n < 0)
		return n;
	v = calloc((size_t)n * words, sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(sum, 0, words * sizeof(*sum));
	if (bpf_map_lookup_elem(fd, &key, v)) {
		int err = -errno;

		free(v);
		return err;
	}
	for (i = 0; i < n; i++)
		for (w = 0; w < words; w++)
			sum[w] += v[(size_t)i * words + w];
	free(v);
	return 0;
}

_Static_assert(sizeof(struct bl_counter_val) % sizeof(__u64) == 0, "u64 fields only");
_Static_assert(sizeof(struct bl_ep_stats) % sizeof(__u64) == 0, "u64 fields only");

int counter_read(int fd, uint32_t reason, struct bl_counter_val *sum)
{
	int err = percpu_sum(fd, reason, (__u64 *)sum, sizeof(*sum) / sizeof(__u64));

	return err ? errorf(err, "read counters") : 0;
}

int counters_read_all(int fd, struct bl_counter_val *sums)
{
	uint32_t i;
	int err;

	for (i = 0; i < BL_COUNTER_MAX; i++) {
		err = counter_read(fd, i, &sums[i]);
		if (err)
			return err;
	}
	return 0;
}

int ep_stats_read(int fd, uint32_t slot, struct bl_ep_stats *sum)
{
	int err = percpu_sum(fd, slot, (__u64 *)sum, sizeof(*sum) / sizeof(__u64));

	return err ? errorf(err, "read ep_stats[%u]", slot) : 0;
}

int ep_stats_clear(int fd, uint32_t slot)
{
	struct bl_ep_stats *v;
	int n = ncpus(), err = 0;

	if (n < 0)
		return n;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_update_elem(fd, &slot, v, BPF_ANY))
		err = errorf(-errno, "clear ep_stats[%u]", slot);
	free(v);
	return err;
}
