#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Bad input: exit status 1, exactly one line on stderr starting "bridgeless: ",
# and nothing left behind -- no new link in the node namespace or the pod
# namespace, no new state file, no new endpoints entry, no new pin.
TEST=badinput
. "$(dirname "$0")/lib.sh"
require_bin
require_cmd jq bpftool
mount_bpffs

make_ext_and_node n1 || abort "topology"
new_netns "$(pod_ns x)" || abort "netns x"
NS_X=$(pod_ns x)

# snapshot: everything a failed command could have left behind
snapshot() {
	echo "links: $(bl_links | tr '\n' ' ')"
	echo "podns-links: $(nx "$NS_X" ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')"
	echo "state: $(state_files | tr '\n' ' ')"
	echo "endpoints: $(ep_keys | sort | tr '\n' ' ')"
	echo "pins: $([ -d "$PIN" ] && (cd "$PIN" && find . | sort | tr '\n' ' '))"
	echo "routes: $(ndx ip -4 route show | tr '\n' ' ')"
	echo "uplink-bpf: $(bpf_on_dev uplink | tr '\n' ' ')"
}

# bad NAME ARGS...: bridgeless ARGS must fail cleanly
bad() {
	local name=$1
	shift
	local before after rc err nlines why=""
	before=$(snapshot)
	err=$(bl "$@" 2>&1 >/dev/null)
	rc=$?
	after=$(snapshot)
	nlines=$(printf '%s' "$err" | grep -c '')
	[ "$rc" -eq 1 ] || why="$why; exit status $rc, want 1"
	[ "$nlines" -eq 1 ] || why="$why; stderr has $nlines lines, want 1"
	case $err in
	"bridgeless: "?*) ;;
	*) why="$why; stderr does not start with 'bridgeless: '" ;;
	esac
	if [ "$before" != "$after" ]; then
		why="$why; left behind: $(diff <(echo "$before") <(echo "$after") | grep '^>' | tr '\n' ' ')"
	fi
	if [ -z "$why" ]; then
		pass "$name"
		diag "$name: $err"
	else
		fail "$name" "bridgeless $* -> ${why#; } [stderr: $(echo "$err" | head -3 | tr '\n' '|')]"
	fi
}

# --- before node init ---
bad pod_add_before_init pod add p1 --netns "$NS_X"
bad init_unknown_uplink node init --uplink nosuchdev0 --pod-cidr 10.244.1.0/24
bad init_cidr_garbage node init --uplink uplink --pod-cidr banana
bad init_cidr_bad_prefix node init --uplink uplink --pod-cidr 10.244.1.0/33
bad init_cidr_bad_octet node init --uplink uplink --pod-cidr 10.244.1.300/24
bad init_cluster_cidr_garbage node init --uplink uplink --pod-cidr 10.244.1.0/24 --cluster-cidr 10.244.0.0/x
bad init_node_ip_garbage node init --uplink uplink --pod-cidr 10.244.1.0/24 --node-ip 1.2.3
bad init_missing_uplink node init --pod-cidr 10.244.1.0/24
# numbers and prefixes: plain digits only (strtoul took signs, blanks and wrapped negatives)
bad init_nat_max_negative node init --uplink uplink --pod-cidr 10.244.1.0/24 --nat-max -18446744073709551600
bad init_nat_ports_blanks node init --uplink uplink --pod-cidr 10.244.1.0/24 --nat-ports " +1- 2"
bad init_cidr_plus_len node init --uplink uplink --pod-cidr 10.0.0.0/+8
bad init_cidr_tab_len node init --uplink uplink --pod-cidr $'0.0.0.0/\t0'
bad init_cidr_zero_padded node init --uplink uplink --pod-cidr 10.244.1.0/024
bad init_service_cidr_plus_len node init --uplink uplink --pod-cidr 10.244.1.0/24 --service-cidr 10.96.0.0/+12
bad init_service_cidr_three node init --uplink uplink --pod-cidr 10.244.1.0/24 \
	--service-cidr 10.96.0.0/12 --service-cidr 10.100.0.0/16 --service-cidr 10.101.0.0/16
bad init_bpf_services_garbage node init --uplink uplink --pod-cidr 10.244.1.0/24 --bpf-services 1
bad monitor_duration_inf monitor --duration inf
bad monitor_duration_huge monitor --duration 1e300
bad metrics_port_plus metrics serve --listen 127.0.0.1:+80
bad metrics_port_zero metrics serve --listen 127.0.0.1:0
if [ -d "$PIN" ] && [ -n "$(ls -A "$PIN")" ]; then
	fail init_failures_leave_no_pins "pin dir has: $(ls -A "$PIN" | tr '\n' ' ')"
else
	pass init_failures_leave_no_pins
fi
st=$(bl node status --json 2>/dev/null)
check status_uninitialized "node status after failed inits: '$st'" \
	[ "$(echo "$st" | jq -r .initialized 2>/dev/null)" = false ]

# --- node initialized ---
node_init n1 10.244.1.0/24 >/dev/null || abort "node init failed"
mkpod a --ip 10.244.1.10 >/dev/null || abort "pod add a failed"

bad ip_outside_cidr pod add p1 --netns "$NS_X" --ip 10.244.9.5
bad ip_is_network_addr pod add p1 --netns "$NS_X" --ip 10.244.1.0
bad ip_is_broadcast_addr pod add p1 --netns "$NS_X" --ip 10.244.1.255
bad ip_garbage pod add p1 --netns "$NS_X" --ip 10.244.1.999
bad ip_already_used pod add p1 --netns "$NS_X" --ip 10.244.1.10
bad duplicate_name pod add a --netns "$NS_X"
bad missing_netns_name pod add p1 --netns "$PFX-nosuchns"
bad missing_netns_path pod add p1 --netns /run/netns/"$PFX"-nosuchns
bad netns_not_a_netns pod add p1 --netns /etc/hostname
bad missing_netns_arg pod add p1
bad name_empty pod add "" --netns "$NS_X"
bad name_slash pod add a/b --netns "$NS_X"
bad name_dotdot pod add .. --netns "$NS_X"
bad name_traversal pod add ../../x --netns "$NS_X"
bad ifname_too_long pod add p1 --netns "$NS_X" --ifname abcdefghijklmnopq
bad ifname_dot pod add p1 --netns "$NS_X" --ifname .
bad ifname_dotdot pod add p1 --netns "$NS_X" --ifname ..
bad ifname_control_char pod add p1 --netns "$NS_X" --ifname $'et\x01h0'
bad ifname_newline pod add p1 --netns "$NS_X" --ifname $'eth0\nbridgeless: forged'
bad ip_zero pod add p1 --netns "$NS_X" --ip 0.0.0.0
bad del_traversal pod del ../../etc/passwd
bad del_empty pod del ""
# a netns path over PATH_MAX - 1 bytes: refused, not cut to another path
long=/run/netns/$(printf 'n%.0s' $(seq 4100))
bad netns_path_too_long pod add p1 --netns "$long"
# a long reason keeps its cause (the error buffer cut it before)
comp=$(printf 'm%.0s' $(seq 250))
err=$(bl pod add p1 --netns "/run/netns/$(printf "$comp/%.0s" $(seq 12))x" 2>&1 >/dev/null)
check long_error_keeps_cause "stderr: ...${err: -100}" \
	bash -c '[[ $1 == "bridgeless: pod add p1: netns /run/netns/mmm"*": No such file or directory" ]]' _ "$err"
# a FIFO as netns: refused without opening it (open() blocked, holding the
# state lock, every pod add behind it); checked before the lock, so it is
# refused for what it is even while another command holds the lock
mkfifo "$TMPD/fifo"
bad netns_fifo pod add p1 --netns "$TMPD/fifo"
mkdir -p "$STATE"
flock -x "$STATE/lock" sleep 60 &
LOCKER=$!
PIDS+=($!)
for i in $(seq 50); do flock -n "$STATE/lock" true 2>/dev/null || break; sleep 0.1; done
err=$(BRIDGELESS_LOCK_TIMEOUT=1 bl pod add p1 --netns "$TMPD/fifo" 2>&1 >/dev/null)
check netns_fifo_before_lock "while the lock was held: '$err'" \
	bash -c '[[ $1 == *"$2"*"not a network namespace"* && $1 != *locked* ]]' _ "$err" "$TMPD/fifo"
kill "$LOCKER" 2>/dev/null
wait "$LOCKER" 2>/dev/null
# fails late, after the veth pair exists: the pod netns already has an eth0
ip -n "$NS_X" link add eth0 type veth peer name eth0peer || abort "own eth0 in netns x"
bad ifname_taken_in_netns pod add p1 --netns "$NS_X"
check ifname_taken_left_alone "the pod's own eth0 was changed" \
	[ "$(nx "$NS_X" ip -j link show eth0 | jq -r '.[0].link // empty')" = eth0peer ]
ip -n "$NS_X" link del eth0
bad unknown_command frobnicate
bad unknown_pod_subcommand pod frobnicate

# the pod that was there is intact after all of this
if [ "$(pod_ip a)" = 10.244.1.10 ] && ep_has 10.244.1.10 &&
	[ "$(bl pod list --json | jq length)" = 1 ]; then
	pass existing_pod_untouched
else
	fail existing_pod_untouched "pod list: $(bl pod list --json | tr -d '\n')"
fi
# and the netns the failures used still works for a good pod add
if mkpod_on n1 x >/dev/null 2>&1 && [ -n "$(pod_ip x)" ] &&
	ping_ok "$NS_X" 10.244.1.10 2; then
	pass good_add_after_failures
else
	fail good_add_after_failures "pod add x into the netns the failures used did not work"
fi

# --- pod CIDR exhausted: a /30 has two usable addresses ---
make_ext_and_node n2 || abort "topology n2"
if node_init n2 10.244.3.0/30 >/dev/null; then
	ok=1
	for p in e1 e2; do
		mkpod_on n2 "$p" >/dev/null || ok=0
	done
	if [ $ok = 1 ]; then
		pass small_cidr_two_pods
		new_netns "$(pod_ns e3)"
		NODE_SAVE=$NODE PIN_SAVE=$PIN STATE_SAVE=$STATE NS_X_SAVE=$NS_X
		NODE=n2 PIN=$(pin_of n2) STATE=$(state_of n2) NS_X=$(pod_ns e3)
		bad cidr_exhausted pod add e3 --netns "$NS_X"
		# freeing one makes room again
		if bl pod del e1 >/dev/null && mkpod_on n2 e3 >/dev/null &&
			[ -n "$(pod_ip e3)" ]; then
			pass cidr_reuse_after_del
		else
			fail cidr_reuse_after_del "pod add e3 after del e1 failed"
		fi
		NODE=$NODE_SAVE PIN=$PIN_SAVE STATE=$STATE_SAVE NS_X=$NS_X_SAVE
	else
		fail small_cidr_two_pods "pod add e1/e2 in 10.244.3.0/30 failed"
	fi
else
	fail small_cidr_two_pods "node init --pod-cidr 10.244.3.0/30 failed"
fi

finish
