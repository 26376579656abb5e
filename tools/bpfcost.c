// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bpfcost: nanoseconds per packet of one pinned tc program, from
 * BPF_PROG_TEST_RUN, for tools/bpf-cost.
 *
 *   bpfcost PROG_PIN PACKET_FILE IFINDEX EXPECT REPEAT CALLS [--vary-sport]
 *   bpfcost --empty REPEAT CALLS
 *
 * Runs the program CALLS times on PACKET_FILE (an Ethernet frame) with
 * struct __sk_buff.ifindex = IFINDEX, REPEAT runs per call. The kernel times
 * each call (bpf_test_timer: one clock read before the first run and one
 * after the last, divided by REPEAT); the median, minimum and maximum of the
 * per-call figures are printed as "median min max" in nanoseconds.
 * Every call's verdict must be EXPECT (e.g. 7 = TC_ACT_REDIRECT), so a path
 * that took a wrong turn is never timed by mistake.
 *
 * REPEAT > 1 suits paths that leave the packet as they found it. A path that
 * rewrites the packet (SNAT, reverse NAT) is timed with REPEAT = 1, each
 * call on a fresh copy; that figure includes the clock reads and the call
 * into the program, which `--empty` measures the same way with a program
 * that only returns (the caller subtracts it).
 *
 * --vary-sport: give every call a UDP/TCP source port of its own (the
 * packet's port + call number), so each call makes a new NAT mapping.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#define MAX_FRAME 2048
#define L4_OFFSET (14 + 20)	/* Ethernet + IPv4 without options */

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static int empty_prog(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_OK },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "bl_empty", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	if (fd < 0)
		fprintf(stderr, "bpfcost: load the empty program: %s\n", strerror(errno));
	return fd;
}

static int read_frame(const char *path, unsigned char *buf, size_t *len)
{
	FILE *f = fopen(path, "rb");

	if (!f) {
		fprintf(stderr, "bpfcost: %s: %s\n", path, strerror(errno));
		return -1;
	}
	*len = fread(buf, 1, MAX_FRAME, f);
	fclose(f);
	if (*len < L4_OFFSET + 4) {
		fprintf(stderr, "bpfcost: %s: frame of %zu bytes is too short\n", path, *len);
		return -1;
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: bpfcost PROG_PIN PACKET_FILE IFINDEX EXPECT REPEAT CALLS [--vary-sport]\n"
			"       bpfcost --empty REPEAT CALLS\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned char frame[MAX_FRAME] = { 0 }, out[MAX_FRAME];
	struct __sk_buff ctx = { 0 };
	int fd, expect = TC_ACT_OK, vary = 0;
	unsigned long repeat, calls, i;
	size_t len = 64;
	__u32 *t;

	if (argc == 4 && !strcmp(argv[1], "--empty")) {
		fd = empty_prog();
		repeat = strtoul(argv[2], NULL, 10);
		calls = strtoul(argv[3], NULL, 10);
		ctx.ifindex = 1;
	} else if (argc == 7 || (argc == 8 && !strcmp(argv[7], "--vary-sport"))) {
		vary = argc == 8;
		fd = bpf_obj_get(argv[1]);
		if (fd < 0) {
			fprintf(stderr, "bpfcost: %s: %s\n", argv[1], strerror(errno));
			return 1;
		}
		if (read_frame(argv[2], frame, &len))
			return 1;
		ctx.ifindex = strtoul(argv[3], NULL, 10);
		expect = atoi(argv[4]);
		repeat = strtoul(argv[5], NULL, 10);
		calls = strtoul(argv[6], NULL, 10);
	} else {
		return usage();
	}
	if (fd < 0)
		return 1;
	if (!repeat || !calls || repeat > 1000000 || calls > 10000000)
		return usage();
	t = calloc(calls, sizeof(*t));
	if (!t)
		return 1;

	for (i = 0; i < calls; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts,
			.data_in = frame, .data_size_in = len,
			.data_out = out, .data_size_out = sizeof(out),
			.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			.repeat = repeat);
		__u16 sport;

		if (vary) {
			sport = (frame[L4_OFFSET] << 8 | frame[L4_OFFSET + 1]) + 1;
			frame[L4_OFFSET] = sport >> 8;
			frame[L4_OFFSET + 1] = sport & 0xff;
		}
		if (bpf_prog_test_run_opts(fd, &opts)) {
			fprintf(stderr, "bpfcost: %s: test run: %s\n", argv[1], strerror(errno));
			return 1;
		}
		if ((int)opts.retval != expect) {
			fprintf(stderr, "bpfcost: %s: verdict %d, expected %d (call %lu)\n",
				argv[1], (int)opts.retval, expect, i);
			return 1;
		}
		t[i] = opts.duration;
	}
	qsort(t, calls, sizeof(*t), cmp_u32);
	printf("%u %u %u\n", t[calls / 2], t[0], t[calls - 1]);
	return 0;
}
