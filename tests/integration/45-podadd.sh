#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# pod add details: host end named "bl" + FNV-1a of the pod name, MTU taken
# from the uplink, --ifname, `pod list --json` fields match the kernel, and
# concurrent `pod add` without --ip never hands out one address twice.
TEST=podadd
. "$(dirname "$0")/lib.sh"
require_bin
require_cmd jq
mount_bpffs

make_ext_and_node n1 || abort "topology"
# a non-default uplink MTU, so "same as the uplink" is visible
ndx ip link set uplink mtu 1400 || abort "uplink mtu"
nx "$EXT" ip link set up-n1 mtu 1400
node_init n1 10.244.1.0/24 >/dev/null || abort "node init failed"
mkpod web-0 >/dev/null || abort "pod add web-0 failed"

fnv1a() {
	local s=$1 h=2166136261 i c
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		h=$(((h ^ c) * 16777619 & 0xffffffff))
	done
	printf 'bl%08x' "$h"
}

hname=$(podinfo web-0 host_ifname)
check host_ifname_hash "host end '$hname', want $(fnv1a web-0)" [ "$hname" = "$(fnv1a web-0)" ]

m_pod=$(px web-0 ip -j link show eth0 | jq -r '.[0].mtu')
m_host=$(ndx ip -j link show "$hname" | jq -r '.[0].mtu')
check mtu_from_uplink "pod eth0 mtu $m_pod, host end $m_host, uplink 1400" \
	[ "$m_pod:$m_host" = 1400:1400 ]

# a 1400-byte IP packet passes, in both directions, unfragmented
check full_mtu_ping "ping -s 1372 -M do from the node to web-0 failed" \
	ping_ok "$(node_ns n1)" "$(pod_ip web-0)" 2 -s 1372 -M "do"

# pod list --json against the kernel
j=$(bl pod list --json | jq -c '.[] | select(.name == "web-0")')
why=""
[ "$(echo "$j" | jq -r .netns)" = "/run/netns/$(pod_ns web-0)" ] || why="$why; netns $(echo "$j" | jq -r .netns)"
[ "$(echo "$j" | jq -r .ifname)" = eth0 ] || why="$why; ifname $(echo "$j" | jq -r .ifname)"
[ "$(echo "$j" | jq -r .host_ifindex)" = "$(ndx ip -j link show "$hname" | jq -r '.[0].ifindex')" ] ||
	why="$why; host_ifindex"
[ "$(echo "$j" | jq -r .mac)" = "$(px web-0 ip -j link show eth0 | jq -r '.[0].address')" ] || why="$why; mac"
[ "$(echo "$j" | jq -r .host_mac)" = "$(ndx ip -j link show "$hname" | jq -r '.[0].address')" ] ||
	why="$why; host_mac"
check pod_list_json "pod list --json disagrees with the kernel:${why#;} ($j)" [ -z "$why" ]

# --ifname, and a netns given as a /proc/PID/ns/net path
new_netns "$(pod_ns side)" || abort "netns side"
bg_in "$(pod_ns side)" 60 sleep 60
# nsenter execs timeout: that process lives in the pod's netns
spid=$LAST_PID
sleep 0.1
if bl pod add side --netns "/proc/$spid/ns/net" --ifname net1 >/dev/null; then
	POD_NODE[side]=n1
	if px side ip link show net1 >/dev/null 2>&1 &&
		ping_ok "$(pod_ns side)" "$(pod_ip web-0)" 2; then
		pass ifname_and_proc_netns
	else
		fail ifname_and_proc_netns "pod side has no working net1"
	fi
else
	fail ifname_and_proc_netns "pod add side --netns /proc/$spid/ns/net --ifname net1 failed"
fi

# the longest pod name the CLI accepts (Kubernetes allows 253 characters)
long=$(printf 'p%.0s' $(seq 253))
new_netns "$(pod_ns long)" || abort "netns long"
err=$(bl pod add "$long" --netns "$(pod_ns long)" 2>&1 >/dev/null)
rc=$?
if [ $rc -eq 0 ]; then
	if px long ip link show eth0 >/dev/null 2>&1 && bl pod del "$long" >/dev/null &&
		! px long ip link show eth0 >/dev/null 2>&1; then
		pass name_253_chars
	else
		fail name_253_chars "pod with a 253-character name: add worked, eth0 or del did not"
	fi
elif echo "$err" | grep -qi 'invalid pod name'; then
	# refusing it is fine too, as long as it is said up front
	pass name_253_chars
else
	fail name_253_chars "pod add with a 253-character name: exit $rc, ${err: -120}"
fi

# concurrent pod add: every one succeeds, no address twice
N=12
for i in $(seq $N); do new_netns "$(pod_ns "c$i")" || abort "netns c$i"; done
for i in $(seq $N); do
	bl pod add "c$i" --netns "$(pod_ns "c$i")" >"$TMPD/c$i.out" 2>&1 &
	PIDS+=($!)
	cpids+=($!)
done
nok=0
for p in "${cpids[@]}"; do wait "$p" && nok=$((nok + 1)); done
ips=$(bl pod list --json | jq -r '.[] | select(.name | startswith("c")) | .ip' | sort)
nuniq=$(echo "$ips" | grep -c . )
ndup=$(echo "$ips" | uniq -d | grep -c .)
if [ "$nok" -eq $N ] && [ "$nuniq" -eq $N ] && [ "$ndup" -eq 0 ]; then
	pass concurrent_pod_add
else
	fail concurrent_pod_add "$nok/$N succeeded, $nuniq listed, duplicates: $(echo "$ips" | uniq -d | tr '\n' ' ') $(cat "$TMPD"/c*.out | head -3 | tr '\n' '|')"
fi
for i in $(seq $N); do POD_NODE[c$i]=n1; done
# and every one of them has its own working datapath entry
bad=""
for i in $(seq $N); do
	ip=$(pod_ip "c$i")
	ep_has "$ip" || bad="$bad c$i(no endpoint)"
done
check concurrent_endpoints "endpoints missing:$bad" [ -z "$bad" ]
check concurrent_reachable "c1 cannot reach c$N" ping_ok "$(pod_ns c1)" "$(pod_ip "c$N")" 2

finish
