/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Attaching a program to a device's ingress. tcx (a bpf_link, kernel 6.6+)
 * is preferred: it is faster than cls_bpf, the link is pinned so it outlives
 * the loader, and replacing the program is one atomic bpf_link_update. On
 * kernels without tcx we fall back to clsact + cls_bpf direct-action
 * (BRIDGELESS_ATTACH=tc in the environment forces it, for tests). The
 * clsact qdisc is removed again only by whoever created it: attach_* say
 * whether they did, detach_* are told.
 */
#ifndef BL_ATTACH_H
#define BL_ATTACH_H

#include <linux/types.h>

enum attach_mode { ATTACH_TCX = 1, ATTACH_TC = 2 };

/*
 * Attach or replace prog_fd on ifindex's ingress; link_pin is where the tcx
 * link is pinned. Returns the mode used, or -errno. *clsact_made (may be
 * NULL) is set to 1 where the tc fallback created the clsact qdisc, left
 * alone otherwise.
 */
int attach_ingress(int ifindex, int prog_fd, const char *link_pin, int *clsact_made);
int attach_egress(int ifindex, int prog_fd, const char *link_pin, int *clsact_made);
/*
 * Remove what attach_* made; missing pieces are not an error. clsact_made:
 * we created the clsact qdisc, so it goes too, unless filters of others
 * are on it. (A pod's veth is deleted after it, qdisc and all: 0 there.)
 */
int detach_ingress(int ifindex, const char *link_pin, int clsact_made);
int detach_egress(int ifindex, const char *link_pin, int clsact_made);
/* 1 if prog_fd's program is attached to ifindex's ingress (egress), 0 if not. */
int attach_check(int ifindex, int prog_fd);
int attach_check_dir(int ifindex, int prog_fd, int egress);
const char *attach_mode_name(int mode);
/* Ids of the programs on ifindex's ingress (egress): tcx, and our tc filter. */
int attach_prog_ids(int ifindex, int egress, __u32 *ids, int max);

#endif
