#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `bridgeless cni install` and the conflist it writes, run as libcni runs a
# conflist: bridgeless first, then the reference portmap and bandwidth
# plugins (prevResult handed along on ADD, CHECK and DEL). A hostPort
# mapping made by portmap (iptables in the node namespace) reaches the pod
# from the ext namespace; DEL through the chain removes every trace.
TEST=cni_chain
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni-lib.bash"
require_bin
require_cni
require_cmd jq iptables iperf3
for p in portmap bandwidth; do
	if [ ! -x "$REF/$p" ]; then
		skip all "$REF/$p missing (containernetworking-plugins)"
		exit 0
	fi
done
mount_bpffs

make_ext_and_node n1 || abort "topology"
cni_setup || abort "cni dirs"
INST=$TMPD/inst

# --- cni install ------------------------------------------------------------------

out=$(bl cni install --bin-dir "$INST/bin" --conf-dir "$INST/net.d" 2>&1)
rc=$?
refused() { [ "$rc" -ne 0 ] && echo "$out" | grep -q "node init"; }
check install_needs_node "exit $rc: $out" refused

node_init n1 >/dev/null || abort "node init failed"

out=$(bl cni install --bin-dir "$INST/bin" --conf-dir "$INST/net.d" --log-file "$CNI_LOG" 2>&1)
rc=$?
LISTFILE=$INST/net.d/10-bridgeless.conflist
if [ $rc -eq 0 ] && [ -x "$INST/bin/bridgeless" ] && cmp -s "$INST/bin/bridgeless" "$CNI"; then
	pass install_plugin
else
	fail install_plugin "exit $rc: $out; $(ls -l "$INST/bin" 2>&1 | tr '\n' ' ')"
fi
v=$(CNI_COMMAND=VERSION "$INST/bin/bridgeless" </dev/null | jq -r .cniVersion 2>/dev/null)
check install_plugin_runs "installed plugin VERSION said '$v'" [ "$v" = 1.1.0 ]
check install_conflist "$(jq -c . "$LISTFILE" 2>&1 | head -c 400)" jqt --arg pin "$PIN" --arg st "$STATE" '
	.cniVersion == "1.0.0" and .name == "bridgeless" and
	(.plugins | length == 3) and
	(.plugins[0] | .type == "bridgeless" and .pinDir == $pin and .stateDir == $st and
		.ipam.type == "host-local" and .ipam.ranges == [[{ subnet: "10.244.1.0/24" }]]) and
	(.plugins[1] | .type == "portmap" and .capabilities.portMappings == true) and
	(.plugins[2] | .type == "bandwidth" and .capabilities.bandwidth == true)' "$LISTFILE"
bl cni install --bin-dir "$INST/bin" --conf-dir "$INST/net.d" --pod-cidr 10.244.9.0/24 >/dev/null 2>&1
check install_pod_cidr_override "$(jq -c '.plugins[0].ipam' "$LISTFILE" 2>&1)" \
	jqt '.plugins[0].ipam.ranges == [[{ subnet: "10.244.9.0/24" }]]' "$LISTFILE"
bl cni install --bin-dir "$INST/bin" --conf-dir "$INST/net.d" --log-file "$CNI_LOG" >/dev/null 2>&1 ||
	fail install_again "second install failed"
leftover=$(find "$INST" -name '*.tmp.*')
check install_no_temp_files "left: $leftover" [ -z "$leftover" ]

# The installed conflist, with this run's host-local dataDir; CNI_PATH as a
# node has it: our bin dir, then Debian's plugins.
LIST=$(jq -c --arg hl "$HL_DATA" '.plugins[0].ipam.dataDir = $hl' "$LISTFILE")
LIST_PATH=$INST/bin:$REF
NET=bridgeless

# --- ADD through the chain: hostPort and bandwidth --------------------------------

new_netns "$(pod_ns web)" || abort "netns web"
RT='{"portMappings": [{"hostPort": 8080, "containerPort": 5201, "protocol": "tcp"}],
     "bandwidth": {"ingressRate": 200000000, "ingressBurst": 2000000,
		   "egressRate": 200000000, "egressBurst": 2000000}}'
if conflist_run ADD "$LIST" web00001 "$(nspath web)" eth0 "$RT"; then
	RES=$CNI_OUT
	diag "chain ADD result: $(echo "$RES" | jq -c .)"
	check chain_add_result "final result lost our interface or address: $(echo "$RES" | jq -c .)" \
		jqt '.cniVersion == "1.0.0" and .interfaces[1].name == "eth0" and
		     (.interfaces[1].sandbox | length > 0) and .ips[0].interface == 1 and
		     (.ips[0].address | startswith("10.244.1.")) and
		     (.routes | index([{ dst: "0.0.0.0/0", gw: "169.254.1.1" }]) != null)' <<<"$RES"
else
	fail chain_add_result "ADD through the conflist failed: $CNI_OUT"
	finish
fi
ip_w=$(jq -r '.ips[0].address | sub("/32$"; "")' <<<"$RES")
host_w=$(jq -r '.interfaces[0].name' <<<"$RES")
check portmap_rules "no DNAT to $ip_w:5201 for port 8080 in the node's nat table" \
	bash -c "timeout 10 nsenter --net=/run/netns/$(node_ns n1) iptables -t nat -S 2>/dev/null |
		grep -- '--dport 8080' | grep -q -- '$ip_w:5201'"
check bandwidth_qdisc "no tbf qdisc on $host_w: $(ndx tc qdisc show dev "$host_w" 2>&1 | tr '\n' ' ')" \
	bash -c "timeout 10 nsenter --net=/run/netns/$(node_ns n1) tc qdisc show dev $host_w | grep -q tbf"

# hostport NAME POD NODE-IP HOSTPORT PORT: a client in ext connects to the
# node's hostPort and lands in the pod's server on PORT
hostport() {
	local name=$1 pod=$2 nip=$3 hport=$4 port=$5 out bytes
	bg_in "$(pod_ns "$pod")" 30 iperf3 -s -1 -p "$port"
	if ! wait_listen "$(pod_ns "$pod")" "$port"; then
		fail "$name" "iperf3 server did not start in pod $pod"
		return
	fi
	out=$(timeout 20 nsenter --net="/run/netns/$EXT" iperf3 -J -c "$nip" -p "$hport" \
		-t 1 --connect-timeout 3000 2>&1)
	bytes=$(echo "$out" | jq -r '.end.sum_received.bytes // 0' 2>/dev/null)
	check "$name" "iperf3 ext -> $nip:$hport (pod port $port) moved ${bytes:-0} bytes: $(echo "$out" | jq -r '.error // empty' 2>/dev/null)" \
		[ "${bytes%.*}" -gt 0 ]
	kill "$LAST_PID" 2>/dev/null
}
hostport hostport_reaches_pod web "${NODE_IP[n1]}" 8080 5201

# chain_check NAME LIST CID NETNS: CHECK through the conflist. Debian's
# portmap 1.1.1 fails CHECK for every IPv4-only pod (it looks for ip6tables
# rules it never made: containernetworking/plugins#819, fixed upstream
# later); then the others are checked and portmap's CHECK is a SKIP.
chain_check() {
	local name=$1 list=$2 cid=$3 ns=$4
	conflist_run CHECK "$list" "$cid" "$ns" eth0 "$RT" && return 0
	echo "$CNI_OUT" | grep -q "could not check ipv6 dnat" || return 1
	skip "${name}_portmap" "portmap's own CHECK is broken for IPv4-only pods (containernetworking/plugins#819)"
	CHAIN_SKIP=portmap conflist_run CHECK "$list" "$cid" "$ns" eth0 "$RT"
}
check chain_check "CHECK through the conflist: exit $CNI_RC $CNI_OUT" \
	chain_check chain_check "$LIST" web00001 "$(nspath web)"

conflist_run DEL "$LIST" web00001 "$(nspath web)" eth0 "$RT"
rc=$?
why=""
[ $rc -eq 0 ] || why="$why exit $rc $CNI_OUT"
ndx iptables -t nat -S 2>/dev/null | grep -q -- "--dport 8080" && why="$why portmap-rules"
ndx ip -o link show 2>/dev/null | grep -q "$host_w" && why="$why host-veth"
[ -n "$(bl_links)" ] && why="$why links: $(bl_links | tr '\n' ' ')"
[ "$(ep_count)" = 0 ] || why="$why endpoints: $(ep_count)"
[ -z "$(hl_reserved)" ] || why="$why host-local: $(hl_reserved | tr '\n' ' ')"
check chain_del "${why# }" [ -z "$why" ]
conflist_run DEL "$LIST" web00001 "$(nspath web)" eth0 "$RT"
check chain_del_twice "second DEL through the conflist: exit $CNI_RC $CNI_OUT" [ "$CNI_RC" -eq 0 ]

# --- the same chain in CNI 0.4.0 ------------------------------------------------------

LIST040=$(jq -c '.cniVersion = "0.4.0"' <<<"$LIST")
new_netns "$(pod_ns old)" || abort "netns old"
why=""
conflist_run ADD "$LIST040" old00001 "$(nspath old)" eth0 "$RT" || why="$why ADD: $CNI_OUT"
[ -z "$why" ] && ! jqt '.cniVersion == "0.4.0" and .ips[0].version == "4"' <<<"$CNI_OUT" &&
	why="$why result: $CNI_OUT"
[ -z "$why" ] && ! chain_check chain_040_check "$LIST040" old00001 "$(nspath old)" &&
	why="$why CHECK: $CNI_OUT"
conflist_run DEL "$LIST040" old00001 "$(nspath old)" eth0 "$RT" || why="$why DEL: $CNI_OUT"
[ -z "$(hl_reserved)" ] || why="$why host-local: $(hl_reserved | tr '\n' ' ')"
check chain_040 "${why# }" [ -z "$why" ]

# --- the same on a node with BPF SNAT off (--masquerade off): replies to
# portmap's DNAT go back through the host stack, where conntrack undoes it.
# Tells a plugin/chain problem apart from a datapath one.
make_ext_and_node n2 || abort "topology n2"
node_init n2 10.244.2.0/24 --masquerade off >/dev/null || abort "node init n2"
bln n2 cni install --bin-dir "$INST/bin" --conf-dir "$INST/net2.d" --log-file "$CNI_LOG" \
	>/dev/null || abort "cni install n2"
LIST2=$(jq -c --arg hl "$HL_DATA-n2" '.plugins[0].ipam.dataDir = $hl' "$INST/net2.d/10-bridgeless.conflist")
RT2='{"portMappings": [{"hostPort": 8081, "containerPort": 5202, "protocol": "tcp"}]}'
new_netns "$(pod_ns web2)" || abort "netns web2"
if CNI_NODE=n2 conflist_run ADD "$LIST2" web00002 "$(nspath web2)" eth0 "$RT2"; then
	hostport hostport_reaches_pod_masquerade_off web2 "${NODE_IP[n2]}" 8081 5202
else
	fail hostport_reaches_pod_masquerade_off "ADD on n2: $CNI_OUT"
fi
CNI_NODE=n2 conflist_run DEL "$LIST2" web00002 "$(nspath web2)" eth0 "$RT2" ||
	fail del_masquerade_off "DEL on n2: $CNI_OUT"

check log_has_chain_calls "no ADD line for web00001 in $CNI_LOG" \
	grep -q "ADD container=web00001 ifname=eth0 .*: ok" "$CNI_LOG"

finish
