// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Running one case and judging its outcome (runner.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>

#include "compare.h"
#include "nat_table.h"
#include "node.h"
#include "runner.h"
#include "services.h"

const struct tcase *tcase_find(const char *name)
{
	const struct tcase_table *tab;
	const struct tcase *tc;

	for_each_tcase(tab, tc)
		if (!strcmp(tc->name, name))
			return tc;
	return NULL;
}

int run_spec(struct env *env, enum prog_id prog, const struct pkt_spec *s,
	     int verdict)
{
	struct __sk_buff ctx = {};
	__u8 out[PKT_MAX];
	char why[128];
	struct pkt p;

	if (build(&p, s, why, sizeof(why))) {
		fprintf(stderr, "%s\n", why);
		return -EINVAL;
	}
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p.b,
		    .data_size_in = p.len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	if (bpf_prog_test_run_opts(prog_fd(env, prog), &opts))
		return -errno;
	return (int)opts.retval == verdict ? 0 : -EPROTO;
}

/*
 * A linear area smaller than the frame needs a kernel whose test_run builds
 * non-linear skbs from ctx->data_end (Linux 6.19 and later); older ones reject
 * a nonzero data_end with EINVAL. Asked once, with a frame that needs nothing
 * from the program (a remote pod's datagram to the node IP), so the answer
 * is about test_run, not about the datapath.
 */
static const char *nonlinear_support(struct env *env)
{
	struct __sk_buff ctx = { .data_end = ETH_HLEN };
	struct pkt_spec s = {
		.kind = PK_IPV4, .dmac = uplink_mac, .smac = ext_mac,
		.saddr = REMOTE_POD_IP, .daddr = NODE_IP, .ttl = 64,
		.l4 = IPPROTO_UDP
	};
	__u8 out[PKT_MAX];
	char why[64];
	struct pkt p;
	int err;

	if (env->nonlinear_checked)
		return env->nonlinear_skip;
	env->nonlinear_checked = true;
	if (build(&p, &s, why, sizeof(why)))
		return env->nonlinear_skip = "test bug: probe frame";
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p.b,
		    .data_size_in = p.len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	err = bpf_prog_test_run_opts(prog_fd(env, FROM_UPLINK), &opts);
	if (err)
		env->nonlinear_skip =
			"this kernel's BPF_PROG_TEST_RUN copies the frame into one linear buffer (ctx data_end rejected; non-linear skbs need Linux 6.19+)";
	return env->nonlinear_skip;
}

enum case_result run_case(struct env *env, const struct tcase *tc, char *why,
			  size_t n)
{
	struct bl_counter_val before[BL_COUNTER_MAX], after[BL_COUNTER_MAX];
	struct __sk_buff ctx = {};
	struct pkt in, want, got;
	enum case_result ret = CASE_FAIL;
	const char *skip;
	int err, fd;

	if (tc->needs_fib && env->fib_skip) {
		snprintf(why, n, "%s", env->fib_skip);
		return CASE_SKIP;
	}
	if (tc->linear) {
		skip = nonlinear_support(env);
		if (skip) {
			snprintf(why, n, "%s", skip);
			return CASE_SKIP;
		}
		ctx.data_end = tc->linear;
	}
	if (build(&in, &tc->in, why, n))
		return CASE_FAIL;
	if (tc->out.kind == PK_NONE)
		want = in;
	else if (build(&want, &tc->out, why, n))
		return CASE_FAIL;
	if (tc->golden && (want.len != tc->golden_len ||
			   memcmp(want.b, tc->golden, want.len))) {
		struct pkt g = { .len = tc->golden_len };
		char d[256];

		memcpy(g.b, tc->golden, g.len < PKT_MAX ? g.len : PKT_MAX);
		diff_bytes(&want, &g, d, sizeof(d));
		snprintf(why, n, "test bug: built frame is not the golden one: %s", d);
		return CASE_FAIL;
	}

	/*
	 * Every case starts from the configured node and an empty NAT table;
	 * a setup may change either.
	 */
	err = nat_clear(env);
	if (!err)
		err = svc_reset(env);
	if (!err)
		err = write_config(env, true);
	if (!err && tc->setup)
		err = tc->setup(env);
	if (err) {
		snprintf(why, n, "setup: %s", strerror(-err));
		goto out;
	}
	err = read_counters(env, before);
	if (err) {
		snprintf(why, n, "reading counters: %s", strerror(-err));
		goto out;
	}

	memset(&got, 0, sizeof(got));
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.b,
		    .data_size_in = in.len, .data_out = got.b,
		    .data_size_out = sizeof(got.b), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	fd = prog_fd(env, tc->prog);
	err = bpf_prog_test_run_opts(fd, &opts);
	if (err && errno == EINVAL && tc->short_ip) {
		snprintf(why, n, "this kernel's BPF_PROG_TEST_RUN refuses an IPv4 frame of %u bytes (shorter than eth + IPv4 header) with EINVAL",
			 in.len);
		ret = CASE_SKIP;
		goto out;
	}
	if (err) {
		snprintf(why, n, "BPF_PROG_TEST_RUN: %s", strerror(errno));
		goto out;
	}
	got.len = opts.data_size_out;

	err = read_counters(env, after);
	if (err) {
		snprintf(why, n, "reading counters: %s", strerror(-err));
		goto out;
	}
	if ((int)opts.retval != tc->verdict) {
		snprintf(why, n, "verdict %d (%s), want %d (%s)", opts.retval,
			 verdict_name(opts.retval), tc->verdict,
			 verdict_name(tc->verdict));
		goto out;
	}
	if (tc->any_port) {
		struct pkt_spec o = tc->out;
		__u16 port = egress_port(&got), lo = 0, hi = 0;

		err = read_nat_range(env, &lo, &hi);
		if (err) {
			snprintf(why, n, "reading config: %s", strerror(-err));
			goto out;
		}
		if (port < lo || port > hi) {
			snprintf(why, n, "node port %u outside the NAT range %u-%u",
				 port, lo, hi);
			goto out;
		}
		if (o.l4 == IPPROTO_ICMP)
			o.echo_id = port;
		else
			o.sport = port;
		if (build(&want, &o, why, n))
			goto out;
	}
	if (diff_bytes(&got, &want, why, n))
		goto out;
	if (tc->out.kind != PK_NONE && bad_csums(&got, why, n))
		goto out;
	if (diff_counters(before, after, tc->reason,
			  tc->nat_new ? BL_NAT_NEW : NO_COUNT,
			  tc->also ? (int)tc->also : NO_COUNT, in.len, why, n))
		goto out;
	if (tc->verify && tc->verify(env, &got, why, n))
		goto out;
	ret = CASE_PASS;
out:
	if (tc->cleanup)
		tc->cleanup(env);
	return ret;
}
