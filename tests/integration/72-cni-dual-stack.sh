#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The CNI plugin on a dual-stack node, with the reference host-local IPAM
# plugin and one range per family: ADD gives the pod both addresses and a
# default route per family (in every supported spec version's shape), the
# IPAM plugin's routes of both families go through the gateway of their
# family, CHECK finds what is missing in either family, a failed ADD gives
# both reservations back, DEL leaves nothing; `cni install` writes both
# ranges; the pods talk over both families.
TEST=cni_dual_stack
IPV6=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni-lib.bash"
require_bin
require_cni
require_cmd jq bpftool
mount_bpffs

make_ext_and_node n1 || abort "topology"
node_init6 n1 1 >/dev/null || abort "node init (dual-stack) failed"
cni_setup || abort "cni setup"

# host-local with one range per family, and a route of each family
conf_ds() {
	cni_conf "${1:-1.1.0}" '.ipam.ranges = [[{subnet: "10.244.1.0/24"}],
		[{subnet: "fd00:10:244:1::/64"}]] |
		.ipam.routes = [{dst: "192.0.2.0/24"}, {dst: "2001:db8:5::/48"}]'
}

new_netns "$(pod_ns p1)" || abort "netns p1"
new_netns "$(pod_ns p2)" || abort "netns p2"

# --- ADD in every spec version: both addresses, a default route per family ---
for v in 1.1.0 1.0.0 0.4.0 0.3.1; do
	cid=ver${v//./}
	new_netns "$(pod_ns "$cid")" || abort "netns $cid"
	if cni_add "$cid" "$(nspath "$cid")" eth0 "$(conf_ds "$v")"; then
		if echo "$CNI_OUT" | jqt --arg v "$v" '
			.cniVersion == $v and
			([.ips[].address] | map(select(endswith("/32"))) | length) == 1 and
			([.ips[].address] | map(select(test("^fd00:10:244:1::[0-9a-f]+/128$"))) | length) == 1 and
			([.routes[] | select(.dst == "0.0.0.0/0" and .gw == "169.254.1.1")] | length) == 1 and
			([.routes[] | select(.dst == "::/0" and .gw == "fe80::1")] | length) == 1 and
			([.routes[] | select(.dst == "2001:db8:5::/48" and .gw == "fe80::1")] | length) == 1 and
			([.routes[] | select(.dst == "192.0.2.0/24" and .gw == "169.254.1.1")] | length) == 1 and
			(if ($v | startswith("0.")) then ([.ips[].version] | sort) == ["4", "6"]
			 else ([.ips[] | has("version")] | any | not) end)'; then
			pass "add_result_$cid"
		else
			fail "add_result_$cid" "result: $(echo "$CNI_OUT" | jq -c .)"
		fi
		cni_del "$cid" "$(nspath "$cid")" eth0 "$(conf_ds "$v")" >/dev/null
	else
		fail "add_result_$cid" "ADD failed: $CNI_OUT"
	fi
done

# --- the pod as ADD left it ----------------------------------------------------------
cni_add p1 "$(nspath p1)" eth0 "$(conf_ds)" || abort "ADD p1: $CNI_OUT"
P1=$(echo "$CNI_OUT" | jq -r '.ips[] | select(.address | endswith("/32")) | .address' | cut -d/ -f1)
P1_6=$(echo "$CNI_OUT" | jq -r '.ips[] | select(.address | endswith("/128")) | .address' | cut -d/ -f1)
cni_add p2 "$(nspath p2)" eth0 "$(conf_ds)" || abort "ADD p2: $CNI_OUT"
P2_6=$(echo "$CNI_OUT" | jq -r '.ips[] | select(.address | endswith("/128")) | .address' | cut -d/ -f1)
diag "p1 $P1 $P1_6, p2 $P2_6"
r6=$(px p1 ip -6 route show)
if echo "$r6" | grep -q '^default via fe80::1 dev eth0' &&
	echo "$r6" | grep -q '^2001:db8:5::/48 via fe80::1 dev eth0' &&
	px p1 ip -6 -o addr show dev eth0 | grep -q "$P1_6/128"; then
	pass pod_routes_both_families
else
	fail pod_routes_both_families "p1 IPv6 routes: $r6"
fi
hl=$(ls "$HL_DATA/$NET" 2>/dev/null | grep -c -e "^$P1\$" -e "^$P1_6\$")
check host_local_both_reserved "host-local files for $P1 and $P1_6: $hl (want 2)" [ "$hl" = 2 ]
check pods_talk_ipv6 "ping6 $P1_6 -> $P2_6 failed" ping6_ok "$(pod_ns p1)" "$P2_6" 3
check pods_talk_ipv4 "ping p1 -> p2 (IPv4) failed" \
	ping_ok "$(pod_ns p1)" "$(echo "$CNI_OUT" | jq -r '.ips[] | select(.address | endswith("/32")) | .address' | cut -d/ -f1)" 3

# --- CHECK: fine, then each family's piece taken away --------------------------
if cni_check p1 "$(nspath p1)" eth0 "$(conf_ds)"; then
	pass check_dual_stack_ok
else
	fail check_dual_stack_ok "CHECK failed: $CNI_OUT"
fi
px p1 ip -6 route del default via fe80::1 dev eth0
cni_check p1 "$(nspath p1)" eth0 "$(conf_ds)"
expect_code check_missing_ipv6_default 101 "IPv6 default route"
px p1 ip -6 route add default via fe80::1 dev eth0
px p1 ip -6 route del 2001:db8:5::/48 via fe80::1 dev eth0
cni_check p1 "$(nspath p1)" eth0 "$(conf_ds)"
expect_code check_missing_ipv6_ipam_route 101 "2001:db8:5::/48"
px p1 ip -6 route add 2001:db8:5::/48 via fe80::1 dev eth0
px p1 ip -6 addr del "$P1_6/128" dev eth0
cni_check p1 "$(nspath p1)" eth0 "$(conf_ds)"
expect_code check_missing_ipv6_address 101 "lost its address"
px p1 ip -6 addr add "$P1_6/128" dev eth0 nodad
key=$(echo "$P1_6" | python3 -c 'import ipaddress,sys; print(" ".join(str(b) for b in ipaddress.IPv6Address(sys.stdin.read().strip()).packed))')
# shellcheck disable=SC2086 # the key's 16 bytes, as bpftool wants them
timeout 10 bpftool map delete pinned "$PIN/endpoints6" key $key
cni_check p1 "$(nspath p1)" eth0 "$(conf_ds)"
expect_code check_missing_endpoint6 101 "endpoints6"

# --- DEL leaves nothing of either family -------------------------------------------
cni_del p1 "$(nspath p1)" eth0 "$(conf_ds)"
cni_del p2 "$(nspath p2)" eth0 "$(conf_ds)"
left_hl=$(ls "$HL_DATA/$NET" 2>/dev/null | grep -c -E '^(10\.|fd00)')
eps=$(timeout 10 bpftool -j map dump pinned "$PIN/endpoints6" | jq length)
eps4=$(ep_count)
if [ "$left_hl" = 0 ] && [ "$eps" = 0 ] && [ "$eps4" = 0 ] && [ -z "$(bl_links)" ] &&
	[ -z "$(state_files | grep -e '^./ipam/[0-9f]' -e '^./pods/')" ]; then
	pass del_leaves_nothing
else
	fail del_leaves_nothing "host-local $left_hl, endpoints6 $eps, endpoints $eps4, links $(bl_links | tr '\n' ' '), state $(state_files | tr '\n' ' ')"
fi

# --- a failed ADD gives both reservations back --------------------------------------
new_netns "$(pod_ns p3)" || abort "netns p3"
px p3 ip link add eth0 type veth peer name x0
cni_add p3 "$(nspath p3)" eth0 "$(conf_ds)"
left_hl=$(ls "$HL_DATA/$NET" 2>/dev/null | grep -c -E '^(10\.|fd00)')
if [ "$CNI_RC" != 0 ] && [ "$left_hl" = 0 ] && [ -z "$(bl_links)" ]; then
	pass add_failure_releases_both
else
	fail add_failure_releases_both "ADD rc $CNI_RC, host-local reservations left $left_hl, links $(bl_links | tr '\n' ' ')"
fi

# --- an IPv6 range outside the node's IPv6 pod CIDR is refused (7) -----------------
cni_add p2 "$(nspath p2)" eth0 "$(cni_conf 1.1.0 '.ipam.ranges = [[{subnet: "fd00:99::/64"}]]')"
expect_code add_ipv6_outside_pod_cidr 7 "IPv6 pod CIDR"

# --- cni install: one range per family ----------------------------------------------
conf_dir=$TMPD/netd
if bl cni install --bin-dir "$TMPD/bin" --conf-dir "$conf_dir" >/dev/null &&
	jq -e '.plugins[0].ipam.ranges == [[{"subnet": "10.244.1.0/24"}], [{"subnet": "fd00:10:244:1::/64"}]]' \
		"$conf_dir/10-bridgeless.conflist" >/dev/null; then
	pass cni_install_both_ranges
else
	fail cni_install_both_ranges "conflist: $(jq -c '.plugins[0].ipam' "$conf_dir/10-bridgeless.conflist" 2>&1)"
fi

finish
