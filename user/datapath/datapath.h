/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The BPF side of the node: loading, pinning and opening the datapath. */
#ifndef BL_DATAPATH_H
#define BL_DATAPATH_H

#include <linux/types.h>
#include "bridgeless.h"
#include "lib/addr.h"
#include "lib/ctx.h"

/* The loaded skeleton; this layer is the only one that knows its layout. */
struct datapath;
enum dp_prog { DP_FROM_POD, DP_FROM_UPLINK, DP_TO_POD };

/* Handles on a loaded and pinned datapath, opened from the pin dir. */
struct pinned {
	int endpoints;
	int config;
	int counters;
	int from_pod;
	int from_uplink;
	int nat;
	int nomasq;
	int to_pod;
	int endpoints6;
	int nat6;
};
#define PINNED_INIT { -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 }

/* The sizes of the maps node init sizes. */
struct dp_sizes {
	__u32 nat_max; /* entries of the NAT table (node init checks the pinned one) */
	__u32 nat6_max; /* and of the NAT66 table */
	__u32 svc_max; /* service frontends of each family; svc_stats gets one more */
	__u32 svc_backends_max; /* backend slots of each family */
};

/* Mount bpffs if needed and create the pin dir on it. */
int bpffs_prepare(const char *pin_dir);
/*
 * Load the programs, reusing (or creating) the pinned maps, and pin the
 * programs, replacing older ones. The caller closes it (datapath_close:
 * the pins keep maps and programs). Service maps pinned at other sizes
 * than sz's are made anew, empty (their contents are the agent's to write
 * again); the NAT table must have sz->nat_max entries if it is pinned.
 */
int datapath_load(const struct ctx *c, const struct dp_sizes *sz, struct datapath **out);
/*
 * The NAT66 table of a node without IPv6: kept small, since an LRU table
 * is allocated whole (the IPv4 table's size would cost as much again).
 */
#define NAT6_IDLE_SIZE 64
void datapath_close(struct datapath *dp);
/*
 * Pin again every map whose pin is gone, taken from our programs attached
 * to the devices ifindex[0..n-1] (either direction): the live maps, with
 * what they hold, which datapath_load() then reuses. Each one pinned is a
 * warning. Returns how many were pinned again, or -errno.
 */
int datapath_repin(const struct ctx *c, const int *ifindex, size_t n);
int datapath_prog_fd(const struct datapath *dp, enum dp_prog which);
/* Write the node's config, moving its forwarding generation on (fwd_gen). */
int datapath_set_config(struct datapath *dp, struct bl_config *cfg);
/* Make the no-masquerade prefixes exactly v[0..n-1], never missing one that stays. */
int datapath_set_nomasq(struct datapath *dp, const struct cidr *v, int n);
/* The same for IPv6's (nomasq6). */
int datapath_set_nomasq6(struct datapath *dp, const struct prefix *v, int n);
/* max_entries of the pinned map name, 0 if there is none. */
__u32 pinned_map_size(const struct ctx *c, const char *name);
/* Remove the pin of map name, so that the next load makes it anew. */
int datapath_drop_pin(const struct ctx *c, const char *name);
/* max_entries of the pinned NAT table, 0 if there is none. */
__u32 pinned_nat_size(const struct ctx *c);
/* The same, and its map flags in *flags (0 if there is none). */
__u32 pinned_nat_table(const struct ctx *c, __u32 *flags);
/* The size the kernel gives a NAT table asked for want entries. */
__u32 nat_table_size(__u32 want);
/* -ENOENT with "node not initialized" when nothing is pinned. */
int pinned_open(const struct ctx *c, struct pinned *p);
/* One pinned object by name ("ep_stats", "events", "trace_cfg"...): its fd. */
int pin_open(const struct ctx *c, const char *name);
void pinned_close(struct pinned *p);
/* Remove every pin under the pin dir, then the dir. */
int datapath_unpin(const struct ctx *c);
void link_pin_path(const struct ctx *c, const char *ifname, char *buf);

#endif
