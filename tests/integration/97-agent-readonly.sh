#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The agent on a state dir it cannot write (mounted read-only in a mount
# namespace of its own): it starts all the same, says why once, serves
# metrics, keeps the datapath (pods keep talking, NAT GC runs), and does
# no node init or repairs until the dir can be written. Its start prints
# nothing of libmicrohttpd's own (the logger option comes first).
TEST=agent_readonly
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_bin
require_cmd jq curl unshare
mount_bpffs

one_node_with_pods a b
B=$(pod_ip b)
LOG=$TMPD/agent.log
: >"$LOG"
unshare -m --propagation private bash -c '
	mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" || exit 9
	exec nsenter --net="$2" "$3" --pin-dir "$4" --state-dir "$1" agent --config /dev/null \
		--reconcile-interval 0.5 --nat-gc-interval 0.5 --metrics-listen 127.0.0.1:9967' \
	_ "$STATE" "/run/netns/$(node_ns n1)" "$BIN" "$PIN" 2>>"$LOG" &
AGENT=$!
PIDS+=($!)
if wait_log "$LOG" 'info: agent: running' 20; then
	pass starts_read_only
else
	abort "agent did not start: $(tail -3 "$LOG")"
fi
check says_why "$(head -3 "$LOG")" \
	grep -q "warn: agent: state dir $STATE cannot be written (Read-only file system): serving metrics, collecting NAT garbage and keeping the datapath as it is; no node init and no repairs until it can" "$LOG"
m=$(metrics_scrape n1 127.0.0.1:9967)
check serves_metrics "$(echo "$m" | grep -m2 -E 'datapath_up|nat_gc' | tr '\n' ' ')" \
	bash -c 'grep -q "^bridgeless_datapath_up 1$" <<<"$1"' _ "$m"
check pods_keep_talking "a cannot reach b" ping_ok "$(pod_ns a)" "$B" 2
sleep 1.5
check said_once "$(grep -c 'cannot be written' "$LOG") warnings" [ "$(grep -c 'cannot be written' "$LOG")" = 1 ]
check no_repairs "$(grep 'reconcile:' "$LOG" | tail -2)" bash -c '! grep -q "reconcile:" "$1"' _ "$LOG"
runs=$(metrics_scrape n1 127.0.0.1:9967 | awk '$1 == "bridgeless_agent_nat_gc_runs_total" { print $2 }')
check nat_gc_runs "nat gc runs: ${runs:-none}" [ "${runs:-0}" -ge 2 ]
check no_mhd_chatter "$(grep -i 'MHD_OPTION' "$LOG")" bash -c '! grep -qi "MHD_OPTION" "$1"' _ "$LOG"
kill -TERM "$AGENT"
wait "$AGENT"
check stops_cleanly "exit status $?" [ $? = 0 ]
check datapath_after_stop "a cannot reach b after the agent stopped" ping_ok "$(pod_ns a)" "$B" 2
finish
