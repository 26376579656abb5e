#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Inspection with bpftool: maps are pinned with BTF, so dumps show field names,
# and the values match what `pod list` and `node status` report.
TEST=bpftool
. "$(dirname "$0")/lib.sh"
require_bin
require_cmd jq bpftool
mount_bpffs

make_ext_and_node n1 || abort "topology"
node_init n1 10.244.1.0/24 >/dev/null || abort "node init failed"
mkpod a >/dev/null || abort "pod add a failed"

# node status agrees with what init was given and with the kernel
st=$(bl node status --json)
want=$(jq -cn --arg ifx "$(ndx ip -j link show uplink | jq -r '.[0].ifindex')" \
	'{initialized: true, uplink: "uplink", uplink_ifindex: ($ifx | tonumber),
	  node_ip: "198.51.100.2", pod_cidr: "10.244.1.0/24", cluster_cidr: "10.244.0.0/16", pods: 1}')
got=$(echo "$st" | jq -c '{initialized, uplink, uplink_ifindex, node_ip, pod_cidr, cluster_cidr, pods}')
check node_status_json "node status --json: $got, want $want" [ "$got" = "$want" ]
fwd=$(ndx cat /proc/sys/net/ipv4/ip_forward)
check node_ip_forward "ip_forward in the node ns is $fwd after node init" [ "$fwd" = 1 ]

# defaults: --cluster-cidr is the pod CIDR, --node-ip the uplink's address;
# an explicit --node-ip is kept
make_ext_and_node n2 || abort "topology n2"
if bln n2 node init --uplink uplink --pod-cidr 10.244.2.0/24 >/dev/null; then
	got=$(bln n2 node status --json | jq -c '{node_ip, cluster_cidr}')
	check init_defaults "node status: $got" \
		[ "$got" = '{"node_ip":"198.51.100.3","cluster_cidr":"10.244.2.0/24"}' ]
	ndx n2 ip addr add 198.51.100.33/24 dev uplink
	if bln n2 node reset >/dev/null &&
		bln n2 node init --uplink uplink --pod-cidr 10.244.2.0/24 --node-ip 198.51.100.33 >/dev/null; then
		got=$(bln n2 node status --json | jq -r .node_ip)
		check init_node_ip "node_ip '$got' after --node-ip 198.51.100.33" [ "$got" = 198.51.100.33 ]
	else
		fail init_node_ip "reset + init --node-ip 198.51.100.33 failed"
	fi
else
	fail init_defaults "node init without --cluster-cidr failed"
fi

for m in endpoints config counters from_pod from_uplink; do
	if [ -e "$PIN/$m" ]; then
		pass "pinned_$m"
	else
		fail "pinned_$m" "$PIN/$m missing (pin dir has: $(ls "$PIN" 2>/dev/null | tr '\n' ' '))"
	fi
done

# map show: BTF attached
for m in endpoints config counters; do
	btf=$(timeout 10 bpftool -j map show pinned "$PIN/$m" 2>/dev/null | jq -r '.btf_id // 0')
	check "btf_$m" "map $m has no BTF (btf_id '$btf')" [ "${btf:-0}" -gt 0 ]
done

# plain text dump, as an operator would read it
dump=$(timeout 10 bpftool map dump pinned "$PIN/endpoints" 2>&1)
missing=""
for f in ip ifindex pod_mac host_mac id; do
	echo "$dump" | grep -q "\"$f\"" || missing="$missing $f"
done
if [ -z "$missing" ]; then
	pass endpoints_dump_field_names
else
	fail endpoints_dump_field_names "missing fields:$missing in: $(echo "$dump" | head -20 | tr '\n' ' ')"
fi

# the values are the pod's: ifindex of the host end, MACs of both ends
ifx=$(podinfo a host_ifindex)
mac=$(podinfo a mac)
hmac=$(podinfo a host_mac)
hname=$(podinfo a host_ifname)
real_ifx=$(ndx ip -j link show "$hname" | jq -r '.[0].ifindex')
real_hmac=$(ndx ip -j link show "$hname" | jq -r '.[0].address')
real_mac=$(px a ip -j link show eth0 | jq -r '.[0].address')
fmt=$(timeout 10 bpftool -j map dump pinned "$PIN/endpoints" | jq -c '.[0].formatted.value // empty')
d_ifx=$(echo "$fmt" | jq -r '.ifindex')
if [ "$ifx" = "$real_ifx" ] && [ "$hmac" = "$real_hmac" ] && [ "$mac" = "$real_mac" ] &&
	[ "$d_ifx" = "$real_ifx" ]; then
	pass endpoint_values
else
	fail endpoint_values "pod list: ifindex $ifx mac $mac host_mac $hmac; kernel: $real_ifx $real_mac $real_hmac; map ifindex $d_ifx ($fmt)"
fi
# the MACs in the map, byte for byte
m_pod=$(echo "$fmt" | jq -r '.pod_mac | map(if type == "string" then . else tostring end) | join(" ")')
want_pod=$(for b in ${real_mac//:/ }; do printf '%d ' "0x$b"; done | sed 's/ $//')
m_pod_dec=$(for b in $m_pod; do printf '%d ' "$b"; done | sed 's/ $//')
check endpoint_pod_mac "map pod_mac [$m_pod] != eth0 $real_mac" [ "$m_pod_dec" = "$want_pod" ]

cfg=$(timeout 10 bpftool map dump pinned "$PIN/config" 2>&1)
missing=""
for f in node_ip pod_cidr cluster_cidr uplink_ifindex; do
	echo "$cfg" | grep -q "\"$f\"" || missing="$missing $f"
done
check config_dump_field_names "config dump lacks:$missing" [ -z "$missing" ]
upl=$(ndx ip -j link show uplink | jq -r '.[0].ifindex')
c_upl=$(timeout 10 bpftool -j map dump pinned "$PIN/config" | jq -r '.[0].formatted.value.uplink_ifindex // empty')
check config_uplink_ifindex "config uplink_ifindex '$c_upl', uplink is $upl" [ "$c_upl" = "$upl" ]

cnt=$(timeout 10 bpftool map dump pinned "$PIN/counters" 2>&1)
check counters_dump_field_names "counters dump lacks packets/bytes" \
	bash -c 'echo "$1" | grep -q "\"packets\"" && echo "$1" | grep -q "\"bytes\""' _ "$cnt"

# programs: pinned, loaded with BTF, named
for p in from_pod from_uplink; do
	name=$(timeout 10 bpftool -j prog show pinned "$PIN/$p" 2>/dev/null | jq -r '.name // empty')
	check "prog_$p" "pinned program $p has name '$name'" [ "$name" = "$p" ]
done

finish
