#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Native routing between nodes: two node namespaces on the shared ext segment,
# two pods each, one agent per node reading a peers file shaped like
# `kubectl get nodes -o json`. Each agent routes the other node's pod CIDR via
# its InternalIP (proto 199) and skips itself. Pod to pod across nodes keeps
# the pod's source address (the receiving pod's TCP server sees the sender's
# pod IP); pod to ext is SNATed to the node IP. The file is re-read when it
# changes: a node that leaves loses its route, one that comes back (as a bare
# array of Nodes this time) gets it again, a new InternalIP replaces it; a
# broken file keeps the routes; stale routes of ours go, other routes stay;
# a peer prefix outside the cluster CIDR or over a network of the node (the
# uplink's subnet, an address on lo) is refused with one line and no route.
# A third node's agent takes its pod CIDR from the peers file by node name
# and finds its uplink by the node IP, as in the DaemonSet.
TEST=agent_multinode
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_bin
require_cmd jq iperf3 ping
mount_bpffs

make_ext_and_node n1 || abort "topology n1"
make_ext_and_node n2 || abort "topology n2"
PEERS=$TMPD/peers/nodes.json
mkdir -p "$TMPD/peers"

# node_json NAME CIDR IP: one Node object
node_json() {
	jq -n --arg n "$1" --arg c "$2" --arg ip "$3" '{
		apiVersion: "v1", kind: "Node", metadata: { name: $n },
		spec: ({ podCIDR: $c, podCIDRs: [$c] } | if $c == "" then {} else . end),
		status: { addresses: [{ type: "InternalIP", address: $ip },
				       { type: "Hostname", address: $n }] } }'
}
# write_peers [--array] NODE-JSON...: replace the peers file atomically
write_peers() {
	local array=0
	[ "$1" = --array ] && { array=1; shift; }
	if [ $array = 1 ]; then
		printf '%s\n' "$@" | jq -s . >"$PEERS.tmp"
	else
		printf '%s\n' "$@" | jq -s '{ apiVersion: "v1", kind: "NodeList", items: . }' >"$PEERS.tmp"
	fi
	mv "$PEERS.tmp" "$PEERS"
}
N1=$(node_json n1 10.244.1.0/24 198.51.100.2)
N2=$(node_json n2 10.244.2.0/24 198.51.100.3)
N3=$(node_json n3 10.244.3.0/24 198.51.100.4)
NEW=$(node_json joining "" 198.51.100.9) # no podCIDR yet
write_peers "$N1" "$N2" "$NEW"

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
	agent_start $n "$TMPD/$n.log" --config /dev/null --node-name $n --peers "$PEERS" \
		--reconcile-interval 0.5
done
agent_ready n1 "$TMPD/n1.log" && agent_ready n2 "$TMPD/n2.log" ||
	abort "agents did not start: $(tail -2 "$TMPD/n1.log" "$TMPD/n2.log")"

# routes NODE: our routes in NODE, "dst via gw" a line
routes() { ndx "$1" ip -4 route show proto 199 | awk '{ print $1, $2, $3 }' | sort; }
has_routes() { [ "$(routes "$1")" = "$2" ]; }

if wait_for 5 has_routes n1 "10.244.2.0/24 via 198.51.100.3" &&
	wait_for 5 has_routes n2 "10.244.1.0/24 via 198.51.100.2"; then
	pass routes_installed
else
	fail routes_installed "n1: $(routes n1 | tr '\n' ' '); n2: $(routes n2 | tr '\n' ' ')"
fi
check route_dev_uplink "n1's route: $(ndx n1 ip -4 route show proto 199)" \
	test "$(ndx n1 ip -4 route show proto 199 | grep -c 'dev uplink')" = 1
check self_skipped "n1 has a route to its own pod CIDR: $(ndx n1 ip -4 route show 10.244.1.0/24)" \
	test -z "$(ndx n1 ip -4 route show 10.244.1.0/24 proto 199)"
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
seen=$(seen_by "$(pod_ns b1)" "$(pod_ns a1)" "$B1" 5301)
check source_ip_kept_a1_to_b1 "b1's server saw $seen, want a1's $A1" [ "$seen" = "$A1" ]
seen=$(seen_by "$(pod_ns a2)" "$(pod_ns b2)" "$A2" 5302)
check source_ip_kept_b2_to_a2 "a2's server saw $seen, want b2's $B2" [ "$seen" = "$B2" ]
seen=$(seen_by "$EXT" "$(pod_ns a1)" 198.51.100.1 5303)
check snat_a1_to_ext "ext's server saw $seen, want n1's 198.51.100.2" [ "$seen" = 198.51.100.2 ]
seen=$(seen_by "$EXT" "$(pod_ns b2)" 198.51.100.1 5304)
check snat_b2_to_ext "ext's server saw $seen, want n2's 198.51.100.3" [ "$seen" = 198.51.100.3 ]

# --- the file changes ---------------------------------------------------------------
write_peers "$N1"
if wait_for 5 has_routes n1 "" && grep -q 'info: peers: removed route 10.244.2.0/24 via 198.51.100.3' "$TMPD/n1.log"; then
	pass peer_left_route_removed
else
	fail peer_left_route_removed "n1: $(routes n1 | tr '\n' ' ') $(tail -1 "$TMPD/n1.log")"
fi
check peer_left_unreachable "a1 still reaches b1 with n2 gone from the file" \
	ping_none "$(pod_ns a1)" "$B1" 2
write_peers --array "$N1" "$N2"
if wait_for 5 has_routes n1 "10.244.2.0/24 via 198.51.100.3" && ping_ok "$(pod_ns a1)" "$B1" 2; then
	pass peer_back_bare_array
else
	fail peer_back_bare_array "n1: $(routes n1 | tr '\n' ' ') $(tail -1 "$TMPD/n1.log")"
fi
write_peers "$N1" "$(node_json n2 10.244.2.0/24 198.51.100.7)"
if wait_for 5 has_routes n1 "10.244.2.0/24 via 198.51.100.7" &&
	grep -q 'info: peers: replaced route 10.244.2.0/24 via 198.51.100.7 (node n2)' "$TMPD/n1.log"; then
	pass peer_new_ip_route_replaced
else
	fail peer_new_ip_route_replaced "n1: $(routes n1 | tr '\n' ' ') $(tail -1 "$TMPD/n1.log")"
fi
write_peers "$N1" "$N2"
wait_for 5 has_routes n1 "10.244.2.0/24 via 198.51.100.3"

echo '{"items": [ {"metadata": ' >"$PEERS.tmp" && mv "$PEERS.tmp" "$PEERS"
sleep 1.5
if grep -Eq "warn: peers: peers file $PEERS: line [0-9]+: .*; keeping the routes we have" "$TMPD/n1.log" &&
	has_routes n1 "10.244.2.0/24 via 198.51.100.3"; then
	pass broken_file_keeps_routes
else
	fail broken_file_keeps_routes "n1: $(routes n1 | tr '\n' ' ') $(tail -1 "$TMPD/n1.log")"
fi
write_peers "$N1" "$N2" "$N3"

# peers that would route the node off its own networks: refused, one line each, no route
ndx n1 ip addr add 10.244.200.1/24 dev lo
write_peers "$N1" "$N2" "$N3" "$(node_json evil 198.51.100.0/25 198.51.100.3)" \
	"$(node_json onlink 10.244.200.0/24 198.51.100.3)"
refused() {
	grep -q "warn: peers: node evil: podCIDR 198.51.100.0/25 is outside the cluster CIDR 10.244.0.0/16; not routed" "$TMPD/n1.log" &&
		grep -q "warn: peers: node onlink: podCIDR 10.244.200.0/24 overlaps 10.244.200.0/24, a network of this node; not routed" "$TMPD/n1.log"
}
if wait_for 5 refused && [ -z "$(ndx n1 ip -4 route show 198.51.100.0/25)" ] &&
	[ -z "$(ndx n1 ip -4 route show 10.244.200.0/24 proto 199)" ] &&
	ping_ok "$(pod_ns a1)" 198.51.100.1 2 && ping_ok "$(node_ns n1)" 198.51.100.1 2; then
	pass peers_off_network_refused
else
	fail peers_off_network_refused "n1 routes: $(ndx n1 ip -4 route show | tr '\n' ' '); $(grep -E 'evil|onlink' "$TMPD/n1.log" | tail -2)"
fi
n=$(grep -c "node evil: podCIDR" "$TMPD/n1.log")
sleep 1.5
check peers_refusal_said_once "said $(grep -c "node evil: podCIDR" "$TMPD/n1.log") times (was $n)" \
	[ "$(grep -c "node evil: podCIDR" "$TMPD/n1.log")" = 1 ]
write_peers "$N1" "$N2" "$N3"
ndx n1 ip addr del 10.244.200.1/24 dev lo

# stale routes of ours go, routes of others stay
ndx n1 ip route add 10.244.9.0/24 via 198.51.100.1 proto 199
ndx n1 ip route add 10.244.8.0/24 via 198.51.100.1 proto static
no_route9() { [ -z "$(ndx n1 ip -4 route show 10.244.9.0/24)" ]; }
if wait_for 5 no_route9 && [ -n "$(ndx n1 ip -4 route show 10.244.8.0/24)" ]; then
	pass stale_route_removed_others_kept
else
	fail stale_route_removed_others_kept "$(ndx n1 ip -4 route show | grep 10.244 | tr '\n' ' ')"
fi
ndx n1 ip route del 10.244.8.0/24

# --- a third node: pod CIDR from the peers file, uplink found by the node IP -------------
make_ext_and_node n3 || abort "topology n3"
agent_start n3 "$TMPD/n3.log" --config /dev/null --node-name n3 --peers "$PEERS" \
	--node-ip 198.51.100.4 --uplink auto --cluster-cidr 10.244.0.0/16 --reconcile-interval 0.5
if agent_ready n3 "$TMPD/n3.log" &&
	[ "$(bln n3 node status --json | jq -r '.pod_cidr + " " + .uplink')" = "10.244.3.0/24 uplink" ]; then
	pass pod_cidr_from_peers
else
	fail pod_cidr_from_peers "$(bln n3 node status --json | jq -c .) $(tail -2 "$TMPD/n3.log")"
fi
mkpod_on n3 c1 >/dev/null || abort "pod c1"
C1=$(pod_ip c1)
if wait_for 5 has_routes n3 "$(printf '10.244.1.0/24 via 198.51.100.2\n10.244.2.0/24 via 198.51.100.3')" &&
	wait_for 5 has_routes n1 "$(printf '10.244.2.0/24 via 198.51.100.3\n10.244.3.0/24 via 198.51.100.4')" &&
	ping_ok "$(pod_ns a1)" "$C1" 2 && ping_ok "$(pod_ns c1)" "$B2" 2; then
	pass third_node_routed
else
	fail third_node_routed "n1: $(routes n1 | tr '\n' ' '); n3: $(routes n3 | tr '\n' ' ')"
fi

# --- agents stop; routes and forwarding stay --------------------------------------------
for n in n1 n2 n3; do agent_kill $n TERM; done
check routes_outlive_agent "a1 -> b1 failed after the agents stopped: $(routes n1 | tr '\n' ' ')" \
	ping_ok "$(pod_ns a1)" "$B1" 2

finish
