#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Crash consistency of the CNI plugin: ADD and DEL killed (SIGKILL) at
# every step that changes something (strace fault injection, one step at
# a time), then what a runtime or the node does next: DEL (what a runtime
# does after a failed ADD), the agent's pass, or the same ADD again, which
# must succeed. After each, nothing is left -- no veth, endpoint, route,
# link pin, pod or CNI record, temporary file -- and host-local holds no
# address: its range here is one address, which the next ADD gets again.
TEST=cni_crash
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni-lib.bash"
require_bin
require_cni
require_cmd strace jq bpftool
mount_bpffs

one_node_with_pods keep
cni_setup || abort "cni dirs"
KEEP_IP=$(pod_ip keep)
VNS=$(pod_ns v)
new_netns "$VNS" || abort "netns v"
CID=crash0001
CONF=$(cni_conf 1.1.0 '.ipam.ranges = [[{ subnet: "10.244.1.0/24",
	rangeStart: "10.244.1.60", rangeEnd: "10.244.1.60" }]]')
STEPS="write pwrite64 rename link unlink mkdir ftruncate sendto bpf"

view() {
	echo "links: $(bl_links | tr '\n' ' ')"
	echo "endpoints: $(ep_keys | sort | tr '\n' ' ')"
	echo "state: $(state_files | tr '\n' ' ')"
	echo "pins: $(pinned_links | tr '\n' ' ')"
	echo "routes: $(ndx ip -4 route show | tr '\n' ' ')"
	echo "pod netns: $(nx "$VNS" ip -o link show | awk -F': ' '{ print $2 }' | tr '\n' ' ')"
	echo "host-local: $(hl_reserved | tr '\n' ' ')"
}
BASE=$(view)

# killed_at SYSCALL N CMD: the plugin (not its IPAM plugin), SIGKILLed as it
# enters its Nth SYSCALL; status 137 if it was killed
killed_at() {
	local sc=$1 n=$2 cmd=$3
	printf '%s' "$CONF" | (cd "$TMPD" && timeout 60 nsenter --net="/run/netns/$(node_ns n1)" \
		env CNI_COMMAND="$cmd" CNI_CONTAINERID=$CID CNI_NETNS="$(nspath v)" \
		CNI_IFNAME=eth0 CNI_PATH="$CNI_BIN" \
		strace -qq -o /dev/null -e trace="$sc" -e inject="$sc":signal=KILL:when="$n" \
		"$CNI_BIN/bridgeless" >/dev/null 2>&1) 2>/dev/null
}

pod_state() {
	[ -e "$STATE/pods/$CID.eth0" ] || return 0
	jq -r '.state // "ready"' "$STATE/pods/$CID.eth0" 2>/dev/null || echo unreadable
}

recover() {
	local m=$1 before
	before=$(pod_state)
	case $m in
	del) cni DEL $CID "$(nspath v)" eth0 "$CONF" || echo "DEL: $CNI_OUT" ;;
	agent) bl agent --once --config /dev/null >>"$TMPD/agent.log" 2>&1 || echo "agent failed" ;;
	add) cni ADD $CID "$(nspath v)" eth0 "$CONF" ||
		[ "$before" = ready ] || echo "ADD again (pod '$before'): $(cni_msg)" ;;
	esac
	case $(pod_state) in
	"") ;;
	ready)
		ping_ok "$VNS" "$KEEP_IP" 1 || echo "the pod is there but does not work"
		cni DEL $CID "$(nspath v)" eth0 "$CONF" || echo "DEL of the whole pod: $CNI_OUT"
		;;
	*) echo "pod record left '$(pod_state)' after $m" ;;
	esac
	# the attachment's CNI record goes with it
	[ -z "$(cni_records)" ] || echo "cni records left after $m: $(cni_records | tr '\n' ' ')"
}

clean() {
	local now
	now=$(view)
	if [ "$now" != "$BASE" ]; then
		echo "left $(diff <(echo "$BASE") <(echo "$now") | grep '^>' | tr '\n' ' ')"
		return 1
	fi
	if ! cni ADD $CID "$(nspath v)" eth0 "$CONF" || ! cni DEL $CID "$(nspath v)" eth0 "$CONF"; then
		echo "no ADD after it: $(cni_msg)"
		return 1
	fi
	return 0
}

k=0
crash_cmd() {
	local name=$1 setup=$2 cmd=$4 sc n rc why out m total=0
	local -a methods
	read -r -a methods <<<"$3"
	for sc in $STEPS; do
		why=""
		for ((n = 1; n < 300; n++)); do
			$setup
			killed_at "$sc" "$n" "$cmd"
			rc=$?
			m=${methods[k % ${#methods[@]}]}
			[ "$rc" = 137 ] || m=del
			k=$((k + 1))
			out=$(recover "$m")
			[ -z "$out" ] || out="$out; "
			out="$out$(clean)"
			[ -z "$why" ] && [ -n "$out" ] && why="killed at $sc #$n, then $m: $out"
			[ "$rc" = 137 ] || break
			total=$((total + 1))
		done
		if [ -z "$why" ]; then
			pass "${name}_killed_at_$sc"
			diag "$name: $((n - 1)) kill points at $sc"
		else
			fail "${name}_killed_at_$sc" "$why"
		fi
	done
	diag "$name: $total kill points in all"
}

no_setup() { :; }
added() { cni ADD $CID "$(nspath v)" eth0 "$CONF" >/dev/null || diag "setup ADD: $(cni_msg)"; }

crash_cmd add no_setup "del agent add" ADD
crash_cmd del added "del agent" DEL

check keep_untouched "pod keep ($KEEP_IP) lost its networking" \
	ping_ok "$(pod_ns keep)" 198.51.100.1 2
finish
