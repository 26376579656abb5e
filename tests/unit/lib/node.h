/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The node under test, as every fixture sees it: pod CIDR 10.244.1.0/24 in
 * cluster 10.244.0.0/16, its pods, its neighbours and its NAT range. env.c
 * writes these into the maps; the fixtures build their frames from them.
 */
#ifndef UNIT_NODE_H
#define UNIT_NODE_H

#include <linux/if_ether.h>
#include <linux/types.h>

#define NODE_IP "198.51.100.2"
#define EXT_IP "198.51.100.1"
#define POD_A_IP "10.244.1.2" /* the sending pod */
#define POD_B_IP "10.244.1.3" /* a second local pod */
#define GW_IP "169.254.1.1"
#define REMOTE_POD_IP "10.244.2.5" /* a pod on another node */
#define UNROUTED_POD_IP "10.244.3.5" /* cluster CIDR, no route at all */
/*
 * Services: the service CIDR (the default of --service-cidr) and a cluster
 * IP in it. POD_C_IP is a second address on pod A's interface (same
 * ifindex and MACs): a client that test_run can send as, when pod A is the
 * backend.
 */
#define SVC_CIDR "10.96.0.0"
#define SVC_IP "10.96.0.10"
#define POD_C_IP "10.244.1.4"

/*
 * Outside the cluster. SRV_IP is a server on the internet, routed out of lo
 * like the other node's pods; NOMASQ_IP is in a --no-masquerade prefix (also
 * routed); UNROUTED_EXT_IP has no route. ICMP errors come from ROUTER_IP.
 */
#define SRV_IP "203.0.113.7"
#define NOMASQ_IP "192.0.2.9"
#define UNROUTED_EXT_IP "100.64.0.1"
#define ROUTER_IP EXT_IP
/* The NAT range of the test node, and a pod port inside it: kept by NAT. */
#define NAT_LO 61000
#define NAT_HI 65535
#define KEPT_PORT 61005
#define KEPT_ID 61007 /* an ICMP echo id inside the range */

/*
 * test_run hands the program an skb on the namespace's loopback device unless
 * the context names another one, so the sending pod's host veth is lo.
 */
#define POD_A_IFINDEX 1
/* Only the verdict is observed, the redirect is not executed: any index will do. */
#define POD_B_IFINDEX 42

extern const __u8 pod_a_mac[ETH_ALEN];
extern const __u8 host_a_mac[ETH_ALEN];
extern const __u8 pod_b_mac[ETH_ALEN];
extern const __u8 host_b_mac[ETH_ALEN];
extern const __u8 evil_mac[ETH_ALEN];
extern const __u8 uplink_mac[ETH_ALEN];
extern const __u8 ext_mac[ETH_ALEN];
/* the one neighbour on lo, which the FIB answers with (see netns.c) */
extern const __u8 neigh_mac[ETH_ALEN];
extern const __u8 lo_mac[ETH_ALEN];
extern const __u8 zero_mac[ETH_ALEN];
extern const __u8 bcast_mac[ETH_ALEN];

#endif
