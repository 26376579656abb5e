#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The agent repairs what went stale behind its back, each repair one log line:
# a pod whose netns was deleted, a pod whose host veth was deleted by hand
# (both removed, address released), a pod the CNI plugin added whose netns
# was deleted (removed as CNI DEL does, host-local's reservation released),
# a stray bl* veth (deleted; other names left alone), a pod record that does
# not parse (quarantined), a reservation without a pod and a temporary file
# (collected), a tcx link unpinned (pinned again: the agent
# holds the links), a tcx link detached (re-attached), the uplink's link
# unpinned (pinned again) and detached (re-attached), an endpoint entry deleted (restored), an entry
# with no pod (removed), a pod's host route deleted (restored). Also NAT GC
# in the agent with its own timeouts, and the fill-level warning.
TEST=agent_reconcile
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent-lib.bash"
. "$(dirname "$0")/cni-lib.bash"
require_bin
require_cmd jq bpftool ping
mount_bpffs

make_ext_and_node n1 || abort "topology"
LOG=$TMPD/agent.log
agent_start n1 "$LOG" --config /dev/null --uplink uplink --pod-cidr 10.244.1.0/24 \
	--cluster-cidr 10.244.0.0/16 --nat-max 64 --reconcile-interval 0.5 \
	--nat-gc-interval 0.5 --nat-timeout-udp 3 --nat-timeout-icmp 3
agent_ready n1 "$LOG" || abort "agent did not start: $(tail -3 "$LOG")"
for p in a b c d e f; do
	mkpod $p >/dev/null || abort "pod add $p"
done
declare -A IP HOSTIF
for p in a b c d e f; do
	IP[$p]=$(pod_ip $p)
	HOSTIF[$p]=$(podinfo $p host_ifname)
done
ping_ok "$(pod_ns f)" "${IP[c]}" 1 || abort "f cannot ping c"

# --- NAT GC in the agent: fill warning, its own timeouts -----------------------------------
# UDP flows to ext (a new source port each) from every CPU: 56 entries of 64,
# above 80%. The LRU is per CPU (each holds 64 / CPUs entries), so each CPU
# makes 7/8 of its share; in one go, so the table fills faster than the
# agent's timeouts empty it.
warned=0
CPUS=$(possible_cpus)
if [ "$CPUS" != "$(nproc --all)" ] || [ $((64 % CPUS)) != 0 ]; then
	skip nat_fill_warning "$CPUS possible CPUs, $(nproc --all) present: some shares of the per-CPU LRU cannot be filled"
else
	per=$((64 / CPUS * 7 / 8 / 2))
	for cpu in $(seq 0 $((CPUS - 1))); do
		px e taskset -c "$cpu" bash -c "for i in \$(seq $per); do echo x >/dev/udp/198.51.100.1/9; done" 2>/dev/null
	done
	if wait_for 10 grep -Eq "warn: nat: table [0-9]+% full \([0-9]+ of 64 entries\)" "$LOG"; then
		pass nat_fill_warning
		warned=1
	else
		fail nat_fill_warning "no warning; nat_new $(counter nat_new), nat list: $(bl nat list --json | jq length) mappings; $(tail -1 "$LOG")"
	fi
fi
# --nat-timeout-udp 3: the agent collects them without `nat gc`
nat_count() { timeout 10 bpftool -j map dump pinned "$PIN/nat" | jq length; }
nat_empty() { [ "$(nat_count)" = 0 ]; }
if wait_for 15 nat_empty && { [ "$warned" = 0 ] ||
	grep -Eq "info: nat: table back to [0-9]+% full" "$LOG"; }; then
	pass nat_gc_by_agent
else
	fail nat_gc_by_agent "$(nat_count) entries left; $(tail -1 "$LOG")"
fi


# gone POD: record, endpoint, address reservation and host veth all gone
gone() {
	local p=$1
	[ -z "$(podinfo "$p" ip)" ] && ! ep_has "${IP[$p]}" &&
		[ ! -e "$STATE/ipam/${IP[$p]}" ] && ! bl_links | grep -qx "${HOSTIF[$p]}"
}

# --- pod netns deleted ----------------------------------------------------------
ip netns del "$(pod_ns a)"
if wait_for 10 gone a && grep -q "warn: reconcile: pod a: netns /run/netns/$(pod_ns a) is gone; removed the pod and released ${IP[a]}" "$LOG"; then
	pass netns_deleted
else
	fail netns_deleted "pod a still there or not logged: $(bl pod list | grep -w a) $(tail -2 "$LOG")"
fi

# --- host veth deleted by hand --------------------------------------------------
ndx ip link del "${HOSTIF[b]}"
if wait_for 10 gone b && grep -q "warn: reconcile: pod b: host veth ${HOSTIF[b]} is gone; removed the pod and released ${IP[b]}" "$LOG"; then
	pass veth_deleted
else
	fail veth_deleted "pod b still there or not logged: $(tail -2 "$LOG")"
fi
# the released address is handed out again
mkpod g --ip "${IP[a]}" >/dev/null && [ "$(pod_ip g)" = "${IP[a]}" ] &&
	ping_ok "$(pod_ns g)" "${IP[f]}" 1
check released_ip_reused "pod add g --ip ${IP[a]} failed" [ $? = 0 ]

# --- a pod the CNI plugin added, netns deleted: host-local's reservation goes too --
if [ -x "$CNI" ] && [ -x "$REF/host-local" ]; then
	cni_setup || abort "cni dirs"
	# addresses pod add does not hand out to a..g meanwhile
	CONF=$(cni_conf 1.1.0 '.ipam.ranges = [[{ subnet: "10.244.1.0/24",
		rangeStart: "10.244.1.200", rangeEnd: "10.244.1.250" }]]')
	new_netns "$(pod_ns cnipod)" || abort "netns cnipod"
	if cni_add cnipod01 "$(nspath cnipod)" eth0 "$CONF"; then
		ip_c=$(jq -r '.ips[0].address | sub("/32$"; "")' <<<"$CNI_OUT")
		[ -e "$HL_DATA/$NET/$ip_c" ] || fail cni_pod_released "no reservation $HL_DATA/$NET/$ip_c after ADD"
		ip netns del "$(pod_ns cnipod)"
		cni_gone() {
			[ ! -e "$HL_DATA/$NET/$ip_c" ] && [ -z "$(pod_ip cnipod01.eth0)" ] &&
				! cni_records | grep -q '^cnipod01' && ! ep_has "$ip_c"
		}
		if wait_for 10 cni_gone &&
			grep -q "warn: reconcile: pod cnipod01.eth0: netns .* is gone; removed the pod and released $ip_c" "$LOG"; then
			pass cni_pod_released
		else
			fail cni_pod_released "host-local: $(hl_reserved | tr '\n' ' '), pod $(pod_ip cnipod01.eth0), records $(cni_records | tr '\n' ' '); $(tail -2 "$LOG")"
		fi
	else
		fail cni_pod_released "ADD: $CNI_OUT"
	fi
else
	skip cni_pod_released "no bridgeless-cni or host-local"
fi

# --- stray veths ----------------------------------------------------------------
no_link() { ! ndx ip link show "$1" >/dev/null 2>&1; }
ndx ip link add bl0badc0de type veth peer name stray-peer
ndx ip link add blother type veth peer name other-peer
ndx ip link add bl12345678 type bridge
wait_for 10 no_link bl0badc0de
sleep 1.5
why=""
no_link bl0badc0de || why="$why; bl0badc0de still there"
grep -q "warn: reconcile: veth bl0badc0de has no pod; deleted it" "$LOG" || why="$why; not logged"
ndx ip link show blother >/dev/null 2>&1 || why="$why; blother (not our name) was deleted"
ndx ip link show bl12345678 >/dev/null 2>&1 || why="$why; bridge bl12345678 (not a veth) was deleted"
check stray_veth_removed "${why#; }" [ -z "$why" ]
ndx ip link del blother 2>/dev/null
ndx ip link del bl12345678 2>/dev/null

# a pod record that does not parse goes to quarantine, said once, and the
# strays it may have owned are collected like any others
echo '{ "name": "broken"' >"$STATE/pods/broken"
ndx ip link add bl0badf00d type veth peer name stray2-peer
wait_for 10 no_link bl0badf00d
sleep 1
why=""
no_link bl0badf00d || why="$why; bl0badf00d not deleted"
[ -e "$STATE/pods/broken" ] && why="$why; record still in pods/"
[ -e "$STATE/quarantine/pods/broken" ] || why="$why; not in $STATE/quarantine/pods"
n=$(grep -c "warn: $STATE/pods/broken: .*line .*; moved it to $STATE/quarantine/pods/broken, out of the way" "$LOG")
[ "$n" = 1 ] || why="$why; said $n times: $(grep broken "$LOG" | tail -2)"
check bad_record_quarantined "${why#; }" [ -z "$why" ]

# a reservation of a pod that does not exist, and a killed writer's temporary
# file: both collected
printf ghost >"$STATE/ipam/10.244.1.241"
echo '{' >"$STATE/pods/.tmp.0123456789abcdef"
collected() { [ ! -e "$STATE/ipam/10.244.1.241" ] && [ ! -e "$STATE/pods/.tmp.0123456789abcdef" ]; }
if wait_for 10 collected &&
	grep -q "warn: reconcile: address 10.244.1.241 was reserved for ghost, which has no pod with that address; released it" "$LOG"; then
	pass stray_reservation_and_temp_collected
else
	fail stray_reservation_and_temp_collected "$(ls "$STATE/ipam" "$STATE/pods" -a | tr '\n' ' '); $(tail -2 "$LOG")"
fi

# attached POD: from_pod and to_pod of the pinned programs on its host veth,
# and traffic flows
from_pod_id() { timeout 10 bpftool -j prog show pinned "$PIN/$1" | jq -r .id; }
attached() {
	local p=$1 l
	l=$(timeout 10 bpftool -j link show pinned "$PIN/links/${HOSTIF[$p]}" 2>/dev/null | jq -r .prog_id)
	[ "$l" = "$(from_pod_id from_pod)" ] && ping_ok "$(pod_ns "$p")" "${IP[f]}" 1
}

# --- tcx link unpinned: the agent holds the link, so it stays attached and is pinned again --
rm -f "$PIN/links/${HOSTIF[c]}"
if wait_for 10 attached c && grep -q "warn: link pin $PIN/links/${HOSTIF[c]} was removed; pinned it again" "$LOG"; then
	pass tcx_link_unpinned
else
	fail tcx_link_unpinned "not pinned again: $(tail -2 "$LOG")"
fi

# --- tcx link detached (still pinned) ----------------------------------------------
if timeout 10 bpftool link detach pinned "$PIN/links/${HOSTIF[d]}-egress" 2>/dev/null; then
	if wait_for 10 grep -q "warn: reconcile: pod d: to_pod (egress) was not attached to ${HOSTIF[d]}; re-attached" "$LOG" &&
		attached d; then
		pass tcx_link_detached
	else
		fail tcx_link_detached "not re-attached: $(tail -2 "$LOG")"
	fi
else
	skip tcx_link_detached "bpftool cannot detach links here"
fi

# --- the uplink's attachment: its pin removed (pinned again), then detached (attached again) --
rm -f "$PIN/links/uplink"
if wait_for 10 grep -q "warn: link pin $PIN/links/uplink was removed; pinned it again" "$LOG" &&
	[ -e "$PIN/links/uplink" ] && ping_ok "$(pod_ns e)" 198.51.100.1 2; then
	pass uplink_link_repinned
else
	fail uplink_link_repinned "$(tail -2 "$LOG")"
fi
if timeout 10 bpftool link detach pinned "$PIN/links/uplink" 2>/dev/null; then
	if wait_for 10 grep -q "warn: reconcile: uplink uplink: from_uplink was not attached; re-attached" "$LOG" &&
		ping_ok "$(pod_ns e)" 198.51.100.1 2; then
		pass uplink_reattached
	else
		fail uplink_reattached "$(tail -2 "$LOG")"
	fi
else
	skip uplink_reattached "bpftool cannot detach links here"
fi

# --- endpoint entries ---------------------------------------------------------------------
# key bytes for bpftool: "10 244 1 5" -> "10 244 1 5" (decimal works)
# shellcheck disable=SC2046 # one word per key byte
timeout 10 bpftool map delete pinned "$PIN/endpoints" key $(echo "${IP[e]}" | tr . ' ')
if wait_for 10 ep_has "${IP[e]}" && grep -q "warn: reconcile: pod e: endpoint ${IP[e]} was missing; restored" "$LOG" &&
	ping_ok "$(pod_ns f)" "${IP[e]}" 1; then
	pass endpoint_restored
else
	fail endpoint_restored "$(tail -2 "$LOG")"
fi
# an entry for an address no pod has: ifindex 9, the rest zero
vsize=$(timeout 10 bpftool -j map show pinned "$PIN/endpoints" | jq .bytes_value)
# shellcheck disable=SC2046 # one word per value byte
timeout 10 bpftool map update pinned "$PIN/endpoints" key 10 244 1 200 \
	value 9 $(for ((i = 1; i < vsize; i++)); do echo 0; done)
ep_has 10.244.1.200 || diag "could not insert a stray endpoint"
not_ep() { ! ep_has "$1"; }
wait_for 10 not_ep 10.244.1.200
if ! ep_has 10.244.1.200 && grep -q "warn: reconcile: endpoint 10.244.1.200 has no pod; removed it" "$LOG"; then
	pass stray_endpoint_removed
else
	fail stray_endpoint_removed "$(ep_keys | tr '\n' ' ') $(tail -1 "$LOG")"
fi

# --- host route -------------------------------------------------------------------------
ndx ip route del "${IP[f]}/32"
has_route() { [ -n "$(route_to "$1")" ]; }
if wait_for 10 has_route "${IP[f]}" &&
	grep -q "warn: reconcile: pod f: host route ${IP[f]}/32 dev ${HOSTIF[f]} was missing; restored" "$LOG"; then
	pass host_route_restored
else
	fail host_route_restored "$(route_to "${IP[f]}") $(tail -1 "$LOG")"
fi

# the agent's counts, as Prometheus sees them
if grep -q 'agent: metrics on' "$LOG"; then
	m=$(metrics_scrape n1)
	metric() { echo "$m" | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'; }
	why=""
	[ "$(metric bridgeless_agent_endpoints_removed_total)" -ge 2 ] ||
		why="$why; endpoints_removed $(metric bridgeless_agent_endpoints_removed_total)"
	[ "$(metric bridgeless_agent_veths_removed_total)" -ge 1 ] ||
		why="$why; veths_removed $(metric bridgeless_agent_veths_removed_total)"
	[ "$(metric bridgeless_agent_reattached_total)" -ge 2 ] ||
		why="$why; reattached $(metric bridgeless_agent_reattached_total)"
	[ "$(metric bridgeless_agent_nat_expired_total)" -ge 1 ] ||
		why="$why; nat_expired $(metric bridgeless_agent_nat_expired_total)"
	[ "$(metric bridgeless_agent_reconcile_runs_total)" -ge 10 ] ||
		why="$why; reconcile_runs $(metric bridgeless_agent_reconcile_runs_total)"
	echo "$m" | grep -Eq '^bridgeless_nat_entries [0-9]+$' || why="$why; $(echo "$m" | grep '^bridgeless_nat_entries')"
	check metrics_agent_counts "${why#; }" [ -z "$why" ]
else
	skip metrics_agent_counts "this build serves no metrics"
fi

# nothing repaired twice: a healthy node gives no more repair lines
n0=$(grep -c 'warn: reconcile' "$LOG")
sleep 2
n1=$(grep -c 'warn: reconcile' "$LOG")
check quiet_when_healthy "$((n1 - n0)) new repair lines: $(tail -2 "$LOG")" [ "$n0" = "$n1" ]

finish
