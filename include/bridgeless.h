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
#define BL_MAX_NOMASQ 64 /* entries of the no-masquerade prefix list */
#define BL_NAT_MAX_DEFAULT (512 * 1024)
/*
 * Default SNAT port range: above the host's default ephemeral range
 * (32768-60999), so NAT ports and the node's own connections cannot collide.
 */
#define BL_NAT_PORT_MIN_DEFAULT 61000
#define BL_NAT_PORT_MAX_DEFAULT 65535
#define BL_NAT_PORT_TRIES 32 /* ports tried per new mapping */
#define BL_GATEWAY_IP 0xa9fe0101u /* 169.254.1.1, host byte order */
#define BL_GATEWAY_IP_STR "169.254.1.1"
#define BL_IFNAME_PREFIX "bl"

/*
 * The pinned objects, by name: the BPF side declares its maps and programs
 * under these names (bpf/lib/maps.h and the programs), and user space finds
 * their pins under the pin dir by the same names, BL_PIN(BL_MAP_NAT) being
 * "nat". One list, so the two sides cannot drift apart.
 */
#define BL_MAP_ENDPOINTS endpoints
#define BL_MAP_CONFIG config
#define BL_MAP_NOMASQ nomasq
#define BL_MAP_NAT nat
#define BL_MAP_FRAGS frags
#define BL_MAP_COUNTERS counters
#define BL_MAP_EP_STATS ep_stats
#define BL_MAP_EVENTS events
#define BL_MAP_TRACE_CFG trace_cfg /* the data section of trace_rate, see the end */
#define BL_MAP_SVC_FRONTENDS svc_frontends
#define BL_MAP_SVC_BACKENDS svc_backends
#define BL_MAP_SVC_AFFINITY svc_affinity
#define BL_MAP_SVC_STATS svc_stats
#define BL_PROG_FROM_POD from_pod
#define BL_PROG_FROM_UPLINK from_uplink
#define BL_PROG_TO_POD to_pod
#define BL_PIN(name) BL_PIN_STR_(name)
#define BL_PIN_STR_(name) #name
#define BL_PIN_LINKS "links" /* the folder of the tcx links */

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
	union {
		struct {
			__u16 slot; /* index into ep_stats; 0: not counted */
			/*
			 * BL_EP_*, set by the datapath itself: which of the
			 * pod's packets belong to flows whose state is kept
			 * (and must be looked up) even where the path needs
			 * none otherwise. Pod add inserts 0.
			 */
			__u16 flags;
		};
		/*
		 * The two as one word, for setting flags with an atomic OR
		 * (BPF has no 16-bit atomics): flags are its upper half on
		 * the little-endian machines BPF runs on here.
		 */
		__u32 slot_flags;
	};
};
_Static_assert(sizeof(struct bl_endpoint) == 24, "bl_endpoint layout");

/*
 * The pod sends replies of flows with state: it is the backend of service
 * flows (its replies take the service's address), or the host stack
 * delivered it connections netfilter translated (its replies go back
 * through the host). from_pod looks its packets up in the NAT table before
 * handing them to a local pod or routing them in the cluster.
 */
#define BL_EP_TX_TRACKED (1u << 0)
/*
 * The pod is the client of service flows to backends on other nodes: the
 * replies come in on the uplink and take the service's address there.
 */
#define BL_EP_RX_TRACKED (1u << 1)
/*
 * The pod's traffic to a service address went to the host stack (no BPF
 * service for it: kube-proxy's): replies coming in on the uplink are asked
 * whether netfilter translated their flow here, and then go to the host.
 */
#define BL_EP_HOST_NAT (1u << 2)
#define BL_EP_FLAGS_SHIFT 16 /* of the flags in slot_flags */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "slot_flags: flags are the upper half");

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
	__u32 flags; /* BL_CFG_* */
	__u16 nat_port_min; /* host byte order, inclusive */
	__u16 nat_port_max;
	/*
	 * Forwarding generation: user space moves it on whenever what the
	 * datapath may have cached from the FIB could be out of date (`node
	 * init`); NAT entries cached under another generation look up again.
	 */
	__u32 fwd_gen;
	/*
	 * Service CIDRs (--service-cidr, at most BL_MAX_SVC_CIDRS; a zero
	 * mask ends the list): pod traffic to them is a service's, either
	 * load-balanced here (svc_frontends) or handed to the host stack.
	 */
	__be32 svc_cidr[2];
	__be32 svc_mask[2];
};
_Static_assert(sizeof(struct bl_config) == 60, "bl_config layout");
#define BL_MAX_SVC_CIDRS 2

#define BL_CFG_MASQUERADE (1u << 0) /* SNAT pod traffic leaving the cluster */
/*
 * Services are load-balanced in BPF (the agent fills svc_frontends); a
 * service address without a frontend still goes to the host stack.
 */
#define BL_CFG_SERVICES (1u << 1)

/*
 * nomasq: destinations pod traffic reaches with its own source address
 * (the cluster CIDR and every --no-masquerade prefix). LPM trie key.
 */
struct bl_prefix_key {
	__u32 prefixlen;
	__u8 ip[4];
};

/*
 * nat: one LRU table holding both directions of every SNAT mapping. The
 * egress entry is keyed by the tuple as the pod sent it; the ingress entry by
 * the tuple of a reply as it arrives on the uplink. Ports are in host byte
 * order so bpftool shows them as they are; for ICMP echo the identifier plays
 * the port of the pod's side (egress sport, ingress dport), the other is 0.
 */
enum bl_nat_dir { BL_DIR_EGRESS = 1, BL_DIR_INGRESS = 2 };

struct bl_nat_key {
	__u8 saddr[4];
	__u8 daddr[4];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 dir; /* enum bl_nat_dir */
	__u16 pad;
};
_Static_assert(sizeof(struct bl_nat_key) == 16, "bl_nat_key layout");

/* TCP flags seen in an entry's direction, for the collector's timeouts */
#define BL_NAT_SEEN_SYN (1u << 0)
#define BL_NAT_SEEN_FIN (1u << 1)
#define BL_NAT_SEEN_RST (1u << 2)
/*
 * An egress entry for replies to a connection that came in from outside
 * (uplink -> pod, no NAT): the replies must leave with the pod's own address,
 * as netfilter NAT decides per connection, not per packet. No ingress partner.
 */
#define BL_NAT_INBOUND (1u << 3)
/*
 * Like INBOUND, but the connection reached the pod through the host stack
 * (seen on the host veth's egress, e.g. hostPort DNAT): replies go back to
 * the host stack so netfilter can undo its own translation.
 */
#define BL_NAT_VIA_HOST (1u << 4)
/* Entries of inbound flows stand alone, with no ingress partner. */
#define BL_NAT_UNPAIRED (BL_NAT_INBOUND | BL_NAT_VIA_HOST)

/*
 * Service flows live in the same table (DNAT is NAT too), as two entries:
 * - SVC_FWD: egress entry keyed by the client's tuple, client -> service
 *   address and port; addr/port: the backend chosen for the connection.
 * - SVC_REPLY: keyed by the backend's reply tuple, backend -> client;
 *   addr/port: the service address and port the client sees. An egress
 *   entry where the backend is a pod of this node (from_pod finds it), an
 *   ingress entry where the reply comes in on the uplink (SVC_REMOTE).
 * - SVC_HAIRPIN: the client is its own backend. Its packets reach itself
 *   from the service address (as source) and client port, so that the pod
 *   sees neither its own address as a source nor its reply short-circuited:
 *   the reply entry is keyed backend -> service address, client port.
 * The forward entry carries its reply entry's HAIRPIN and REMOTE bits too,
 * so that either half leads to the other.
 */
#define BL_NAT_SVC_FWD (1u << 0)
#define BL_NAT_SVC_REPLY (1u << 1)
#define BL_NAT_SVC_HAIRPIN (1u << 2)
#define BL_NAT_SVC_REMOTE (1u << 3)

struct bl_nat_entry {
	__u8 addr[4]; /* egress: node IP; ingress: pod IP */
	__u16 port; /* egress: node port; ingress: pod port (host order) */
	__u8 seen; /* BL_NAT_SEEN_* */
	__u8 svc; /* BL_NAT_SVC_*: an entry of a service flow */
	__u64 created_ns; /* CLOCK_MONOTONIC (at tick resolution) */
	__u64 last_seen_ns;
	__u64 packets;
	/*
	 * Egress entries of translated flows and of inbound flows
	 * (BL_NAT_INBOUND, for their replies): the FIB's answer for the flow,
	 * so that its packets skip bpf_fib_lookup(). Used while fwd_gen is the
	 * config's, fwd_ns is less than BL_NAT_FWD_MAX_AGE_NS old and the
	 * packet fits fwd_mtu; looked up again otherwise. An unresolved
	 * neighbour is never cached (bpf_redirect_neigh resolves it).
	 */
	__u64 fwd_ns; /* when it was looked up; 0: nothing cached */
	__u32 fwd_gen; /* bl_config.fwd_gen at the lookup */
	__u32 fwd_ifindex; /* where to send */
	__u8 fwd_dmac[6]; /* the next hop's MAC */
	__u16 fwd_mtu; /* MTU of fwd_ifindex (at most 65535) */
	__u8 fwd_smac[6]; /* fwd_ifindex's own MAC */
	__u16 svc_id; /* SVC_FWD entries: the service (svc_stats) */
};
_Static_assert(sizeof(struct bl_nat_entry) == 64, "bl_nat_entry layout");
/*
 * How long a cached forwarding decision is trusted without a new FIB lookup:
 * route and neighbour changes user space does not announce (no fwd_gen
 * change) reach an established flow within this time.
 */
#define BL_NAT_FWD_MAX_AGE_NS 1000000000ull

/*
 * Services (BL_CFG_SERVICES): the agent's service table, load-balanced in
 * from_pod. A frontend is a service address, port and protocol; its
 * backends are (id, rev, 0..count-1) in svc_backends. The agent writes a
 * changed set under a new revision, then the frontend (one atomic map
 * update), then deletes the old revision: a packet sees the old set or the
 * new one, never an empty or half-written one.
 */
struct bl_svc_key {
	__u8 addr[4];
	__u16 port; /* host byte order */
	__u8 proto; /* IPPROTO_TCP, _UDP, _SCTP */
	__u8 pad;
};
_Static_assert(sizeof(struct bl_svc_key) == 8, "bl_svc_key layout");

struct bl_svc {
	__u32 id; /* 1..BL_MAX_SERVICES-1: backends' key, svc_stats index */
	__u16 rev; /* revision of the backend set in use */
	__u16 count; /* backends of that revision; 0: refuse (no endpoint) */
	__u32 affinity_s; /* sessionAffinity ClientIP timeout; 0: none */
	__u32 flags; /* BL_SVC_* */
};
_Static_assert(sizeof(struct bl_svc) == 16, "bl_svc layout");

/* The backends are terminating ones: no ready endpoint is left. */
#define BL_SVC_TERMINATING (1u << 0)
/* internalTrafficPolicy: Local (only this node's endpoints are backends). */
#define BL_SVC_LOCAL (1u << 1)
/*
 * No backend here, but endpoints elsewhere (Local policy): new connections
 * are dropped, as kube-proxy does, instead of refused.
 */
#define BL_SVC_DROP (1u << 2)

struct bl_svc_backend_key {
	__u32 id;
	__u16 rev;
	__u16 slot;
};
_Static_assert(sizeof(struct bl_svc_backend_key) == 8, "bl_svc_backend_key layout");

struct bl_svc_backend {
	__u8 addr[4];
	__u16 port; /* host byte order */
	__u16 pad;
};
_Static_assert(sizeof(struct bl_svc_backend) == 8, "bl_svc_backend layout");

/* svc_affinity: sessionAffinity ClientIP, the backend a client had last. */
struct bl_svc_affinity_key {
	__u8 client[4];
	__u32 id;
};
struct bl_svc_affinity {
	__u8 addr[4];
	__u16 port;
	__u16 slot; /* its slot in the backend set */
	__u64 last_ns; /* nat_now() of the client's last new connection */
};
#define BL_SVC_AFFINITY_MAX 65536

/* svc_stats: per CPU and service id, what each service did. */
struct bl_svc_stats {
	__u64 packets; /* translated towards a backend */
	__u64 bytes;
	__u64 flows; /* new connections */
	__u64 refused; /* refused: no usable endpoint */
};
#define BL_SVC_MAX_DEFAULT 16384 /* frontends (and ids) */
#define BL_SVC_BACKENDS_MAX_DEFAULT 131072 /* backend slots, all revisions */
/*
 * Hairpin flows (a pod that is its own backend) reach the pod from the
 * service address; a connection to itself is not a local address's.
 */

/*
 * frags: the later fragments of a translated reply carry no ports; the first
 * fragment leaves where they go, keyed by what all fragments share.
 */
struct bl_frag_key {
	__u8 saddr[4];
	__u8 daddr[4];
	__u16 id; /* IP identification, network byte order */
	__u8 proto;
	__u8 pad;
};

struct bl_frag_entry {
	__u8 pod_ip[4];
};
#define BL_MAX_FRAGS 4096

/* Idle timeouts of the collector (`bridgeless nat gc`), in seconds. */
#define BL_NAT_TIMEOUT_TCP_SYN 60
#define BL_NAT_TIMEOUT_TCP_ESTABLISHED 21600
#define BL_NAT_TIMEOUT_TCP_CLOSING 10
#define BL_NAT_TIMEOUT_UDP 60
#define BL_NAT_TIMEOUT_ICMP 30

/*
 * Counters, one per reason: what happened to a packet. Drops and verdicts
 * share the table so `bridgeless stats` shows the whole picture. The name is
 * what user space prints; the X-macro keeps the enum and names in one place.
 * Append only: the index is the key in the pinned counters map.
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
	X(PASS_FIB, 0, "pass: fib cannot forward, host stack answers")       \
	X(DROP_NO_CONFIG, 1, "drop: node not configured")                     \
	X(NAT_EGRESS, 0, "nat: pod to outside translated (SNAT)")             \
	X(NAT_NEW, 0, "nat: new mapping created")                             \
	X(NAT_INGRESS, 0, "nat: reply translated back to pod")                \
	X(NAT_ICMP_ERROR, 0, "nat: ICMP error translated back to pod")        \
	X(NAT_REVERSE_MISS, 0, "nat: packet to a NAT port with no mapping")   \
	X(DROP_NAT_NO_PORT, 1, "nat: no free port")                           \
	X(DROP_NAT_UNSUPPORTED, 1, "nat: protocol cannot be translated")      \
	X(NAT_INBOUND_REPLY, 0, "nat: reply to an inbound flow, not translated") \
	X(PASS_NAT_VIA_HOST, 0, "pass: reply to a flow the host delivered, to host") \
	X(EVENTS_LOST, 0, "monitor: event not sent, ring buffer full")     \
	X(NAT_ICMP_ERROR_OUT, 0, "nat: pod's ICMP error translated to outside") \
	X(DROP_NAT_ICMP_NO_FLOW, 1, "nat: pod's ICMP error about no known flow") \
	X(NAT_HALF_RESTORED, 0, "nat: mapping's evicted half put back")       \
	X(NAT_STALE_REPLACED, 0, "nat: mapping whose port another flow took, replaced") \
	X(SVC_DNAT, 0, "svc: pod to service, sent to its backend")           \
	X(SVC_NEW, 0, "svc: new connection, backend chosen")                 \
	X(SVC_REPLY, 0, "svc: backend's reply, from the service address")     \
	X(SVC_ICMP_ERROR, 0, "svc: ICMP error about a service flow translated") \
	X(SVC_REFUSED, 1, "svc: refused, no usable endpoint (ICMP unreachable)") \
	X(DROP_SVC_BACKEND, 1, "svc: backend slot missing (set changing)")   \
	X(PASS_SVC_HOST, 0, "pass: service address without BPF frontend, to host") \
	X(PASS_HOST_NAT, 0, "pass: reply of a flow netfilter translated, to host") \
	X(DROP_SVC_NO_LOCAL, 1, "svc: internalTrafficPolicy Local, no endpoint on this node")

#define BL_ENUM_ENTRY(name, is_drop, text) BL_##name,
enum bl_counter { BL_COUNTERS(BL_ENUM_ENTRY) BL_COUNTER_MAX };
#undef BL_ENUM_ENTRY
/*
 * The counters map has room to spare, so a newer datapath with more reasons
 * can adopt the pinned map of an older one (same definition) on upgrade.
 */
#define BL_COUNTER_SLOTS 64
_Static_assert(BL_COUNTER_MAX <= BL_COUNTER_SLOTS, "counter slots");

struct bl_counter_val {
	__u64 packets;
	__u64 bytes;
};

/*
 * ep_stats: per-CPU packets and bytes of each pod, indexed by the slot in its
 * endpoint entry. rx is what the datapath (or the host stack) delivered to
 * the pod, tx what the pod sent that passed anti-spoofing. Slot 0 is never
 * given to a pod: an endpoint without a slot counts there, unseen.
 */
#define BL_MAX_EP_SLOTS 4096

struct bl_ep_stats {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
};

/*
 * events: a ring buffer of drop events (every drop) and, while `bridgeless
 * monitor --trace` runs, sampled trace events of forwarded packets. Where an
 * event cannot be queued (ring full: nobody reading, or reading too slowly)
 * the EVENTS_LOST counter moves instead.
 */
#define BL_EVENTS_RING_SIZE (256 * 1024)

#define BL_EVENT_DROP 1u
#define BL_EVENT_TRACE 2u

struct bl_event {
	__u64 time_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 ifindex; /* where the packet came in (tc ingress device) */
	__u32 out_ifindex; /* trace: where it was sent; 0: the host stack */
	__u32 len; /* skb->len, Ethernet header included */
	__u16 reason; /* enum bl_counter */
	__u8 flags; /* BL_EVENT_DROP or BL_EVENT_TRACE */
	__u8 proto; /* IPv4 protocol; 0 if not IPv4 */
	__u8 saddr[4]; /* IPv4 source; ARP: sender address */
	__u8 daddr[4]; /* IPv4 destination; ARP: target address */
	__u16 sport; /* host byte order; ICMP: type; ARP: operation */
	__u16 dport; /* host byte order; ICMP: code */
	__u16 ethertype; /* host byte order */
	__u16 pad;
};
_Static_assert(sizeof(struct bl_event) == 40, "bl_event layout");

/*
 * trace_cfg: the sampling switch of trace events, the global variable
 * `__u32 trace_rate` (1 in N forwarded packets; 0: off). It lives in a data
 * section of its own, so the forward path reads it with one load (no map
 * lookup) and pays one predicted branch while it is 0; user space sees it as
 * a one-element array map pinned as trace_cfg whose value is that __u32.
 */

#endif /* BRIDGELESS_H */
