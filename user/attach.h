/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Attaching a program to a device's ingress. tcx (a bpf_link, kernel 6.6+)
 * is preferred: it is faster than cls_bpf, the link is pinned so it outlives
 * the loader, and replacing the program is one atomic bpf_link_update. On
 * kernels without tcx we fall back to clsact + cls_bpf direct-action.
 */
#ifndef BL_ATTACH_H
#define BL_ATTACH_H

enum attach_mode { ATTACH_TCX = 1, ATTACH_TC = 2 };

/*
 * Attach or replace prog_fd on ifindex's ingress; link_pin is where the tcx
 * link is pinned. Returns the mode used, or -errno.
 */
int attach_ingress(int ifindex, int prog_fd, const char *link_pin);
int attach_egress(int ifindex, int prog_fd, const char *link_pin);
/* Remove what attach_* made; missing pieces are not an error. */
int detach_ingress(int ifindex, const char *link_pin);
int detach_egress(int ifindex, const char *link_pin);
/* 1 if prog_fd's program is attached to ifindex's ingress (egress), 0 if not. */
int attach_check(int ifindex, int prog_fd);
int attach_check_dir(int ifindex, int prog_fd, int egress);
const char *attach_mode_name(int mode);

#endif
