#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# CNI conformance: the plugin driven as a runtime drives it (CNI_* variables,
# the configuration on stdin, run in the node namespace), with host-local
# IPAM from containernetworking-plugins over a dataDir of this run's own.
# VERSION, STATUS, ADD checked field by field in 1.1.0/1.0.0/0.4.0, CHECK
# before and after tampering, DEL twice / without ADD / without netns,
# every malformed input with its code, rollback of a failed ADD, the IPAM
# plugin's routes (added, listed, checked, bad ones rolled back), GC, 32
# parallel ADDs and DELs, and pods made by the plugin talking to each other
# and to the ext namespace; `node reset` with a pod of the plugin's.
TEST=cni
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni-lib.bash"
require_bin
require_cni
require_cmd jq
mount_bpffs

make_ext_and_node n1 || abort "topology"
cni_setup || abort "cni dirs"
CONF=$(cni_conf)

# --- VERSION ----------------------------------------------------------------

cni VERSION "" "" "" ""
if [ $CNI_RC -eq 0 ] && jq -e '.cniVersion == "1.1.0" and
	(.supportedVersions | index("0.4.0") and index("1.0.0") and index("1.1.0"))' \
	<<<"$CNI_OUT" >/dev/null 2>&1; then
	pass version
else
	fail version "exit $CNI_RC, $(echo "$CNI_OUT" | tr -d '\n')"
fi
cni VERSION "" "" "" '{"cniVersion":"1.0.0"}'
check version_echoes_request "VERSION with cniVersion 1.0.0 said $(echo "$CNI_OUT" | jq -c .cniVersion 2>&1)" \
	jqt '.cniVersion == "1.0.0"' <<<"$CNI_OUT"

# --- before node init: try again later, nothing reserved ----------------------

new_netns "$(pod_ns early)" || abort "netns early"
cni STATUS "" "" "" "$CONF"
expect_code status_not_initialized 50 "bridgeless node init"
cni ADD early0001 "$(nspath early)" eth0 "$CONF"
expect_code add_not_initialized 11 "bridgeless node init"
check add_not_initialized_no_leak "host-local holds $(hl_reserved | tr '\n' ' ')" [ -z "$(hl_reserved)" ]

node_init n1 >/dev/null || abort "node init failed"
# ext routes the pod CIDR to the node (no SNAT needed for these tests)
nx "$EXT" ip route add 10.244.1.0/24 via "${NODE_IP[n1]}"

cni STATUS "" "" "" "$CONF"
check status_ready "STATUS on an initialized node: exit $CNI_RC, '$CNI_OUT'" \
	[ "$CNI_RC" -eq 0 -a -z "$CNI_OUT" ]
cni STATUS "" "" "" "$(cni_conf 1.1.0 '.ipam.type = "no-such-ipam"')"
expect_code status_ipam_missing 50 "no-such-ipam"

# --- ADD, field by field --------------------------------------------------------

new_netns "$(pod_ns a)" || abort "netns a"
CID_A=0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
cni_add "$CID_A" "$(nspath a)" || abort "ADD a: $CNI_OUT"
RES=$CNI_OUT
POD_A=$CID_A.eth0
POD_NODE[$POD_A]=n1
ip_a=$(px a ip -j -4 addr show eth0 | jq -r '.[0].addr_info[0].local')
mac_a=$(px a ip -j link show eth0 | jq -r '.[0].address')
mtu_a=$(px a ip -j link show eth0 | jq -r '.[0].mtu')
host_a=$(podinfo "$POD_A" host_ifname)
hmac_a=$(ndx ip -j link show "$host_a" 2>/dev/null | jq -r '.[0].address')
diag "ADD a: $(echo "$RES" | jq -c .)"

jqr() { jq -e --arg ip "$ip_a" --arg mac "$mac_a" --argjson mtu "${mtu_a:-0}" \
	--arg host "$host_a" --arg hmac "$hmac_a" --arg ns "$(nspath a)" "$1" <<<"$RES" >/dev/null 2>&1; }
check add_result_version "cniVersion $(jq -c .cniVersion <<<"$RES")" jqr '.cniVersion == "1.1.0"'
check add_result_sandbox_interface "want eth0 $mac_a mtu $mtu_a in $(nspath a): $(jq -c '.interfaces' <<<"$RES")" \
	jqr '.interfaces | length == 2 and (.[1] | .name == "eth0" and .mac == $mac and
		.sandbox == $ns and .mtu == $mtu)'
check add_result_host_interface "want $host_a $hmac_a without sandbox: $(jq -c '.interfaces[0]' <<<"$RES")" \
	jqr '.interfaces[0] | .name == $host and .mac == $hmac and ((.sandbox // "") == "")'
check add_result_ips "want [{address: $ip_a/32, interface: 1}] (no 0.x version): $(jq -c .ips <<<"$RES")" \
	jqr '.ips == [{ address: ($ip + "/32"), interface: 1 }]'
in_pod_cidr() { [[ $1 == 10.244.1.* ]]; }
check add_result_ip_in_pod_cidr "address $ip_a" in_pod_cidr "$ip_a"
check add_result_routes "$(jq -c .routes <<<"$RES")" \
	jqr '.routes | index([{ dst: "0.0.0.0/0", gw: "169.254.1.1" }]) != null'
check add_result_dns "dns not passed through: $(jq -c .dns <<<"$RES")" \
	jqr '.dns == { nameservers: ["10.96.0.10"], search: ["svc.cluster.local"] }'
check add_ipam_reservation "host-local holds: $(hl_reserved | tr '\n' ' ')" \
	grep -q "$CID_A" "$HL_DATA/$NET/$ip_a"
check add_endpoint "no endpoint for $ip_a" ep_has "$ip_a"
check add_pod_record "pod list has no $POD_A" [ "$(pod_ip "$POD_A")" = "$ip_a" ]
check add_logged "log has no ADD line for $CID_A" \
	grep -q "ADD container=$CID_A ifname=eth0 .*: ok $ip_a/32" "$CNI_LOG"

# the same in the older result formats
new_netns "$(pod_ns v100)" && new_netns "$(pod_ns v040)" || abort "netns v100/v040"
if cni_add v100 "$(nspath v100)" eth0 "$(cni_conf 1.0.0)"; then
	check add_result_100 "$(echo "$CNI_OUT" | jq -c .)" jqt '.cniVersion == "1.0.0" and
		(.ips[0] | has("version") | not) and (.interfaces[1] | has("mtu") | not) and
		.ips[0].interface == 1' <<<"$CNI_OUT"
else
	fail add_result_100 "ADD 1.0.0: $CNI_OUT"
fi
if cni_add v040 "$(nspath v040)" eth0 "$(cni_conf 0.4.0)"; then
	check add_result_040 "$(echo "$CNI_OUT" | jq -c .)" jqt '.cniVersion == "0.4.0" and
		.ips[0].version == "4" and (.interfaces[1] | has("mtu") | not)' <<<"$CNI_OUT"
	cni_check v040 "$(nspath v040)" eth0 "$(cni_conf 0.4.0)"
	check check_040 "CHECK 0.4.0: exit $CNI_RC $CNI_OUT" [ "$CNI_RC" -eq 0 ]
else
	fail add_result_040 "ADD 0.4.0: $CNI_OUT"
fi
cni_del v100 "$(nspath v100)" eth0 "$(cni_conf 1.0.0)" || fail del_100 "$CNI_OUT"
cni_del v040 "$(nspath v040)" eth0 "$(cni_conf 0.4.0)" || fail del_040 "$CNI_OUT"

# ADD after another plugin (not our place in the installed conflist, but a
# chain may put us there): its result is kept, ours appended and indexed
new_netns "$(pod_ns chained)" || abort "netns chained"
PREV='{"cniVersion": "1.1.0", "interfaces": [{"name": "other0"}],
       "ips": [{"address": "192.0.2.9/24", "interface": 0}], "routes": [], "dns": {}}'
if cni ADD chain001 "$(nspath chained)" eth0 "$(cni_conf 1.1.0 ". + {prevResult: $PREV}")" \
	"CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-7"; then
	check add_keeps_prev_result "$(echo "$CNI_OUT" | jq -c .)" jqt '
		(.interfaces | length == 3 and .[0].name == "other0" and .[2].name == "eth0") and
		.ips[0].address == "192.0.2.9/24" and .ips[1].interface == 2' <<<"$CNI_OUT"
	check log_names_k8s_pod "no k8s=default/web-7 on the ADD line of $CNI_LOG" \
		grep -q "ADD container=chain001 .* k8s=default/web-7: ok" "$CNI_LOG"
else
	fail add_keeps_prev_result "ADD with a prevResult: $CNI_OUT"
fi
cni DEL chain001 "$(nspath chained)" eth0 "$CONF" || fail del_chained "$CNI_OUT"

# --- CHECK ------------------------------------------------------------------------

cni_check "$CID_A" "$(nspath a)"
check check_after_add "exit $CNI_RC, '$CNI_OUT'" [ "$CNI_RC" -eq 0 -a -z "$CNI_OUT" ]
cni CHECK never0001 "$(nspath a)" eth9 "$(with_prev "$CONF" "$CID_A" eth0)"
expect_code check_unknown_container 3 "unknown"
cni CHECK "$CID_A" "$(nspath a)" eth0 \
	"$(with_prev "$CONF" "$CID_A" eth0 | jq -c '.prevResult.ips[0].address = "10.244.1.250/32"')"
expect_code check_wrong_prev_result 101 "prevResult"

# --- pods made by the plugin talk to each other and to ext --------------------------

new_netns "$(pod_ns b)" || abort "netns b"
CID_B=b0000000000000000000000000000000000000000000000000000000000000b
cni_add "$CID_B" "$(nspath b)" || abort "ADD b: $CNI_OUT"
ip_b=$(jq -r '.ips[0].address | sub("/32$"; "")' <<<"$CNI_OUT")
check pod_to_pod "a ($ip_a) cannot ping b ($ip_b)" ping_ok "$(pod_ns a)" "$ip_b" 3
check pod_to_pod_back "b cannot ping a" ping_ok "$(pod_ns b)" "$ip_a" 2
check pod_to_ext "a cannot ping ext 198.51.100.1" ping_ok "$(pod_ns a)" 198.51.100.1 3
check ext_to_pod "ext cannot ping a" ping_ok "$EXT" "$ip_a" 2
if iperf_tcp "$(pod_ns b)" "$(pod_ns a)" "$ip_b" 1 5301; then
	pass pod_to_pod_tcp
else
	fail pod_to_pod_tcp "iperf3 a -> b moved nothing"
fi

# --- tampering: the host veth deleted behind the plugin's back ------------------------

ndx ip link del "$host_a"
cni_check "$CID_A" "$(nspath a)"
expect_code check_after_tamper 101 "host veth $host_a .*missing"

# --- DEL: twice, without ADD, without netns ----------------------------------------------

cni_del "$CID_A" "$(nspath a)"
check del_after_tamper "exit $CNI_RC: $CNI_OUT" [ "$CNI_RC" -eq 0 -a -z "$CNI_OUT" ]
cni DEL "$CID_A" "$(nspath a)" eth0 "$CONF"
check del_twice "second DEL: exit $CNI_RC: $CNI_OUT" [ "$CNI_RC" -eq 0 ]
why=""
ep_has "$ip_a" && why="$why endpoint"
[ -n "$(pod_ip "$POD_A")" ] && why="$why pod-record"
hl_reserved | grep -qx "$ip_a" && why="$why host-local"
cni_records | grep -qx "$POD_A" && why="$why cni-record"
px a ip link show eth0 >/dev/null 2>&1 && why="$why pod-eth0"
check del_leaves_nothing "left behind:$why" [ -z "$why" ]

cni DEL never0002 "$(nspath a)" eth0 "$CONF"
check del_without_add "exit $CNI_RC: $CNI_OUT" [ "$CNI_RC" -eq 0 -a -z "$CNI_OUT" ]

new_netns "$(pod_ns gone)" || abort "netns gone"
cni_add gone0001 "$(nspath gone)" || abort "ADD gone: $CNI_OUT"
ip_g=$(jq -r '.ips[0].address | sub("/32$"; "")' <<<"$CNI_OUT")
ip netns del "$(pod_ns gone)"
cni DEL gone0001 "$(nspath gone)" eth0 "$CONF"
why=""
ep_has "$ip_g" && why="$why endpoint"
hl_reserved | grep -qx "$ip_g" && why="$why host-local"
[ -n "$(pod_ip gone0001.eth0)" ] && why="$why pod-record"
check del_missing_netns "exit $CNI_RC ($CNI_OUT), left:$why" [ "$CNI_RC" -eq 0 -a -z "$why" ]

new_netns "$(pod_ns nons)" || abort "netns nons"
cni_add nons0001 "$(nspath nons)" || abort "ADD nons: $CNI_OUT"
ip_n=$(jq -r '.ips[0].address | sub("/32$"; "")' <<<"$CNI_OUT")
cni DEL nons0001 "" eth0 "$CONF"
why=""
[ "$CNI_RC" -eq 0 ] || why="$why exit $CNI_RC $CNI_OUT"
[ -n "$(pod_ip nons0001.eth0)" ] && why="$why pod-record"
hl_reserved | grep -qx "$ip_n" && why="$why host-local"
check del_without_cni_netns "${why# }" [ -z "$why" ]

# --- malformed input: each its code, nothing left behind --------------------------------

new_netns "$(pod_ns bad)" || abort "netns bad"
BADNS=$(nspath bad)
links_before=$(bl_links)
eps_before=$(ep_count)
hl_before=$(hl_reserved)

cni ADD bad0001 "$BADNS" eth0 '{"cniVersion": "1.1.0", "name": '
expect_code bad_json 6 "not valid JSON"
cni ADD bad0001 "$BADNS" eth0 '[1, 2]'
expect_code json_not_object 6 "object"
cni "" bad0001 "$BADNS" eth0 "$CONF"
expect_code env_no_command 4 CNI_COMMAND
cni FROB bad0001 "$BADNS" eth0 "$CONF"
expect_code env_unknown_command 4 FROB
cni ADD "" "$BADNS" eth0 "$CONF"
expect_code env_no_containerid 4 CNI_CONTAINERID
cni ADD bad0001 "" eth0 "$CONF"
expect_code env_no_netns 4 CNI_NETNS
cni ADD bad0001 "$BADNS" "" "$CONF"
expect_code env_no_ifname 4 CNI_IFNAME
cni ADD bad0001 "$BADNS" eth0 "$CONF" CNI_PATH=
expect_code env_no_path 4 CNI_PATH
cni ADD bad0001 "$BADNS" "a/b" "$CONF"
expect_code env_bad_ifname 4 CNI_IFNAME
cni ADD -bad "$BADNS" eth0 "$CONF"
expect_code env_bad_containerid 4 CNI_CONTAINERID
cni ADD bad0001 "$BADNS" eth0 "$(cni_conf 1.1.0 '.cniVersion = "9.9.9"')"
expect_code unknown_cni_version 1 "9.9.9"
cni ADD bad0001 "$BADNS" eth0 "$(cni_conf 1.1.0 '.cniVersion = "banana"')"
expect_code unparsable_cni_version 6 banana
cni ADD bad0001 "$BADNS" eth0 "$(cni_conf 1.1.0 'del(.cniVersion)')"
expect_code missing_cni_version 7 cniVersion
cni ADD bad0001 "$BADNS" eth0 "$(cni_conf 1.1.0 'del(.name)')"
expect_code missing_name 7 name
cni ADD bad0001 "$BADNS" eth0 "$(cni_conf 1.1.0 'del(.ipam)')"
expect_code missing_ipam 7 ipam
cni ADD bad0001 "$BADNS" eth0 "$(cni_conf 1.1.0 '.ipam = {subnet: "10.244.1.0/24"}')"
expect_code ipam_without_type 7 ipam
cni ADD bad0001 "$BADNS" eth0 "$(cni_conf 1.1.0 '.ipam.type = "no-such-ipam"')"
expect_code ipam_plugin_not_found 7 "no-such-ipam.*not found in CNI_PATH"
cni DEL bad0001 "$BADNS" eth0 "$(cni_conf 1.1.0 'del(.ipam)')"
expect_code del_missing_ipam 7 ipam
touch "$TMPD/not-a-netns"
cni ADD bad0001 "$TMPD/not-a-netns" eth0 "$CONF"
expect_code netns_not_a_netns 4 "not a network namespace"
cni ADD bad0001 "/run/netns/$PFX-no-such-ns" eth0 "$CONF"
expect_code netns_missing 3 "No such file"
cni ADD bad0001 relative/ns eth0 "$CONF"
expect_code netns_relative 4 "absolute"
cni ADD bad0001 "/proc/$$/ns/net" eth0 "$(cni_conf 1.1.0 '.pinDir = 7')"
expect_code config_bad_type 7 pinDir
cni CHECK bad0001 "$BADNS" eth0 "$CONF"
expect_code check_without_prev_result 7 prevResult
cni GC "" "" "" "$CONF"
expect_code gc_without_valid_attachments 7 "valid-attachments"
# IPAM gives an address outside the node's pod CIDR: refused and released
cni ADD bad0001 "$BADNS" eth0 "$(cni_conf 1.1.0 '.ipam.ranges = [[{subnet: "10.9.0.0/24"}]]')"
expect_code ipam_outside_pod_cidr 7 "outside the node's pod CIDR"
check ipam_outside_pod_cidr_released "host-local still holds $(ls "$HL_DATA/$NET" | tr '\n' ' ')" \
	[ -z "$(ls "$HL_DATA/$NET" | grep '^10\.9\.')" ]
check log_has_errors "no error line in $CNI_LOG" grep -q "ADD container=bad0001 .*error 6: " "$CNI_LOG"

# a failure halfway through pod setup (veth made, then the gateway route
# refused: b's netns already has one) rolls back everything, address included
cni ADD "$CID_B" "$(nspath b)" net1 "$CONF"
expect_code add_rollback_error 100 "already routes the gateway"
cni ADD "$CID_B" "$(nspath b)" eth0 "$CONF"
expect_code add_duplicate 100 "already has interface eth0"
why=""
[ "$(bl_links)" = "$links_before" ] || why="$why links: $(bl_links | tr '\n' ' ')"
[ "$(ep_count)" = "$eps_before" ] || why="$why endpoints: $(ep_count) not $eps_before"
[ "$(hl_reserved)" = "$hl_before" ] || why="$why host-local: $(hl_reserved | tr '\n' ' ')"
[ -z "$(cni_records | grep -v "^$CID_B")" ] || why="$why records: $(cni_records | tr '\n' ' ')"
px bad ip link show eth0 >/dev/null 2>&1 && why="$why eth0-in-bad-netns"
check bad_input_leaves_nothing "${why# }" [ -z "$why" ]
dup_ok() { ping_ok "$EXT" "$ip_b" 2 && hl_reserved | grep -qx "$ip_b"; }
check add_duplicate_keeps_pod "b lost its address or its connectivity" dup_ok

# --- routes from the IPAM plugin: in the pod netns via the gateway, in the result ----

new_netns "$(pod_ns rt)" || abort "netns rt"
RT_CONF=$(cni_conf 1.1.0 '.ipam.routes = [{dst: "192.0.2.0/24"}, {dst: "0.0.0.0/0"}]')
links_before=$(bl_links)
eps_before=$(ep_count)
hl_before=$(hl_reserved)
if cni_add rt000001 "$(nspath rt)" eth0 "$RT_CONF"; then
	have=$(px rt ip -4 route show 192.0.2.0/24)
	check ipam_route_in_pod "pod routes: $(px rt ip -4 route show | tr '\n' ';')" \
		grep -q "^192.0.2.0/24 via 169.254.1.1 dev eth0" <<<"$have"
	check ipam_route_in_result "$(jq -c .routes <<<"$CNI_OUT")" jqt '
		(.routes | index([{ dst: "192.0.2.0/24", gw: "169.254.1.1" }]) != null) and
		([.routes[] | select(.dst == "0.0.0.0/0")] | length == 1)' <<<"$CNI_OUT"
	cni_check rt000001 "$(nspath rt)" eth0 "$RT_CONF"
	check ipam_route_check "CHECK: exit $CNI_RC $CNI_OUT" [ "$CNI_RC" -eq 0 ]
	px rt ip route del 192.0.2.0/24
	cni_check rt000001 "$(nspath rt)" eth0 "$RT_CONF"
	expect_code ipam_route_check_missing 101 "no route to 192.0.2.0/24"
	cni_del rt000001 "$(nspath rt)" eth0 "$RT_CONF" || fail ipam_route_del "$CNI_OUT"
else
	fail ipam_route_in_pod "ADD with ipam.routes: $CNI_OUT"
fi
# refused before the veth has routes (host bits set; host-local passes it
# through) and refused by the kernel halfway (listed twice): both roll back
cni ADD rt000002 "$(nspath rt)" eth0 "$(cni_conf 1.1.0 '.ipam.routes = [{dst: "192.0.2.1/24"}]')"
expect_code ipam_route_bad "7" "192.0.2.1/24"
cni ADD rt000003 "$(nspath rt)" eth0 \
	"$(cni_conf 1.1.0 '.ipam.routes = [{dst: "192.0.2.0/24"}, {dst: "192.0.2.0/24"}]')"
expect_code ipam_route_twice 100 "192.0.2.0/24.*listed twice"
why=""
[ "$(bl_links)" = "$links_before" ] || why="$why links: $(bl_links | tr '\n' ' ')"
[ "$(ep_count)" = "$eps_before" ] || why="$why endpoints: $(ep_count) not $eps_before"
[ "$(hl_reserved)" = "$hl_before" ] || why="$why host-local: $(hl_reserved | tr '\n' ' ')"
cni_records | grep -q '^rt0' && why="$why records: $(cni_records | tr '\n' ' ')"
bl pod list --json | jq -e '.[] | select(.name | startswith("rt0"))' >/dev/null && why="$why pod-record"
px rt ip link show eth0 >/dev/null 2>&1 && why="$why eth0-in-rt-netns"
check ipam_route_bad_leaves_nothing "${why# }" [ -z "$why" ]

# --- GC: attachments the runtime no longer lists go, pod and address --------------------

new_netns "$(pod_ns g1)" && new_netns "$(pod_ns g2)" || abort "netns g1/g2"
cni_add gc000001 "$(nspath g1)" || abort "ADD g1: $CNI_OUT"
cni_add gc000002 "$(nspath g2)" || abort "ADD g2: $CNI_OUT"
ip_g2=$(jq -r '.ips[0].address | sub("/32$"; "")' <"$CNI_CACHE/gc000002-eth0")
cni GC "" "" "" "$(cni_conf 1.1.0 '. + {"cni.dev/valid-attachments": [
	{containerID: "gc000001", ifname: "eth0"}, {containerID: "'"$CID_B"'", ifname: "eth0"}]}')"
why=""
[ "$CNI_RC" -eq 0 ] || why="$why exit $CNI_RC $CNI_OUT"
[ -n "$(pod_ip gc000002.eth0)" ] && why="$why g2-pod-kept"
ep_has "$ip_g2" && why="$why g2-endpoint-kept"
hl_reserved | grep -qx "$ip_g2" && why="$why g2-address-kept"
[ -z "$(pod_ip gc000001.eth0)" ] && why="$why g1-removed"
[ -z "$(pod_ip "$CID_B.eth0")" ] && why="$why b-removed"
check gc_removes_stale "${why# }" [ -z "$why" ]
cni_check gc000001 "$(nspath g1)"
check gc_keeps_valid "CHECK g1 after GC: $CNI_OUT" [ "$CNI_RC" -eq 0 ]
rm -f "$CNI_CACHE/gc000002-eth0"
cni_del gc000001 "$(nspath g1)" || fail gc_del "$CNI_OUT"

# --- 32 ADDs at once, then 32 DELs at once -----------------------------------------------

N=32
for i in $(seq $N); do new_netns "$(pod_ns "par$i")" || abort "netns par$i"; done
par_pids=()
for i in $(seq $N); do
	( cni_add "par$i" "$(nspath "par$i")"; echo $CNI_RC >"$TMPD/par$i.rc" ) &
	par_pids+=($!)
	PIDS+=($!)
done
for p in "${par_pids[@]}"; do wait "$p"; done
nok=$(cat "$TMPD"/par*.rc 2>/dev/null | grep -c '^0$')
ips=$(for i in $(seq $N); do
	jq -r '.ips[0].address | sub("/32$"; "")' "$CNI_CACHE/par$i-eth0" 2>/dev/null
done | sort)
nuniq=$(echo "$ips" | grep -c .)
dups=$(echo "$ips" | uniq -d | tr '\n' ' ')
missing=""
for ip in $ips; do ep_has "$ip" || missing="$missing $ip"; done
npods=$(bl pod list --json | jq '[.[] | select(.name | startswith("par"))] | length')
check parallel_add "$nok/$N ok, $nuniq addresses, duplicates: '$dups', pods $npods" \
	[ "$nok" -eq $N -a "$nuniq" -eq $N -a -z "$dups" -a "$npods" -eq $N ]
check parallel_add_endpoints "endpoints missing:$missing" [ -z "$missing" ]
check parallel_add_reachable "par1 cannot reach par$N" \
	ping_ok "$(pod_ns par1)" "$(echo "$ips" | tail -n 1)" 2

par_pids=()
for i in $(seq $N); do
	( cni_del "par$i" "$(nspath "par$i")"; echo $CNI_RC >"$TMPD/par$i.rc" ) &
	par_pids+=($!)
	PIDS+=($!)
done
for p in "${par_pids[@]}"; do wait "$p"; done
nok=$(cat "$TMPD"/par*.rc 2>/dev/null | grep -c '^0$')
left=""
for ip in $ips; do
	ep_has "$ip" && left="$left ep:$ip"
	hl_reserved | grep -qx "$ip" && left="$left ipam:$ip"
done
npods=$(bl pod list --json | jq '[.[] | select(.name | startswith("par"))] | length')
nrec=$(cni_records | grep -c '^par')
check parallel_del "$nok/$N ok, pods left $npods, records left $nrec,$left" \
	[ "$nok" -eq $N -a "$npods" -eq 0 -a "$nrec" -eq 0 -a -z "$left" ]

# --- everything DELeted: no state left ------------------------------------------------------

cni_del "$CID_B" "$(nspath b)" || fail del_b "$CNI_OUT"
why=""
[ -z "$(bl_links)" ] || why="$why links: $(bl_links | tr '\n' ' ')"
[ "$(ep_count)" = 0 ] || why="$why endpoints: $(ep_count)"
[ -z "$(hl_reserved)" ] || why="$why host-local: $(hl_reserved | tr '\n' ' ')"
[ "$(state_files)" = "./node.json" ] || why="$why state: $(state_files | tr '\n' ' ')"
[ -d "$STATE/cni" ] && why="$why $STATE/cni"
[ -z "$(pinned_links | grep -v '^./uplink$')" ] || why="$why pinned links: $(pinned_links | tr '\n' ' ')"
check no_leftover_state "${why# }" [ -z "$why" ]

# --- node reset with a CNI pod: it goes as DEL takes it, host-local's address too ----------

new_netns "$(pod_ns reset)" || abort "netns reset"
cni_add reset001 "$(nspath reset)" || abort "ADD reset: $CNI_OUT"
ip_r=$(jq -r '.ips[0].address | sub("/32$"; "")' <<<"$CNI_OUT")
bl node reset || fail node_reset_cni_pod "node reset failed"
why=""
hl_reserved | grep -qx "$ip_r" && why="$why host-local still holds $ip_r"
[ -e "$STATE" ] && why="$why $STATE left: $(cd "$STATE" && find . | tr '\n' ' ')"
px reset ip link show eth0 >/dev/null 2>&1 && why="$why eth0 left in the pod netns"
check node_reset_cni_pod "${why# }" [ -z "$why" ]

finish
