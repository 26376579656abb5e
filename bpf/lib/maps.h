/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Map definitions shared by every program. Declared __weak so the static
 * linker (bpftool gen object) merges the identical copies from each
 * per-attach-point object into one map. Pinned by name under the node's pin
 * directory, so a reload reuses them with their contents; the names are the
 * shared header's BL_MAP_*, by which user space finds the pins.
 */
#ifndef BL_MAPS_H
#define BL_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "bridgeless.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BL_MAX_ENDPOINTS);
	__type(key, struct bl_endpoint_key);
	__type(value, struct bl_endpoint);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} BL_MAP_ENDPOINTS SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bl_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} BL_MAP_CONFIG SEC(".maps") __weak;

/* Destinations reached without SNAT: cluster CIDR and --no-masquerade. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BL_MAX_NOMASQ);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bl_prefix_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} BL_MAP_NOMASQ SEC(".maps") __weak;

/*
 * Both directions of every SNAT mapping; sized by `node init --nat-max`.
 * The LRU is per CPU: the CPU that makes a mapping (the pod's sending CPU)
 * makes both its entries, and evicts its own least recently used ones when
 * its share (--nat-max / possible CPUs) is full. The shared LRU instead,
 * under a sustained churn of new connections, took the entries of
 * connections still in their handshake (a new ingress entry is not yet
 * referenced) from the CPUs' pending lists: ~1% of new connections lost
 * their SYN-ACK and waited for the SYN's retransmission.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BL_NAT_MAX_DEFAULT);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct bl_nat_key);
	__type(value, struct bl_nat_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} BL_MAP_NAT SEC(".maps") __weak;

/* Services (bridgeless.h): frontends, their backends by revision. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BL_SVC_MAX_DEFAULT);
	__type(key, struct bl_svc_key);
	__type(value, struct bl_svc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} BL_MAP_SVC_FRONTENDS SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BL_SVC_BACKENDS_MAX_DEFAULT);
	__type(key, struct bl_svc_backend_key);
	__type(value, struct bl_svc_backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} BL_MAP_SVC_BACKENDS SEC(".maps") __weak;

/* sessionAffinity ClientIP: least recently used clients go first. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BL_SVC_AFFINITY_MAX);
	__type(key, struct bl_svc_affinity_key);
	__type(value, struct bl_svc_affinity);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} BL_MAP_SVC_AFFINITY SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BL_SVC_MAX_DEFAULT);
	__type(key, __u32);
	__type(value, struct bl_svc_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} BL_MAP_SVC_STATS SEC(".maps") __weak;

/* Where the later fragments of a translated reply go. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BL_MAX_FRAGS);
	__type(key, struct bl_frag_key);
	__type(value, struct bl_frag_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} BL_MAP_FRAGS SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BL_COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, struct bl_counter_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} BL_MAP_COUNTERS SEC(".maps") __weak;

/* Per-pod packets and bytes, by the slot in the pod's endpoint entry. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BL_MAX_EP_SLOTS);
	__type(key, __u32);
	__type(value, struct bl_ep_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} BL_MAP_EP_STATS SEC(".maps") __weak;

/* Drop and trace events (struct bl_event) for `bridgeless monitor`. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BL_EVENTS_RING_SIZE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} BL_MAP_EVENTS SEC(".maps") __weak;

/*
 * Not a map but a global variable in a data section of its own: libbpf makes
 * the section a one-element array map (pinned as trace_cfg by the loader),
 * and the programs read it with a plain load, no lookup. Defined once, in
 * from_pod.bpf.c: weak copies would each keep their bytes in the section.
 */
extern __u32 trace_rate;

#endif
