#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The clsact fallback of kernels without tcx, forced with BRIDGELESS_ATTACH=tc:
# the programs go on as tc filters and pods talk through them; `node reset`
# removes the uplink's clsact qdisc that node init created, and leaves one
# that was there before init, or one somebody else put a filter on since.
TEST=tc_fallback
. "$(dirname "$0")/lib.sh"
require_bin
require_cmd jq tc
mount_bpffs
export BRIDGELESS_ATTACH=tc

make_ext_and_node n1 || abort "topology"

clsact_on() { ndx tc qdisc show dev "$1" | grep -q '^qdisc clsact'; }
no_clsact_on() { ! clsact_on "$1"; }
bpf_filter_on() { ndx tc filter show dev "$1" "$2" | grep -q ' bpf '; }

# --- init on a bare uplink: our clsact qdisc, tc filters, traffic -----------------
node_init n1 >/dev/null || abort "node init: $(node_init n1 2>&1 | tail -1)"
mode=$(bl node status --json | jq -r .attach)
check init_mode_tc "attach mode $mode" [ "$mode" = tc ]
check init_uplink_filter "uplink: $(ndx tc filter show dev uplink ingress | head -3)" \
	bpf_filter_on uplink ingress
mkpod a >/dev/null && mkpod b >/dev/null || abort "pod add"
host_a=$(podinfo a host_ifname)
check pod_filters "$host_a: $(ndx tc filter show dev "$host_a" ingress | head -2)" \
	bpf_filter_on "$host_a" ingress
check pod_to_pod "a cannot ping b over tc filters" ping_ok "$(pod_ns a)" "$(pod_ip b)" 3
bl pod del a && bl pod del b || fail pod_del "pod del failed"
bl node reset || abort "node reset"
check reset_removes_own_clsact "uplink still has: $(ndx tc qdisc show dev uplink | tr '\n' ' ')" \
	no_clsact_on uplink

# --- a clsact qdisc that was there before init: ours is only the filter -------------
ndx tc qdisc add dev uplink clsact || abort "tc qdisc add"
node_init n1 >/dev/null || abort "node init (clsact there)"
bl node reset || abort "node reset (clsact there)"
why=""
clsact_on uplink || why="$why; the clsact qdisc that was there went"
bpf_filter_on uplink ingress && why="$why; our filter stayed"
check reset_keeps_foreign_clsact "${why#; }" [ -z "$why" ]
ndx tc qdisc del dev uplink clsact

# --- ours, but somebody else's filter is on it now: both stay -----------------------
node_init n1 >/dev/null || abort "node init (again)"
# u32 matching everything, no action (matchall is not built on every kernel)
ndx tc filter add dev uplink egress prio 7 protocol all u32 match u32 0 0 || abort "tc filter add"
bl node reset || abort "node reset (filter of others)"
why=""
clsact_on uplink || why="$why; clsact qdisc removed with a filter of others on it"
ndx tc filter show dev uplink egress | grep -q ' u32 ' || why="$why; their filter is gone"
bpf_filter_on uplink ingress && why="$why; our filter stayed"
check reset_keeps_clsact_in_use "${why#; }" [ -z "$why" ]
ndx tc qdisc del dev uplink clsact

finish
