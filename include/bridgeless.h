/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one definition of everything BPF and user space share: map keys and
 * values, counter reasons, limits. Both sides include this file; never copy a
 * struct out of it.
 */
#ifndef BRIDGELESS_H
#define BRIDGELESS_H

#include <linux/types.h>

#define BL_MAX_ENDPOINTS 65536
#define BL_GATEWAY_IP 0xa9fe0101u /* 169.254.1.1, host byte order */
#define BL_IFNAME_PREFIX "bl"

/*
 * endpoints: pod IPv4 address -> where and how to deliver to it. The address
 * is kept as bytes so bpftool prints it as [10,244,1,2] rather than as one
 * byte-swapped number.
 */
struct bl_endpoint_key {
	__u8 ip[4]; /* network byte order */
};

struct bl_endpoint {
	__u32 ifindex; /* host end of the pod's veth */
	__u32 id; /* endpoint id, also the hash in the host ifname */
	__u8 pod_mac[6]; /* MAC of eth0 inside the pod */
	__u8 host_mac[6]; /* MAC of the host end; the pod's gateway MAC */
};
_Static_assert(sizeof(struct bl_endpoint) == 20, "bl_endpoint layout");

/* config: one entry, written by `node init`, read on every packet */
struct bl_config {
	__be32 node_ip;
	__be32 pod_cidr; /* network address */
	__be32 pod_mask;
	__be32 cluster_cidr;
	__be32 cluster_mask;
	__u32 uplink_ifindex;
	__u8 uplink_mac[6];
	__u8 pod_prefix_len;
	__u8 cluster_prefix_len;
	__u32 flags;
};
_Static_assert(sizeof(struct bl_config) == 36, "bl_config layout");

/*
 * Counters, one per reason: what happened to a packet. Drops and verdicts
 * share the table so `bridgeless stats` shows the whole picture. The name is
 * what user space prints; the X-macro keeps the enum and names in one place.
 */
#define BL_COUNTERS(X)                                                        \
	X(FWD_LOCAL, 0, "forward: pod to local pod (redirect_peer)")          \
	X(FWD_FROM_UPLINK, 0, "forward: uplink to local pod (redirect_peer)") \
	X(FWD_CLUSTER, 0, "forward: pod to cluster via uplink (fib)")         \
	X(PASS_HOST, 0, "pass: pod to host stack")                            \
	X(ARP_REPLY, 0, "arp: gateway reply sent to pod")                     \
	X(PASS_ARP, 0, "pass: other ARP from pod to host")                    \
	X(PASS_TTL, 0, "pass: TTL expiring, host answers")                    \
	X(DROP_SPOOF_IP, 1, "drop: source IP not the sending pod's")          \
	X(DROP_SPOOF_MAC, 1, "drop: source MAC not the sending pod's")        \
	X(DROP_SPOOF_ARP, 1, "drop: ARP sender not the sending pod")          \
	X(DROP_NO_ENDPOINT, 1, "drop: pod CIDR address with no endpoint")     \
	X(DROP_TRUNCATED, 1, "drop: truncated packet")                        \
	X(DROP_BAD_IP, 1, "drop: malformed IPv4 header")                      \
	X(DROP_UNSUPPORTED_L3, 1, "drop: unsupported L3 protocol from pod")   \
	X(PASS_FIB, 0, "pass: fib cannot forward, host stack answers")                  \
	X(DROP_NO_CONFIG, 1, "drop: node not configured")

#define BL_ENUM_ENTRY(name, is_drop, text) BL_##name,
enum bl_counter { BL_COUNTERS(BL_ENUM_ENTRY) BL_COUNTER_MAX };
#undef BL_ENUM_ENTRY

struct bl_counter_val {
	__u64 packets;
	__u64 bytes;
};

#endif /* BRIDGELESS_H */
