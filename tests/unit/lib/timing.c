// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Timing fixtures with BPF_PROG_TEST_RUN (timing.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>

#include "compare.h"
#include "runner.h"
#include "timing.h"

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* The next call's frame gets the next TCP/UDP source port. */
static void next_sport(struct pkt *p)
{
	const struct iphdr *ip = (const struct iphdr *)(p->b + ETH_HLEN);
	__u8 *l4 = p->b + ETH_HLEN + ip->ihl * 4;
	__u16 sport = (l4[0] << 8 | l4[1]) + 1;

	l4[0] = sport >> 8;
	l4[1] = sport & 0xff;
}

static int time_frame(int fd, struct pkt *p, int verdict, unsigned int repeat,
		      unsigned int calls, bool vary_sport, struct timing *t,
		      char *why, size_t n)
{
	struct __sk_buff ctx = {};
	__u8 out[PKT_MAX];
	unsigned int i;
	__u32 *ns;
	int err = 0;

	ns = calloc(calls, sizeof(*ns));
	if (!ns) {
		snprintf(why, n, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (i = 0; i < calls; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->b,
			    .data_size_in = p->len, .data_out = out,
			    .data_size_out = sizeof(out), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = repeat);

		if (vary_sport)
			next_sport(p);
		if (bpf_prog_test_run_opts(fd, &opts)) {
			err = -errno;
			snprintf(why, n, "BPF_PROG_TEST_RUN: %s", strerror(-err));
			break;
		}
		if ((int)opts.retval != verdict) {
			err = -EPROTO;
			snprintf(why, n, "verdict %d (%s), want %d (%s) (call %u)",
				 opts.retval, verdict_name(opts.retval), verdict,
				 verdict_name(verdict), i);
			break;
		}
		ns[i] = opts.duration;
	}
	if (!err) {
		qsort(ns, calls, sizeof(*ns), cmp_u32);
		t->median = ns[calls / 2];
		t->min = ns[0];
		t->max = ns[calls - 1];
	}
	free(ns);
	return err;
}

int time_path(struct env *env, const struct cost_path *cp, unsigned int calls,
	      struct timing *t, char *why, size_t n)
{
	const struct tcase *tc = cp->fixture ? tcase_find(cp->fixture) : cp->tc;
	char res[400];
	struct pkt in;
	int err;

	if (!tc) {
		snprintf(why, n, "no fixture %s", cp->fixture);
		return -ENOENT;
	}
	switch (run_case(env, tc, res, sizeof(res))) {
	case CASE_PASS:
		break;
	case CASE_SKIP:
		snprintf(why, n, "fixture %s skipped: %s", tc->name, res);
		return -EOPNOTSUPP;
	default:
		snprintf(why, n, "fixture %s failed: %s", tc->name, res);
		return -EPROTO;
	}
	err = build(&in, &tc->in, why, n);
	if (!err && cp->tune) {
		err = cp->tune(env);
		if (err)
			snprintf(why, n, "tuning %s: %s", cp->name, strerror(-err));
	}
	if (!err)
		err = time_frame(prog_fd(env, tc->prog), &in, tc->verdict,
				 cp->repeat, calls, cp->vary_sport, t, why, n);
	if (cp->done)
		cp->done(env);
	return err;
}

static int empty_prog(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = TC_ACT_OK },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "bl_empty", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	return fd < 0 ? -errno : fd;
}

int time_empty(unsigned int repeat, unsigned int calls, struct timing *t,
	       char *why, size_t n)
{
	/* any frame will do: the program reads none of it */
	struct pkt p = { .len = 64 };
	int fd, err;

	fd = empty_prog();
	if (fd < 0) {
		snprintf(why, n, "loading the empty program: %s", strerror(-fd));
		return fd;
	}
	err = time_frame(fd, &p, TC_ACT_OK, repeat, calls, false, t, why, n);
	close(fd);
	return err;
}
