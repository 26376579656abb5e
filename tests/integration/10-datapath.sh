#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Forwarding: pod to pod (ping, TCP), host to pod, pod to host, gateway ARP
# after a neighbour flush, uplink to pod, pod to another node's pod through the
# uplink -- all without a bridge, each path proven by packets and by the
# datapath's own counters.
TEST=datapath
. "$(dirname "$0")/lib.sh"
require_bin
require_cmd iperf3 jq bpftool
mount_bpffs

one_node_with_pods a b
pods_ab_vars
diag "pods a=$A b=$B"

# --- pod addressing as the contract says ---
addr=$(px a ip -4 -o addr show dev eth0 | awk '{print $4}')
routes=$(px a ip -4 route show)
if [ "$addr" = "$A/32" ] && echo "$routes" | grep -q '^default via 169.254.1.1 dev eth0' &&
	echo "$routes" | grep -q '^169.254.1.1 dev eth0 .*scope link'; then
	pass pod_addressing
else
	fail pod_addressing "pod a eth0 has '$addr', routes: $routes"
fi

# --- no bridge anywhere on the node ---
br=$(nx "$NS_N" ip -d -o link show type bridge)
check no_bridge "bridge device in node ns: $br" [ -z "$br" ]

# --- pod to pod ---
before=$(counter fwd_local)
echos_b=$(pod_snmp b Icmp InEchos)
if ping_ok "$NS_A" "$B" 5; then
	pass pod_to_pod_ping
else
	fail pod_to_pod_ping "ping $A -> $B lost packets"
fi
after=$(counter fwd_local)
got=$(($(pod_snmp b Icmp InEchos) - echos_b))
# 5 requests a->b and 5 replies b->a, all through redirect_peer
if [ "$((after - before))" -ge 10 ] && [ "$got" -ge 5 ]; then
	pass fwd_local_counted
else
	fail fwd_local_counted "fwd_local +$((after - before)) (want >= 10), echos seen by b +$got"
fi

if iperf_tcp "$NS_B" "$NS_A" "$B" 2 5201; then
	pass pod_to_pod_tcp
	diag "pod to pod TCP: $IPERF_BYTES bytes"
else
	fail pod_to_pod_tcp "iperf3 $A -> $B moved nothing"
fi

# --- host (node ns) to pod, pod to host: kubelet probes ---
before=$(counter pass_host)
check host_to_pod_ping "ping from node ns to $A failed" ping_ok "$NS_N" "$A" 3
after=$(counter pass_host)
# the pod's replies go to the node's address: handed to the host stack
if [ "$((after - before))" -ge 3 ]; then
	pass host_to_pod_replies_pass_host
else
	fail host_to_pod_replies_pass_host "pass_host +$((after - before)), want >= 3"
fi
if iperf_tcp "$NS_A" "$NS_N" "$A" 1 5202; then
	pass host_to_pod_tcp
else
	fail host_to_pod_tcp "iperf3 node -> $A moved nothing"
fi
check pod_to_node_ip_ping "ping $A -> node ${NODE_IP[n1]} failed" ping_ok "$NS_A" "${NODE_IP[n1]}" 3
if iperf_tcp "$NS_N" "$NS_A" "${NODE_IP[n1]}" 1 5203; then
	pass pod_to_host_tcp
else
	fail pod_to_host_tcp "iperf3 $A -> node moved nothing"
fi

# --- ARP for the gateway answered by the datapath, also after a flush ---
px a ip neigh flush all >/dev/null 2>&1
gwn=$(px a ip neigh show 169.254.1.1 dev eth0 | grep -v FAILED)
before=$(counter arp_reply)
if [ -z "$gwn" ] && ping_ok "$NS_A" "$B" 3; then
	pass ping_after_neigh_flush
else
	fail ping_after_neigh_flush "neigh after flush: '$gwn'; ping $A -> $B after flush failed"
fi
after=$(counter arp_reply)
gwmac=$(px a ip -j neigh show 169.254.1.1 dev eth0 | jq -r '.[0].lladdr // empty')
hostmac=$(podinfo a host_mac)
if [ "$((after - before))" -ge 1 ] && [ -n "$gwmac" ] && [ "$gwmac" = "$hostmac" ]; then
	pass gateway_arp_answered
else
	fail gateway_arp_answered "arp_reply +$((after - before)), pod sees gateway at '$gwmac', host end is '$hostmac'"
fi

# --- TTL expiring at the node: the host stack answers, as a router would ---
before=$(counter pass_ttl)
tx0=$(pod_snmp a Icmp InTimeExcds)
ping_none "$NS_A" "$B" 2 -t 1
after=$(counter pass_ttl)
tx1=$(pod_snmp a Icmp InTimeExcds)
if [ "$((after - before))" -ge 2 ] && [ "$((tx1 - tx0))" -ge 1 ]; then
	pass ttl_expired_answered
else
	fail ttl_expired_answered "ping -t 1: pass_ttl +$((after - before)) (want >= 2), time exceeded received by a +$((tx1 - tx0))"
fi

# --- the host's own traffic on the uplink is untouched ---
check ext_to_node_ping "ping ext -> node ${NODE_IP[n1]} failed with the uplink program attached" \
	ping_ok "$EXT" "${NODE_IP[n1]}" 3

# --- from the uplink to a pod (traffic from other nodes / the outside) ---
nx "$EXT" ip route add 10.244.1.0/24 via "${NODE_IP[n1]}"
# pod to outside the cluster: until SNAT exists the host routes it, and with
# a route back in ext it works
check pod_to_ext_ping "ping $A -> ext 198.51.100.1 failed" ping_ok "$NS_A" 198.51.100.1 3
before=$(counter fwd_from_uplink)
echos_a=$(pod_snmp a Icmp InEchos)
check ext_to_pod_ping "ping ext -> $A failed" ping_ok "$EXT" "$A" 3
after=$(counter fwd_from_uplink)
got=$(($(pod_snmp a Icmp InEchos) - echos_a))
if [ "$((after - before))" -ge 3 ] && [ "$got" -ge 3 ]; then
	pass fwd_from_uplink_counted
else
	fail fwd_from_uplink_counted "fwd_from_uplink +$((after - before)) (want >= 3), echos seen by a +$got"
fi
if iperf_tcp "$NS_A" "$EXT" "$A" 1 5204; then
	pass ext_to_pod_tcp
else
	fail ext_to_pod_tcp "iperf3 ext -> $A moved nothing"
fi

# --- a second node on the same segment: cluster traffic leaves by the uplink ---
if make_ext_and_node n2 && node_init n2 10.244.2.0/24 >/dev/null &&
	mkpod_on n2 c >/dev/null; then
	C=$(pod_ip c)
	NS_C=$(pod_ns c)
	# host-gw style routes between the nodes, as a cluster's routing would add
	ndx n1 ip route add 10.244.2.0/24 via "${NODE_IP[n2]}"
	ndx n2 ip route add 10.244.1.0/24 via "${NODE_IP[n1]}"
	c1=$(counter fwd_cluster n1)
	u2=$(counter fwd_from_uplink n2)
	c2=$(counter fwd_cluster n2)
	u1=$(counter fwd_from_uplink n1)
	check cross_node_ping "ping $A (n1) -> $C (n2) failed" ping_ok "$NS_A" "$C" 4
	d_c1=$(($(counter fwd_cluster n1) - c1))
	d_u2=$(($(counter fwd_from_uplink n2) - u2))
	d_c2=$(($(counter fwd_cluster n2) - c2))
	d_u1=$(($(counter fwd_from_uplink n1) - u1))
	# requests: n1 fwd_cluster -> n2 fwd_from_uplink; replies the other way
	if [ "$d_c1" -ge 4 ] && [ "$d_u2" -ge 4 ] && [ "$d_c2" -ge 4 ] && [ "$d_u1" -ge 4 ]; then
		pass fwd_cluster_counted
	else
		fail fwd_cluster_counted "n1 fwd_cluster +$d_c1, n2 fwd_from_uplink +$d_u2, n2 fwd_cluster +$d_c2, n1 fwd_from_uplink +$d_u1 (want >= 4 each)"
	fi
	# no NAT between pods: the server sees the client pod's own address
	srvlog=$TMPD/iperf-c.json
	bg_in "$NS_C" 25 iperf3 -s -1 -J -p 5205 >"$srvlog" 2>&1
	srv=$LAST_PID
	if wait_listen "$NS_C" 5205 &&
		timeout 15 nsenter --net="/run/netns/$NS_A" iperf3 -c "$C" -p 5205 -t 1 \
			--connect-timeout 3000 >/dev/null 2>&1; then
		wait "$srv" 2>/dev/null
		peer=$(jq -r '.start.connected[0].remote_host // empty' "$srvlog" 2>/dev/null)
		check cross_node_tcp_no_nat "server in c saw peer '$peer', want $A" [ "$peer" = "$A" ]
	else
		fail cross_node_tcp_no_nat "iperf3 $A -> $C failed"
	fi
else
	fail cross_node_setup "second node n2 / pod c could not be set up"
fi

finish
