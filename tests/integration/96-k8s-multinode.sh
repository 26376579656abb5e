#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Native routing between nodes with the routes learned from the Kubernetes
# API (95-agent-multinode.sh does it from the peers file): the test API
# server in the ext namespace holds the Nodes, one agent per node lists and
# watches them (kubeconfig with a token file). Pod to pod across nodes
# keeps the source address, pod to ext is SNATed. A Node deleted on the API
# loses its route (and its pods their reach), one added back gets it, a new
# InternalIP replaces it, each within a second or so; watches that break and
# an API that goes away change no route, and the pods keep talking. A third
# node's agent waits for its Node to get a podCIDR, takes it (and its uplink
# by the node IP), as the DaemonSet does. The routes outlive the agents.
TEST=k8s_multinode
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent-lib.bash"
. "$(dirname "$0")/k8s-lib.bash"
require_bin
require_cmd jq iperf3 ping openssl curl
[ -x "$PY" ] || { skip all "python3 not installed (tools/install-deps)"; exit 0; }
mount_bpffs

make_ext_and_node n1 || abort "topology n1"
make_ext_and_node n2 || abort "topology n2"
k8s_server_start || abort "API server: $(cat "$K8S_DIR/server.log")"
echo "$K8S_TOKEN" >"$TMPD/token"
k8s_kubeconfig "$TMPD/kubeconfig" --token-file "$TMPD/token"
N1=$(node_json n1 10.244.1.0/24 198.51.100.2)
N2=$(node_json n2 10.244.2.0/24 198.51.100.3)
k8s_apply "$N1" "$N2" "$(node_json joining "" 198.51.100.9)" || abort "apply nodes"

node_init n1 10.244.1.0/24 >/dev/null || abort "node init n1"
node_init n2 10.244.2.0/24 >/dev/null || abort "node init n2"
for p in a1 a2; do mkpod_on n1 $p >/dev/null || abort "pod $p"; done
for p in b1 b2; do mkpod_on n2 $p >/dev/null || abort "pod $p"; done
A1=$(pod_ip a1)
A2=$(pod_ip a2)
B1=$(pod_ip b1)
B2=$(pod_ip b2)

check no_route_without_agent "a1 reached b1 before any route was installed" \
	ping_none "$(pod_ns a1)" "$B1" 2

for n in n1 n2; do
	agent_start $n "$TMPD/$n.log" --config /dev/null --node-name $n \
		--kubeconfig "$TMPD/kubeconfig" --reconcile-interval 0.5 --metrics off
done
agent_ready n1 "$TMPD/n1.log" && agent_ready n2 "$TMPD/n2.log" ||
	abort "agents did not start: $(tail -2 "$TMPD/n1.log" "$TMPD/n2.log")"
R1="10.244.2.0/24 via 198.51.100.3"
R2="10.244.1.0/24 via 198.51.100.2"

if wait_for 10 has_routes n1 "$R1" && wait_for 5 has_routes n2 "$R2"; then
	pass routes_from_api
else
	fail routes_from_api "n1: $(routes n1 | tr '\n' ' '); n2: $(routes n2 | tr '\n' ' ')"
fi
check routes_from_api_logged "$(grep -E 'k8s: nodes: listed|route' "$TMPD/n1.log" | tr '\n' '|')" \
	grep -q 'info: k8s: nodes: listed 3 at resourceVersion' "$TMPD/n1.log"
check joining_node_logged "no word about the node without a podCIDR: $(grep joining "$TMPD/n1.log")" \
	grep -q 'info: peers: node joining has no IPv4 podCIDR; no route yet' "$TMPD/n1.log"
check ping_across_nodes "a1 -> b1 ($B1) failed" ping_ok "$(pod_ns a1)" "$B1" 3
check ping_across_nodes_back "b2 -> a2 ($A2) failed" ping_ok "$(pod_ns b2)" "$A2" 3

# seen_by SRV-NS CLIENT-NS DST PORT: the client address a TCP server in
# SRV-NS saw (iperf3's JSON, through a file: bg_in's stdout is ours)
seen_by() {
	local f=$TMPD/iperf-$4.json
	bg_in "$1" 20 iperf3 -s -1 -p "$4" -J --logfile "$f"
	local pid=$LAST_PID
	wait_listen "$1" "$4" || { echo "no server"; return; }
	nsenter --net="/run/netns/$2" timeout 15 iperf3 -c "$3" -p "$4" -t 1 >/dev/null 2>&1
	wait "$pid" 2>/dev/null
	jq -r '.start.connected[0].remote_host // "none"' "$f" 2>/dev/null || echo "unreadable"
}
seen=$(seen_by "$(pod_ns b1)" "$(pod_ns a1)" "$B1" 5311)
check source_ip_kept "b1's server saw $seen, want a1's $A1" [ "$seen" = "$A1" ]
seen=$(seen_by "$EXT" "$(pod_ns b2)" 198.51.100.1 5312)
check snat_to_ext "ext's server saw $seen, want n2's 198.51.100.3" [ "$seen" = 198.51.100.3 ]

# --- the Nodes change on the API ----------------------------------------------------------
lat=()
k8s_delete nodes n2
if timed has_routes n1 "" && grep -q 'info: peers: removed route 10.244.2.0/24 via 198.51.100.3' "$TMPD/n1.log"; then
	pass node_deleted_route_removed
	lat+=("deleted $ELAPSED")
else
	fail node_deleted_route_removed "n1: $(routes n1 | tr '\n' ' ') $(tail -1 "$TMPD/n1.log")"
fi
check node_deleted_unreachable "a1 still reaches b1 with n2 gone from the API" \
	ping_none "$(pod_ns a1)" "$B1" 2
k8s_apply "$N2"
if timed has_routes n1 "$R1" && ping_ok "$(pod_ns a1)" "$B1" 2; then
	pass node_back_routed
	lat+=("added $ELAPSED")
else
	fail node_back_routed "n1: $(routes n1 | tr '\n' ' ') $(tail -1 "$TMPD/n1.log")"
fi
k8s_apply "$(node_json n2 10.244.2.0/24 198.51.100.7)"
if timed has_routes n1 "10.244.2.0/24 via 198.51.100.7" &&
	grep -q 'info: peers: replaced route 10.244.2.0/24 via 198.51.100.7 (node n2)' "$TMPD/n1.log"; then
	pass node_new_ip_route_replaced
	lat+=("new InternalIP $ELAPSED")
else
	fail node_new_ip_route_replaced "n1: $(routes n1 | tr '\n' ' ') $(tail -1 "$TMPD/n1.log")"
fi
k8s_apply "$N2"
wait_for 5 has_routes n1 "$R1"
diag "Node event -> route (includes the test's 0.1 s polling): ${lat[*]}"

# --- broken watches, then no API at all: no route moves, pods keep talking ----------------------
mark=$(($(wc -l <"$TMPD/n1.log") + 1))
k8s_ctl "/drop?how=reset"
sleep 1
k8s_ctl "/drop?how=cut"
sleep 1
k8s_ctl /down
wait_log "$TMPD/n1.log" 'warn: k8s: nodes: (watch|list): ' 10
bg_in "$(pod_ns a1)" 20 ping -q -n -c 20 -i 0.1 -W 1 -w 6 "$B1" >/dev/null
pinger=$LAST_PID
sleep 2.5
k8s_ctl /up
wait "$pinger"
rc=$?
check api_down_pods_talk "a1 -> b1 lost pings while the API was down (ping rc $rc)" test "$rc" = 0
flaps=$(tail -n +"$mark" "$TMPD/n1.log" | grep -cE 'peers: (added|removed|replaced) route')
check api_down_no_flap "route changes while watches broke and the API was away: $flaps" \
	test "$flaps" = 0 -a "$(routes n1)" = "$R1"
k8s_apply "$(node_json n4 10.244.4.0/24 198.51.100.5)"
check api_back_events "n1: $(routes n1 | tr '\n' ' ')" wait_for 20 has_routes n1 \
	"$(printf '%s\n10.244.4.0/24 via 198.51.100.5' "$R1")"
k8s_delete nodes n4
wait_for 5 has_routes n1 "$R1"

# --- a third node: its agent waits for the Node's podCIDR, as a DaemonSet's first start ------------
make_ext_and_node n3 || abort "topology n3"
k8s_apply "$(node_json n3 "" 198.51.100.4)"
agent_start n3 "$TMPD/n3.log" --config /dev/null --node-name n3 --kubeconfig "$TMPD/kubeconfig" \
	--node-ip 198.51.100.4 --uplink auto --cluster-cidr 10.244.0.0/16 --reconcile-interval 0.5 \
	--metrics off
wait_log "$TMPD/n3.log" 'warn: agent: waiting for node n3 with a podCIDR from the Kubernetes API' 10
check pod_cidr_waited "$(tail -2 "$TMPD/n3.log" | tr '\n' '|')" \
	test -z "$(bln n3 node status --json 2>/dev/null | jq -r '.pod_cidr // empty' 2>/dev/null)"
k8s_apply "$(node_json n3 10.244.3.0/24 198.51.100.4)"
if agent_ready n3 "$TMPD/n3.log" &&
	[ "$(bln n3 node status --json | jq -r '.pod_cidr + " " + .uplink')" = "10.244.3.0/24 uplink" ] &&
	grep -q 'info: agent: pod CIDR 10.244.3.0/24 from node n3 (the Kubernetes API' "$TMPD/n3.log"; then
	pass pod_cidr_from_api
else
	fail pod_cidr_from_api "$(bln n3 node status --json | jq -c .) $(tail -2 "$TMPD/n3.log")"
fi
mkpod_on n3 c1 >/dev/null || abort "pod c1"
C1=$(pod_ip c1)
if wait_for 5 has_routes n3 "$(printf '%s\n%s' "$R2" "$R1")" &&
	wait_for 5 has_routes n1 "$(printf '%s\n10.244.3.0/24 via 198.51.100.4' "$R1")" &&
	ping_ok "$(pod_ns a1)" "$C1" 2 && ping_ok "$(pod_ns c1)" "$B2" 2; then
	pass third_node_routed
else
	fail third_node_routed "n1: $(routes n1 | tr '\n' ' '); n3: $(routes n3 | tr '\n' ' ')"
fi

# --- agents stop; routes and forwarding stay --------------------------------------------------
for n in n1 n2 n3; do agent_kill $n TERM; done
check routes_outlive_agent "a1 -> b1 failed after the agents stopped: $(routes n1 | tr '\n' ' ')" \
	ping_ok "$(pod_ns a1)" "$B1" 2

finish
