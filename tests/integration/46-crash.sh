#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Crash consistency of the CLI: `pod add` and `pod del` killed (SIGKILL) at
# every step that changes something -- before each write, rename, link, unlink,
# mkdir, netlink request, bpf() call and lock-file update it makes, one at
# a time, made deterministic by strace's fault injection -- and then
# recovered by `pod del`, by the agent (one pass) or by the same pod add
# again (which must succeed). After each, the node is exactly as before:
# no veth, endpoint, route, link pin, address reservation or temporary
# file of the pod, and its address can be given out again. A pod that
# was there all along keeps working throughout.
TEST=crash
. "$(dirname "$0")/lib.sh"
require_bin
require_cmd strace jq bpftool
mount_bpffs

one_node_with_pods keep
VNS=$(pod_ns v)
new_netns "$VNS" || abort "netns v"
VIP=10.244.1.50
KEEP_IP=$(pod_ip keep)
# the syscalls that change state; a kill at a step leaves what the steps before made
STEPS="write pwrite64 rename link unlink mkdir ftruncate sendto bpf"

# view: what a killed command must not leave behind
view() {
	echo "links: $(bl_links | tr '\n' ' ')"
	echo "endpoints: $(ep_keys | sort | tr '\n' ' ')"
	echo "state: $(state_files | tr '\n' ' ')"
	echo "pins: $(pinned_links | tr '\n' ' ')"
	echo "routes: $(ndx ip -4 route show | tr '\n' ' ')"
	echo "pod netns: $(nx "$VNS" ip -o link show | awk -F': ' '{ print $2 }' | tr '\n' ' ')"
}
BASE=$(view)

# killed_at SYSCALL N ARGS...: bridgeless ARGS, SIGKILLed as it enters its
# Nth SYSCALL; status 137 if it was killed, its own if it finished first
killed_at() {
	local sc=$1 n=$2
	shift 2
	(cd "$TMPD" && timeout 60 nsenter --net="/run/netns/$(node_ns n1)" strace -qq -o /dev/null \
		-e trace="$sc" -e inject="$sc":signal=KILL:when="$n" \
		"$BIN" --pin-dir "$PIN" --state-dir "$STATE" "$@" >/dev/null 2>&1) 2>/dev/null
}

# state_of_v: the record's state ("" for none, "ready", "adding", "deleting")
state_of_v() {
	[ -e "$STATE/pods/v" ] || return 0
	jq -r '.state // "ready"' "$STATE/pods/v" 2>/dev/null || echo unreadable
}

# recover METHOD: finish what the kill left: `pod del`, the agent's pass, or
# the same command again (a pod add must then succeed, unless the first one
# had finished). A pod that exists after that is whole: it works, and goes
# with `pod del`. Prints what went wrong.
recover() {
	local m=$1 before
	before=$(state_of_v)
	case $m in
	del) bl pod del v >/dev/null 2>&1 || echo "pod del failed" ;;
	agent) bl agent --once --config /dev/null >>"$TMPD/agent.log" 2>&1 || echo "agent failed" ;;
	add) bl pod add v --netns "$VNS" --ip "$VIP" >/dev/null 2>&1 ||
		[ "$before" = ready ] || echo "pod add again failed (record was '$before')" ;;
	esac
	case $(state_of_v) in
	"") ;;
	ready)
		ping_ok "$VNS" "$KEEP_IP" 1 || echo "pod v is there but does not work"
		bl pod del v >/dev/null 2>&1 || echo "pod del of the whole pod failed"
		;;
	*) echo "record left '$(state_of_v)' after $m" ;;
	esac
}

# clean: the node is as before, and the address can be given out again
clean() {
	local now
	now=$(view)
	if [ "$now" != "$BASE" ]; then
		echo "left $(diff <(echo "$BASE") <(echo "$now") | grep '^>' | tr '\n' ' ')"
		return 1
	fi
	if ! bl pod add v --netns "$VNS" --ip "$VIP" >/dev/null 2>&1 || ! bl pod del v >/dev/null 2>&1; then
		echo "$VIP cannot be given out again"
		return 1
	fi
	return 0
}

k=0
# crash_cmd NAME SETUP "METHODS" COMMAND...: for each step kind, kill
# COMMAND at each of its steps in turn (after SETUP), recover with the
# next of METHODS, check; one line per kind
crash_cmd() {
	local name=$1 setup=$2 sc n rc why out m total=0
	local -a methods
	read -r -a methods <<<"$3"
	shift 3
	for sc in $STEPS; do
		why=""
		for ((n = 1; n < 200; n++)); do
			$setup
			killed_at "$sc" "$n" "$@"
			rc=$?
			m=${methods[k % ${#methods[@]}]}
			[ "$rc" = 137 ] || m=del # it finished: just clean up
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
pod_made() { bl pod add v --netns "$VNS" --ip "$VIP" >/dev/null 2>&1; }

crash_cmd pod_add no_setup "del agent add" pod add v --netns "$VNS" --ip "$VIP"
crash_cmd pod_del pod_made "del agent" pod del v

# the issue's reproducer: killed at the rename of its record, then `pod del`
killed_at rename 1 pod add v --netns "$VNS" --ip "$VIP"
bl pod del v >/dev/null 2>&1
why=$(clean)
check issue_reproducer "${why}" [ -z "$why" ]

check keep_untouched "pod keep ($KEEP_IP) lost its networking" \
	ping_ok "$(pod_ns keep)" 198.51.100.1 2
finish
