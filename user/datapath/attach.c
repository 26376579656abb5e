// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pkt_sched.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "datapath/attach.h"
#include "lib/log.h"
#include "netlink/tc.h"

/* Not in libbpf 1.1's headers (kernel 6.6 UAPI). */
#define BL_TCX_INGRESS 46
#define BL_TCX_EGRESS 47
#define BL_TC_HANDLE 1
#define BL_TC_PRIORITY 1

const char *attach_mode_name(int mode)
{
	return mode == ATTACH_TCX ? "tcx" : mode == ATTACH_TC ? "tc" : "none";
}

static int prog_id(int prog_fd, __u32 *id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

static int tcx_has(int ifindex, int egress, __u32 id)
{
	__u32 ids[64], cnt = 64, i;

	if (bpf_prog_query(ifindex, egress ? BL_TCX_EGRESS : BL_TCX_INGRESS, 0,
			   NULL, ids, &cnt))
		return 0;
	for (i = 0; i < cnt && i < 64; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

static int tc_has(int ifindex, int egress, __u32 id)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BL_TC_HANDLE,
			    .priority = BL_TC_PRIORITY);

	return bpf_tc_query(&hook, &opts) == 0 && opts.prog_id == id;
}

int attach_prog_ids(int ifindex, int egress, __u32 *ids, int max)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BL_TC_HANDLE,
			    .priority = BL_TC_PRIORITY);
	__u32 cnt = max;
	int n = 0;

	if (max > 0 && !bpf_prog_query(ifindex, egress ? BL_TCX_EGRESS : BL_TCX_INGRESS,
				       0, NULL, ids, &cnt))
		n = cnt < (__u32)max ? (int)cnt : max;
	if (n < max && bpf_tc_query(&hook, &opts) == 0 && opts.prog_id)
		ids[n++] = opts.prog_id;
	return n;
}

int attach_check_dir(int ifindex, int prog_fd, int egress)
{
	__u32 id;

	if (prog_id(prog_fd, &id))
		return 0;
	return tcx_has(ifindex, egress, id) || tc_has(ifindex, egress, id);
}

int attach_check(int ifindex, int prog_fd)
{
	return attach_check_dir(ifindex, prog_fd, 0);
}

static int tcx_attach(int ifindex, int prog_fd, const char *link_pin, int egress)
{
	int link_fd, err;
	__u32 id;

	/* An existing link: swap the program in place, no gap in forwarding. */
	link_fd = bpf_obj_get(link_pin);
	if (link_fd >= 0) {
		err = bpf_link_update(link_fd, prog_fd, NULL);
		close(link_fd);
		if (!err && !prog_id(prog_fd, &id) && tcx_has(ifindex, egress, id))
			return ATTACH_TCX;
		/* Link of a device that is gone: start over. */
		unlink(link_pin);
	}
	link_fd = bpf_link_create(prog_fd, ifindex,
				  egress ? BL_TCX_EGRESS : BL_TCX_INGRESS, NULL);
	if (link_fd < 0)
		return -errno;
	if (bpf_obj_pin(link_fd, link_pin)) {
		err = errorf(-errno, "pin link %s", link_pin);
		close(link_fd);
		return err;
	}
	close(link_fd);
	return ATTACH_TCX;
}

/* The whole clsact qdisc of ifindex, both directions. */
static void clsact_destroy(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	bpf_tc_hook_destroy(&hook);
}

static int tc_attach(int ifindex, int prog_fd, int egress, int *clsact_made)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BL_TC_HANDLE,
			    .priority = BL_TC_PRIORITY, .prog_fd = prog_fd,
			    .flags = BPF_TC_F_REPLACE);
	int err, made;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return errorf(err, "create clsact qdisc");
	made = !err;
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		if (made)
			clsact_destroy(ifindex);
		return errorf(err, "attach tc filter");
	}
	if (made && clsact_made)
		*clsact_made = 1;
	return ATTACH_TC;
}

/* BRIDGELESS_ATTACH=tc: the clsact fallback even where tcx works (tests). */
static int tc_forced(void)
{
	const char *v = getenv("BRIDGELESS_ATTACH");

	return v && !strcmp(v, "tc");
}

static int attach_dir(int ifindex, int prog_fd, const char *link_pin, int egress,
		      int *clsact_made)
{
	int ret = tc_forced() ? -EOPNOTSUPP :
				tcx_attach(ifindex, prog_fd, link_pin, egress);

	/* EINVAL: kernel without tcx. Anything else is a real failure. */
	if (ret == -EINVAL || ret == -EOPNOTSUPP) {
		pr_debug("tcx not available (%d), using clsact", ret);
		return tc_attach(ifindex, prog_fd, egress, clsact_made);
	}
	if (ret < 0)
		return errorf(ret, "attach tcx %s", egress ? "egress" : "ingress");
	return ret;
}

int attach_ingress(int ifindex, int prog_fd, const char *link_pin, int *clsact_made)
{
	return attach_dir(ifindex, prog_fd, link_pin, 0, clsact_made);
}

int attach_egress(int ifindex, int prog_fd, const char *link_pin, int *clsact_made)
{
	return attach_dir(ifindex, prog_fd, link_pin, 1, clsact_made);
}

/*
 * The clsact qdisc we created goes, unless somebody else's filters are on
 * it now (tc's or another loader's): those would go with it.
 */
static void clsact_release(int ifindex)
{
	struct nl nl = {};
	int n = 0, err;

	err = nl_open(&nl);
	if (!err)
		err = tc_filter_count(&nl, ifindex,
				      TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), &n);
	if (!err)
		err = tc_filter_count(&nl, ifindex,
				      TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), &n);
	nl_close(&nl);
	if (err) {
		pr_warn("ifindex %d: clsact qdisc left in place: listing its filters: %s",
			ifindex, error_message());
		error_clear();
		return;
	}
	if (n) {
		pr_info("ifindex %d: clsact qdisc left in place: it has filters of others",
			ifindex);
		return;
	}
	clsact_destroy(ifindex);
}

static int detach_dir(int ifindex, const char *link_pin, int egress, int clsact_made)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BL_TC_HANDLE,
			    .priority = BL_TC_PRIORITY);
	int err, fd;

	/*
	 * Detached explicitly, not by dropping the last reference: another
	 * process (the agent, link_keep.h) may hold the link too.
	 */
	fd = bpf_obj_get(link_pin);
	if (fd >= 0) {
		bpf_link_detach(fd);
		close(fd);
	}
	if (unlink(link_pin) && errno != ENOENT)
		return errorf(-errno, "unpin %s", link_pin);
	/* tc: our filter, where there is one. */
	if (ifindex > 0 && bpf_tc_query(&hook, &opts) == 0) {
		/* bpf_tc_detach() refuses opts with the prog_id the query filled in. */
		opts.prog_id = 0;
		err = bpf_tc_detach(&hook, &opts);
		if (err)
			pr_warn("ifindex %d: detach tc filter %s: %s", ifindex,
				egress ? "egress" : "ingress", strerror(-err));
	}
	if (ifindex > 0 && clsact_made)
		clsact_release(ifindex);
	return 0;
}

int detach_ingress(int ifindex, const char *link_pin, int clsact_made)
{
	return detach_dir(ifindex, link_pin, 0, clsact_made);
}

int detach_egress(int ifindex, const char *link_pin, int clsact_made)
{
	return detach_dir(ifindex, link_pin, 1, clsact_made);
}
