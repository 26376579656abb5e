#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# bridgeless monitor: drop events from the ring buffer name the reason (as
# `stats` does), the interface the packet came in on, the pod behind it and
# the 5-tuple; --json prints one JSON object a line; --trace samples forwarded
# packets and turns itself off on exit; --count and --duration bound it;
# SIGINT ends it cleanly; events from before it started are not shown.
TEST=monitor
. "$(dirname "$0")/lib.sh"
require_bin
require_cmd jq bpftool
mount_bpffs

one_node_with_pods a b
A=$(pod_ip a)
B=$(pod_ip b)
A_IF=$(podinfo a host_ifname)
B_IF=$(podinfo b host_ifname)
NS_A=$(pod_ns a)
SPOOF=10.244.1.250
NOBODY=10.244.1.251
diag "pods a=$A ($A_IF) b=$B ($B_IF)"
ping_ok "$NS_A" "$B" 2 || abort "control ping $A -> $B failed"
px a ip addr add "$SPOOF/32" dev eth0 || abort "cannot add the spoofed address in pod a"

# monitor_bg NAME ARGS...: start `bridgeless monitor ARGS` in the node
# namespace; its stdout goes to $TMPD/NAME.out, stderr to NAME.err. Waits
# (max 5 s) for the line saying it listens.
monitor_bg() {
	local name=$1 i
	shift
	bg_in "$(node_ns "$NODE")" 60 "$BIN" --pin-dir "$PIN" --state-dir "$STATE" \
		monitor "$@" >"$TMPD/$name.out" 2>"$TMPD/$name.err"
	MON_PID=$LAST_PID
	for i in $(seq 50); do
		grep -q 'listening for events' "$TMPD/$name.err" 2>/dev/null && return 0
		sleep 0.1
	done
	diag "monitor $name did not start: $(cat "$TMPD/$name.err")"
	return 1
}

# wait_exit PID [SECONDS]: wait for it to end (max 10 s), its status in RC
wait_exit() {
	local i
	for i in $(seq $((${2:-10} * 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	wait "$1" 2>/dev/null
	RC=$?
}

# --- text form: an anti-spoof drop and a no-endpoint (no route) drop --------
monitor_bg text || abort "monitor did not start"
ping_none "$NS_A" "$B" 2 -I "$SPOOF"
ping_none "$NS_A" "$NOBODY" 2
sleep 0.3
kill -INT "$MON_PID"
wait_exit "$MON_PID"
check text_sigint_exit "monitor did not exit 0 on SIGINT (status $RC)" [ "$RC" = 0 ]
out=$(cat "$TMPD/text.out")
diag "text output:"$'\n'"$out"

line=$(grep -m1 ' drop_spoof_ip ' <<<"$out")
if [ -n "$line" ]; then
	pass text_spoof_reason
else
	fail text_spoof_reason "no drop_spoof_ip event: $(head -3 <<<"$out")"
fi
check text_spoof_interface "spoof event does not name $A_IF: $line" grep -q " $A_IF " <<<"$line"
check text_spoof_pod "spoof event does not name pod a: $line" grep -q " pod a " <<<"$line"
check text_spoof_tuple "spoof event lacks 'icmp $SPOOF -> $B': $line" \
	grep -qF "icmp $SPOOF -> $B type 8 code 0" <<<"$line"
check text_spoof_is_drop "spoof event is not marked as a drop: $line" \
	grep -qE '^[0-9T:.-]+Z drop ' <<<"$line"

line=$(grep -m1 ' drop_no_endpoint ' <<<"$out")
if [ -n "$line" ]; then
	pass text_no_endpoint_reason
else
	fail text_no_endpoint_reason "no drop_no_endpoint event: $(head -3 <<<"$out")"
fi
check text_no_endpoint_detail "no-endpoint event lacks $A_IF, pod a or 'icmp $A -> $NOBODY': $line" \
	grep -qF "$A_IF pod a  icmp $A -> $NOBODY" <<<"$line"
check text_time_recent "event time is not today's UTC date: $line" \
	grep -q "^$(date -u +%Y-%m-%d)T" <<<"$line"
n=$(grep -c ' drop_spoof_ip ' <<<"$out")
check text_every_drop "$n drop_spoof_ip events for 2 spoofed pings" [ "$n" -ge 2 ]
check text_no_forward_events "forwarded packets shown without --trace" \
	bash -c "! grep -q '^[^ ]* trace ' <<<\"\$1\"" _ "$out"

# --- events from before the monitor started are not shown --------------------
ping_none "$NS_A" 10.244.1.252 2
monitor_bg json --json || abort "monitor --json did not start"
ping_none "$NS_A" "$B" 2 -I "$SPOOF"
ping_none "$NS_A" "$NOBODY" 2
sleep 0.3
kill -INT "$MON_PID"
wait_exit "$MON_PID"
jout=$(cat "$TMPD/json.out")
diag "json output:"$'\n'"$jout"
check stale_skipped "an event from before the monitor started was shown" \
	bash -c "! grep -q 10.244.1.252 <<<\"\$1\"" _ "$jout"

# --- JSON form: every line parses, fields as documented ------------------------
if jq -e . <<<"$jout" >/dev/null 2>&1 && [ -n "$jout" ]; then
	pass json_parses
else
	fail json_parses "jq cannot parse: $(head -2 <<<"$jout")"
fi
spoof=$(jq -c --arg s "$SPOOF" 'select(.reason == "drop_spoof_ip" and .saddr == $s)' <<<"$jout" | head -1)
check json_spoof_fields "spoof event: $spoof" jq -e --arg i "$A_IF" --arg d "$B" \
	'.type == "drop" and .interface == $i and .pod == "a" and .protocol == "icmp" and
	 .daddr == $d and .icmp_type == 8 and .len > 0 and (.ifindex | type) == "number" and
	 (.time | test("Z$")) and (.description | test("source IP"))' <<<"${spoof:-null}"
noep=$(jq -c 'select(.reason == "drop_no_endpoint")' <<<"$jout" | head -1)
check json_no_endpoint_fields "no-endpoint event: $noep" jq -e --arg a "$A" --arg d "$NOBODY" \
	'.type == "drop" and .pod == "a" and .saddr == $a and .daddr == $d' <<<"${noep:-null}"

# --- a TCP/UDP drop carries its ports ------------------------------------------
monitor_bg udp --json --count 1 || abort "monitor did not start"
px a bash -c "echo x > /dev/udp/$NOBODY/5353" 2>/dev/null
wait_exit "$MON_PID"
check count_exit "monitor --count 1 did not exit 0 by itself (status $RC)" [ "$RC" = 0 ]
udp=$(cat "$TMPD/udp.out")
check count_lines "monitor --count 1 printed $(grep -c . <<<"$udp") lines" \
	[ "$(grep -c . <<<"$udp")" = 1 ]
check json_udp_ports "udp drop: $udp" jq -e --arg d "$NOBODY" \
	'.protocol == "udp" and .daddr == $d and .dport == 5353 and .sport > 0' <<<"${udp:-null}"

# --- --trace: forwarded packets, sampled, and switched off on exit -------------
rate() {
	timeout 10 bpftool -j map dump pinned "$PIN/trace_cfg" |
		jq -r '[.. | .trace_rate? // empty][0]'
}
check trace_off_before "trace_cfg is $(rate) before any --trace" [ "$(rate)" = 0 ]
monitor_bg trace --json --trace --count 4 || abort "monitor --trace did not start"
check trace_on_while_running "trace_cfg is $(rate) while monitor --trace runs" [ "$(rate)" = 1 ]
ping_ok "$NS_A" "$B" 3
wait_exit "$MON_PID"
tout=$(cat "$TMPD/trace.out")
diag "trace output:"$'\n'"$tout"
fwd=$(jq -c 'select(.type == "trace" and .reason == "fwd_local" and .pod == "a")' <<<"$tout" | head -1)
check trace_fwd_local "no fwd_local trace event from pod a: $(head -2 <<<"$tout")" \
	jq -e --arg i "$B_IF" --arg d "$B" \
	'.out_interface == $i and .out_pod == "b" and .daddr == $d' <<<"${fwd:-null}"
check trace_off_after "trace_cfg is $(rate) after monitor --trace exited" [ "$(rate)" = 0 ]

monitor_bg trace100 --trace=100 --duration 1 || abort "monitor --trace=100 did not start"
check trace_rate_n "trace_cfg is $(rate) with --trace=100" [ "$(rate)" = 100 ]
wait_exit "$MON_PID"
check trace_off_after_duration "trace_cfg is $(rate) after --duration ended" [ "$(rate)" = 0 ]
check duration_exit "monitor --duration 1 exited with $RC" [ "$RC" = 0 ]

# SIGTERM also turns tracing off
monitor_bg term --trace || abort "monitor --trace did not start"
kill -TERM "$MON_PID"
wait_exit "$MON_PID"
check trace_off_after_sigterm "trace_cfg is $(rate) after SIGTERM (status $RC)" \
	[ "$(rate):$RC" = 0:0 ]

# --- bad arguments: one clear line, status 1 -----------------------------------
# fails_with NAME PATTERN ARGS...: `bridgeless ARGS` exits 1 with PATTERN
fails_with() {
	local name=$1 pat=$2 out rc
	shift 2
	out=$(bl "$@" 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && grep -q -- "$pat" <<<"$out"; then
		pass "$name"
	else
		fail "$name" "bridgeless $*: status $rc, '$out'"
	fi
}
fails_with bad_trace_rate 'sampling rate' monitor --trace=0
fails_with bad_count '--count' monitor --count x
fails_with bad_duration '--duration' monitor --duration -1

finish
