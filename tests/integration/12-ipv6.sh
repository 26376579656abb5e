#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# IPv6 and dual-stack, end to end, on a dual-stack topology (documentation
# and ULA prefixes only): pod addressing (/128, link-local kept, default via
# fe80::1 answered in BPF), duplicate address detection completing, ping6 and
# TCP between pods, host and pods, neighbour flush in a pod, spoofed IPv6
# source dropped, pod -> "the internet" over NAT66 (ICMPv6, TCP, UDP) and
# without it (a no-masquerade prefix), path MTU discovery through a
# 1280-byte link, two nodes over native routing, an IPv6-only node, and IPv4
# unchanged beside it all; a second node with --masquerade6 off (routable
# pod addresses: no NAT66 at all, IPv4 still masqueraded). Every path is
# shown by packets and by the datapath's own counters.
TEST=ipv6
IPV6=1
. "$(dirname "$0")/lib.sh"
require_bin
require_cmd iperf3 jq bpftool perl sockperf python3
mount_bpffs

SRV6=2001:db8:7::10      # a server on the internet (ext's lo); ext has no route to pods
NOMASQ6=2001:db8:9::10   # in a --no-masquerade prefix (ext's lo), routed back to pods
FAR6=2001:db8:18::2      # behind a 1280-byte link from ext

make_ext_and_node n1 || abort "topology"
node_init6 n1 1 --no-masquerade 2001:db8:9::/64 >/dev/null || abort "node init (dual-stack) failed"
mkpod a >/dev/null || abort "pod add a"
mkpod b >/dev/null || abort "pod add b"
A6=$(pod_ip6 a)
B6=$(pod_ip6 b)
A=$(pod_ip a)
B=$(pod_ip b)
NS_A=$(pod_ns a)
NS_B=$(pod_ns b)
NS_N=$(node_ns n1)
[ -n "$A6" ] && [ -n "$B6" ] && [ -n "$A" ] || abort "pod list --json: a='$A' a6='$A6' b6='$B6'"
diag "pods a=$A,$A6 b=$B,$B6"
for x in $SRV6 $NOMASQ6; do
	ip -n "$EXT" addr add "$x/128" dev lo || abort "address $x in ext"
done
ip -n "$EXT" -6 route add fd00:10:244::/48 via "${NODE_IP6[n1]}" proto static 2>/dev/null
# ...but only the no-masquerade prefix is answered from pods' own addresses:
# the server address SRV6 must only ever see the node's address
FARNS=$PFX-far
new_netns "$FARNS" || abort "far netns"
ip -n "$EXT" link add far0 mtu 1280 type veth peer name eth0 mtu 1280 netns "$FARNS" &&
	ip -n "$EXT" addr add 2001:db8:18::1/64 dev far0 nodad &&
	ip -n "$EXT" link set far0 up &&
	ip -n "$FARNS" addr add "$FAR6/64" dev eth0 nodad &&
	ip -n "$FARNS" link set eth0 up &&
	ip -n "$FARNS" -6 route add default via 2001:db8:18::1 || abort "far link"

# --- addressing -----------------------------------------------------------------
addrs=$(px a ip -6 -o addr show dev eth0)
routes=$(px a ip -6 route show)
hostif=$(podinfo a host_ifname)
if echo "$addrs" | grep -q "inet6 $A6/128 scope global" &&
	echo "$addrs" | grep -q 'inet6 fe80::.*/64 scope link' &&
	echo "$routes" | grep -q '^default via fe80::1 dev eth0' &&
	ndx ip -6 -o addr show dev "$hostif" | grep -q 'inet6 fe80::1/64'; then
	pass pod6_addressing
else
	fail pod6_addressing "pod a: $addrs; routes: $routes; host end: $(ndx ip -6 -o addr show dev "$hostif")"
fi
# the pod's global address is usable at once: never tentative
check pod6_address_not_tentative "pod a's $A6 is tentative: $addrs" \
	eval '! echo "$addrs" | grep "$A6" | grep -q tentative'

# bpftool shows the pod in endpoints6 by field name, its key the pod's address
dump=$(timeout 10 bpftool map dump pinned "$PIN/endpoints6" 2>&1)
ifx=$(podinfo a host_ifindex)
bytes=$(timeout 10 bpftool -j map dump pinned "$PIN/endpoints6" |
	jq -r --argjson ifx "${ifx:-0}" '.[] | select(.formatted.value.ifindex == $ifx) |
	.formatted.key.ip[] | tostring')
hex=$(for b in $bytes; do printf '%02x' "$b"; done)
want=$(python3 -c 'import ipaddress, sys; print(ipaddress.IPv6Address(sys.argv[1]).packed.hex())' "$A6")
if echo "$dump" | grep -q '"ip"' && echo "$dump" | grep -q '"ifindex"' && [ "$hex" = "$want" ]; then
	pass endpoints6_bpftool_dump
else
	fail endpoints6_bpftool_dump "key of ifindex $ifx: '$hex', want $want; dump: $(echo "$dump" | head -12 | tr '\n' ' ')"
fi

# --- duplicate address detection completes: nothing answers the pod's own address
ok=""
for _ in $(seq 40); do
	ll=$(px a ip -6 -o addr show dev eth0 scope link)
	if [ -n "$ll" ] && ! echo "$ll" | grep -qE 'tentative|dadfailed'; then
		ok=1
		break
	fi
	sleep 0.1
done
if [ -n "$ok" ]; then
	pass dad_completes
else
	fail dad_completes "pod a link-local after 4 s: '$ll'"
fi
drops=$(bl stats --json | jq '[.counters | to_entries[] | select(.key | startswith("drop_")) | .value.packets] | add')
check ndp_mld_dad_no_drops "drops after pods came up with DAD, router solicitations and MLD: $drops ($(bl stats | grep drop_ | grep -v ' 0 ' | tr '\n' ' '))" \
	[ "$drops" = 0 ]
check ndp_mld_passed_to_host "pass_ndp $(counter pass_ndp), want > 0" [ "$(counter pass_ndp)" -gt 0 ]

# --- pod to pod ------------------------------------------------------------------
f0=$(counter fwd_local)
e0=$(pod_snmp b Icmp6 InEchos 2>/dev/null)
e0=$(nx "$NS_B" awk '$1 == "Icmp6InEchos" { print $2 }' /proc/net/snmp6)
check pod6_to_pod_ping "ping6 $A6 -> $B6 failed" ping6_ok "$NS_A" "$B6" 5
e1=$(nx "$NS_B" awk '$1 == "Icmp6InEchos" { print $2 }' /proc/net/snmp6)
df=$(($(counter fwd_local) - f0))
if [ "$df" -ge 10 ] && [ "$((e1 - e0))" -ge 5 ]; then
	pass pod6_fwd_local_counted
else
	fail pod6_fwd_local_counted "fwd_local +$df (want >= 10), echos seen by b +$((e1 - e0))"
fi
if iperf_tcp "$NS_B" "$NS_A" "$B6" 2 5201; then
	pass pod6_to_pod_tcp
	diag "pod to pod TCP over IPv6: $IPERF_BYTES bytes"
else
	fail pod6_to_pod_tcp "iperf3 $A6 -> $B6 moved nothing"
fi

# --- host and pods -----------------------------------------------------------------
check node6_to_pod_ping "ping6 node -> $A6 failed" ping6_ok "$NS_N" "$A6" 3
check pod6_to_node_ping "ping6 $A6 -> node ${NODE_IP6[n1]} failed" ping6_ok "$NS_A" "${NODE_IP6[n1]}" 3
if iperf_tcp "$NS_A" "$NS_N" "$A6" 1 5202; then
	pass node6_to_pod_tcp
else
	fail node6_to_pod_tcp "iperf3 node -> $A6 moved nothing"
fi

# --- neighbour flush in the pod: the gateway is solicited again, answered in BPF ---
px a ip -6 neigh flush all >/dev/null 2>&1
gwn=$(px a ip -6 neigh show fe80::1 dev eth0 | grep -v FAILED)
r0=$(counter ndp_reply)
if [ -z "$gwn" ] && ping6_ok "$NS_A" "$B6" 3; then
	pass ping6_after_neigh_flush
else
	fail ping6_after_neigh_flush "neigh after flush: '$gwn'; ping6 after flush failed"
fi
dr=$(($(counter ndp_reply) - r0))
gw=$(px a ip -6 -j neigh show fe80::1 dev eth0)
gwmac=$(echo "$gw" | jq -r '.[0].lladdr // empty')
router=$(echo "$gw" | jq -r '.[0] | has("router")')
hostmac=$(podinfo a host_mac)
if [ "$dr" -ge 1 ] && [ "$gwmac" = "$hostmac" ] && [ "$router" = true ]; then
	pass gateway6_solicitation_answered
else
	fail gateway6_solicitation_answered "ndp_reply +$dr, pod sees fe80::1 at '$gwmac' (router: $router), host end is '$hostmac'"
fi

# --- spoofed IPv6 source ----------------------------------------------------------
px a ip addr add fd00:10:244:1::99/128 dev eth0 nodad
s0=$(counter drop_spoof_ip)
e0=$(nx "$NS_B" awk '$1 == "Icmp6InEchos" { print $2 }' /proc/net/snmp6)
mon=$TMPD/monitor.json
bg_in "$NS_N" 10 "$BIN" --pin-dir "$PIN" --state-dir "$STATE" monitor --json --count 1 >"$mon" 2>/dev/null
sleep 0.5
nx "$NS_A" ping -6 -n -c 3 -i 0.2 -W 1 -I fd00:10:244:1::99 "$B6" >/dev/null 2>&1
e1=$(nx "$NS_B" awk '$1 == "Icmp6InEchos" { print $2 }' /proc/net/snmp6)
ds=$(($(counter drop_spoof_ip) - s0))
if [ "$ds" -ge 3 ] && [ "$e1" = "$e0" ]; then
	pass spoofed6_source_dropped
else
	fail spoofed6_source_dropped "drop_spoof_ip +$ds (want >= 3), echos that reached b +$((e1 - e0)) (want 0)"
fi
px a ip addr del fd00:10:244:1::99/128 dev eth0
wait "$LAST_PID" 2>/dev/null
ev=$(head -1 "$mon")
if [ "$(echo "$ev" | jq -r '.reason + " " + .protocol + " " + .saddr + " " + .daddr' 2>/dev/null)" = \
	"drop_spoof_ip icmpv6 fd00:10:244:1::99 $B6" ]; then
	pass monitor_shows_ipv6_drop
else
	fail monitor_shows_ipv6_drop "monitor event: '$ev'"
fi

# --- pod to the internet over NAT66 --------------------------------------------------
if ! ip -n "$EXT" -6 route get "$A6" 2>/dev/null | grep -q "via ${NODE_IP6[n1]}"; then
	: # ext routes the cluster back (for the no-masquerade case) - ok either way
fi
e0=$(counter nat_egress)
i0=$(counter nat_ingress)
check pod6_to_internet_ping "ping6 $A6 -> $SRV6 failed" ping6_ok "$NS_A" "$SRV6" 5
de=$(($(counter nat_egress) - e0))
di=$(($(counter nat_ingress) - i0))
check nat66_ping_counted "nat_egress +$de nat_ingress +$di (want >= 5 each)" \
	eval '[ "$de" -ge 5 ] && [ "$di" -ge 5 ]'
nat=$(bl nat list --json)
m=$(echo "$nat" | jq -r --arg p "[$A6]:" '[.[] | select(.family == "ipv6" and .protocol == "icmpv6" and (.pod | startswith($p)))][0].node // empty')
case $m in
"[${NODE_IP6[n1]}]:"*) pass nat66_mapping_listed ;;
*) fail nat66_mapping_listed "nat list --json has no icmpv6 mapping of $A6 to the node's address: '$m'" ;;
esac
srvj=$TMPD/iperf6.json
bg_in "$EXT" 40 iperf3 -s -1 -J -B "$SRV6" -p 5301 >"$srvj" 2>&1
srvpid=$LAST_PID
if wait_listen "$EXT" 5301 &&
	timeout 20 nsenter --net="/run/netns/$NS_A" iperf3 -c "$SRV6" -p 5301 -t 2 \
		--connect-timeout 3000 >/dev/null 2>&1; then
	wait "$srvpid" 2>/dev/null
	peer=$(jq -r '.start.connected[0].remote_host // empty' "$srvj" 2>/dev/null)
	check nat66_tcp_server_sees_node "server saw '$peer', want ${NODE_IP6[n1]}" [ "$peer" = "${NODE_IP6[n1]}" ]
else
	fail nat66_tcp_server_sees_node "iperf3 $A6 -> $SRV6 failed"
fi
# UDP: an echo server on the internet, 50 datagrams there and back
bg_in "$EXT" 30 perl -MIO::Socket::IP -e '
	my $s = IO::Socket::IP->new(LocalAddr => $ARGV[0], LocalPort => 11111,
		Proto => "udp") or die;
	while (1) { my $p = $s->recv(my $b, 2048); $s->send($b, 0, $p) if defined $p }' "$SRV6"
sleep 0.5
got=$(timeout 20 nsenter --net="/run/netns/$NS_A" perl -MIO::Socket::IP -MIO::Select -e '
	my $s = IO::Socket::IP->new(PeerAddr => $ARGV[0], PeerPort => 11111,
		Proto => "udp") or die;
	my ($n, $sel) = (0, IO::Select->new($s));
	for my $i (1 .. 50) {
		$s->send("ping $i");
		my $b = "";
		$n++ if $sel->can_read(1) && defined $s->recv($b, 2048) && $b eq "ping $i";
	}
	print "$n\n";' "$SRV6" 2>&1)
check nat66_udp_request_response "UDP $A6 -> [$SRV6]:11111: $got of 50 answered" [ "$got" = 50 ]
tcp_echo_server "$EXT" "$SRV6" 7777 || abort "echo server in ext"
ok=0
for _ in $(seq 10); do
	tcp_echo "$NS_A" "$SRV6" 7777 && ok=$((ok + 1))
done
check nat66_tcp_short_connections "$ok of 10 connections $A6 -> [$SRV6]:7777 worked" [ "$ok" = 10 ]

# --- without NAT66: a no-masquerade prefix sees the pod's own address ------------
srvj=$TMPD/iperf6-nomasq.json
bg_in "$EXT" 40 iperf3 -s -1 -J -B "$NOMASQ6" -p 5302 >"$srvj" 2>&1
srvpid=$LAST_PID
c0=$(counter fwd_cluster)
if wait_listen "$EXT" 5302 &&
	timeout 20 nsenter --net="/run/netns/$NS_A" iperf3 -c "$NOMASQ6" -p 5302 -t 1 \
		--connect-timeout 3000 >/dev/null 2>&1; then
	wait "$srvpid" 2>/dev/null
	peer=$(jq -r '.start.connected[0].remote_host // empty' "$srvj" 2>/dev/null)
	dc=$(($(counter fwd_cluster) - c0))
	if [ "$peer" = "$A6" ] && [ "$dc" -gt 0 ]; then
		pass nomasq6_pod_address_kept
	else
		fail nomasq6_pod_address_kept "server saw '$peer' (want $A6), fwd_cluster +$dc"
	fi
else
	fail nomasq6_pod_address_kept "iperf3 $A6 -> $NOMASQ6 failed"
fi

# --- path MTU discovery through a 1280-byte link ---------------------------------
ie0=$(counter nat_icmp_error)
out=$(nx "$NS_A" ping -6 -n -c 2 -i 0.3 -W 1 -M do -s 1300 "$FAR6" 2>&1)
ie=$(($(counter nat_icmp_error) - ie0))
if echo "$out" | grep -qiE 'too big.*mtu ?=? ?1280|mtu=1280|mtu 1280'; then
	pass packet_too_big_seen_by_pod
else
	fail packet_too_big_seen_by_pod "ping -6 -M do -s 1300 $FAR6: $(echo "$out" | head -3)"
fi
check packet_too_big_translated "nat_icmp_error +$ie, want >= 1" [ "$ie" -ge 1 ]
pmtu=$(px a ip -6 -o route get "$FAR6" 2>/dev/null)
check pmtu6_cached "pod a route to $FAR6: $pmtu" eval 'echo "$pmtu" | grep -q "mtu 1280"'
# and a TCP transfer across it finds its way (segments sized to the path)
if iperf_tcp "$FARNS" "$NS_B" "$FAR6" 2 5303; then
	pass pmtu6_tcp_transfer
else
	fail pmtu6_tcp_transfer "iperf3 $B6 -> $FAR6 across the 1280 link moved nothing"
fi

# --- IPv4 unchanged beside IPv6 --------------------------------------------------------
check ipv4_pod_to_pod_dual_stack "ping $A -> $B failed" ping_ok "$NS_A" "$B" 3
ip -n "$EXT" addr add 203.0.113.10/32 dev lo
check ipv4_snat_dual_stack "ping $A -> 203.0.113.10 failed" ping_ok "$NS_A" 203.0.113.10 3

# --- a second node: native routing between the nodes' IPv6 pod CIDRs ---------------
if make_ext_and_node n2 && node_init6 n2 2 --masquerade6 off >/dev/null &&
	mkpod_on n2 c >/dev/null; then
	C6=$(pod_ip6 c)
	NS_C=$(pod_ns c)
	# the routes come from the agent, from Node objects' podCIDRs and InternalIPs
	peers=$TMPD/nodes.json
	jq -n --arg a4 "${NODE_IP[n1]}" --arg a6 "${NODE_IP6[n1]}" --arg b4 "${NODE_IP[n2]}" \
		--arg b6 "${NODE_IP6[n2]}" '{ kind: "NodeList", items: [
		{ metadata: { name: "n1" }, spec: { podCIDR: "10.244.1.0/24",
		  podCIDRs: ["10.244.1.0/24", "fd00:10:244:1::/64"] },
		  status: { addresses: [{ type: "InternalIP", address: $a4 },
					{ type: "InternalIP", address: $a6 }] } },
		{ metadata: { name: "n2" }, spec: { podCIDR: "10.244.2.0/24",
		  podCIDRs: ["10.244.2.0/24", "fd00:10:244:2::/64"] },
		  status: { addresses: [{ type: "InternalIP", address: $b4 },
					{ type: "InternalIP", address: $b6 }] } } ] }' >"$peers"
	for n in n1 n2; do
		bln "$n" agent --once --config /dev/null --node-name "$n" --peers "$peers" \
			--metrics off >"$TMPD/agent-$n.log" 2>&1 ||
			diag "agent --once on $n: $(tail -3 "$TMPD/agent-$n.log")"
	done
	r6=$(ndx n1 ip -6 route show proto 199)
	r4=$(ndx n1 ip -4 route show proto 199)
	if echo "$r6" | grep -q "^fd00:10:244:2::/64 via ${NODE_IP6[n2]} dev uplink" &&
		echo "$r4" | grep -q "^10.244.2.0/24 via ${NODE_IP[n2]} dev uplink"; then
		pass agent_routes_per_family
	else
		fail agent_routes_per_family "n1 routes of proto 199: IPv6 '$r6', IPv4 '$r4'"
	fi
	c1=$(counter fwd_cluster n1)
	u2=$(counter fwd_from_uplink n2)
	check cross_node6_ping "ping6 $A6 (n1) -> $C6 (n2) failed" ping6_ok "$NS_A" "$C6" 4
	d_c1=$(($(counter fwd_cluster n1) - c1))
	d_u2=$(($(counter fwd_from_uplink n2) - u2))
	check cross_node6_counted "n1 fwd_cluster +$d_c1, n2 fwd_from_uplink +$d_u2 (want >= 4 each)" \
		eval '[ "$d_c1" -ge 4 ] && [ "$d_u2" -ge 4 ]'
	srvlog=$TMPD/iperf-c6.json
	bg_in "$NS_C" 25 iperf3 -s -1 -J -p 5304 >"$srvlog" 2>&1
	srv=$LAST_PID
	if wait_listen "$NS_C" 5304 &&
		timeout 15 nsenter --net="/run/netns/$NS_A" iperf3 -c "$C6" -p 5304 -t 1 \
			--connect-timeout 3000 >/dev/null 2>&1; then
		wait "$srv" 2>/dev/null
		peer=$(jq -r '.start.connected[0].remote_host // empty' "$srvlog" 2>/dev/null)
		check cross_node6_tcp_no_nat "server in c saw peer '$peer', want $A6" [ "$peer" = "$A6" ]
	else
		fail cross_node6_tcp_no_nat "iperf3 $A6 -> $C6 failed"
	fi

	# --- --masquerade6 off: the internet sees the pod's own address ---------------
	ip -n "$EXT" -6 route add fd00:10:244:2::/64 via "${NODE_IP6[n2]}" proto static
	m6=$(bln n2 node status --json | jq -r .masquerade6)
	e0=$(counter nat_egress n2)
	srvj=$TMPD/iperf6-masq6off.json
	bg_in "$EXT" 40 iperf3 -s -1 -J -B "$SRV6" -p 5305 >"$srvj" 2>&1
	srvpid=$LAST_PID
	if wait_listen "$EXT" 5305 &&
		timeout 20 nsenter --net="/run/netns/$NS_C" iperf3 -c "$SRV6" -p 5305 -t 1 \
			--connect-timeout 3000 >/dev/null 2>&1; then
		wait "$srvpid" 2>/dev/null
		peer=$(jq -r '.start.connected[0].remote_host // empty' "$srvj" 2>/dev/null)
		de=$(($(counter nat_egress n2) - e0))
		n6=$(bln n2 nat list --json | jq '[.[] | select(.family == "ipv6")] | length')
		if [ "$m6" = false ] && [ "$peer" = "$C6" ] && [ "$de" = 0 ] && [ "$n6" = 0 ]; then
			pass masquerade6_off_pod_address_kept
		else
			fail masquerade6_off_pod_address_kept "masquerade6 '$m6', server saw '$peer' (want $C6), nat_egress +$de, IPv6 mappings $n6 (want 0)"
		fi
	else
		fail masquerade6_off_pod_address_kept "iperf3 $C6 -> $SRV6 failed"
	fi
	# IPv4 is still masqueraded there: ext has no route to 10.244.2.0/24
	e0=$(counter nat_egress n2)
	ping_ok "$NS_C" 203.0.113.10 3
	rc=$?
	de=$(($(counter nat_egress n2) - e0))
	check ipv4_snat_with_masquerade6_off "ping $(pod_ip c) -> 203.0.113.10: rc $rc, nat_egress +$de (want >= 3)" \
		eval '[ "$rc" = 0 ] && [ "$de" -ge 3 ]'
else
	fail cross_node6_setup "second node n2 / pod c could not be set up"
fi

# --- an IPv6-only node ----------------------------------------------------------------
if make_ext_and_node n3 && bln n3 node init --uplink uplink --pod-cidr fd00:10:244:3::/64 \
	--cluster-cidr fd00:10:244::/48 >/dev/null && mkpod_on n3 d >/dev/null; then
	D=$(podinfo d ip)
	D6=$(podinfo d ip6)
	v4=$(nx "$(pod_ns d)" ip -4 -o addr show dev eth0)
	if [ -z "$D" ] && [ -n "$D6" ] && [ -z "$v4" ] &&
		bln n3 node status --json | jq -e '.pod_cidr == "" and .pod_cidr6 == "fd00:10:244:3::/64"' >/dev/null; then
		pass ipv6_only_node_addressing
	else
		fail ipv6_only_node_addressing "pod d ip '$D' ip6 '$D6', IPv4 on eth0: '$v4'"
	fi
	check ipv6_only_node_nat66 "ping6 $D6 -> $SRV6 failed" ping6_ok "$(pod_ns d)" "$SRV6" 3
else
	fail ipv6_only_node_setup "IPv6-only node n3 / pod d could not be set up"
fi

# --- a DaemonSet's first start: the pod CIDRs of both families from its Node -------
if make_ext_and_node n4; then
	nodes4=$TMPD/nodes-n4.json
	jq -n --arg a4 "${NODE_IP[n4]}" --arg a6 "${NODE_IP6[n4]}" '{ kind: "NodeList", items: [
		{ metadata: { name: "n4" }, spec: { podCIDR: "10.244.4.0/24",
		  podCIDRs: ["10.244.4.0/24", "fd00:10:244:4::/64"] },
		  status: { addresses: [{ type: "InternalIP", address: $a4 },
					{ type: "InternalIP", address: $a6 }] } } ] }' >"$nodes4"
	bln n4 agent --once --config /dev/null --uplink uplink --cluster-cidr 10.244.0.0/16 \
		--cluster-cidr fd00:10:244::/48 --node-name n4 --peers "$nodes4" --metrics off \
		>"$TMPD/agent-n4.log" 2>&1
	st=$(bln n4 node status --json 2>/dev/null | jq -c '[.pod_cidr, .pod_cidr6]')
	check agent_pod_cidrs_from_node "node status of n4 after the agent: $st; $(tail -2 "$TMPD/agent-n4.log")" \
		[ "$st" = '["10.244.4.0/24","fd00:10:244:4::/64"]' ]
else
	fail agent_pod_cidrs_from_node "node n4 could not be set up"
fi

# --- the agent's reconcile restores a pod's IPv6 endpoint and host route -------------
hostif=$(podinfo a host_ifname)
keyhex=$(python3 -c 'import ipaddress, sys
print(" ".join("%02x" % b for b in ipaddress.IPv6Address(sys.argv[1]).packed))' "$A6")
# shellcheck disable=SC2086
timeout 10 bpftool map delete pinned "$PIN/endpoints6" key hex $keyhex
ndx ip -6 route del "$A6/128" dev "$hostif"
bl agent --once --config /dev/null --metrics off >"$TMPD/agent-reconcile6.log" 2>&1
ep=$(timeout 10 bpftool -j map lookup pinned "$PIN/endpoints6" key hex $keyhex 2>/dev/null |
	jq -r '.formatted.value.ifindex // .value.ifindex // empty' 2>/dev/null)
route=$(ndx ip -6 route show "$A6/128" dev "$hostif")
if [ "$ep" = "$(podinfo a host_ifindex)" ] && [ -n "$route" ] &&
	grep -q "reconcile: pod a: endpoint $A6 was missing; restored" "$TMPD/agent-reconcile6.log" &&
	grep -q "reconcile: pod a: host route $A6/128 dev $hostif was missing; restored" "$TMPD/agent-reconcile6.log" &&
	ping6_ok "$NS_B" "$A6" 2; then
	pass reconcile6_restores_endpoint_and_route
else
	fail reconcile6_restores_endpoint_and_route "endpoints6 ifindex '$ep', route '$route'; log: $(grep reconcile "$TMPD/agent-reconcile6.log" | tr '\n' '|')"
fi

# --- pod del removes both families --------------------------------------------------
bl pod del b >/dev/null
left=$(timeout 10 bpftool -j map dump pinned "$PIN/endpoints6" | jq length)
files=$(state_files | grep -c "ipam/fd00:10:244:1::2\$")
route=$(ndx ip -6 route show "$B6")
if [ "$left" = 1 ] && [ "$files" = 0 ] && [ -z "$route" ]; then
	pass pod6_del_leaves_nothing
else
	fail pod6_del_leaves_nothing "endpoints6 entries $left (want 1), ipam files for $B6: $files, route: '$route'"
fi

finish
