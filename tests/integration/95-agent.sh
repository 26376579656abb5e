#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The agent is restart-safe: while two pods ping each other and the ext
# namespace every 10 ms and stream TCP (iperf3, pod to pod and pod to ext,
# the latter through BPF SNAT), the agent is killed with SIGKILL and started
# again three times, then upgraded. A rebuild is not possible inside a test,
# so the upgrade is what an upgrade does to the datapath: `node init` and a
# new agent start each load a fresh copy of the BPF object and replace the
# programs in place (pinned maps reused, tcx links updated atomically); the
# test checks the programs really are new ones. Asserted: zero lost pings,
# both TCP streams complete with no reset or error. Then: SIGTERM stops the
# agent and leaves the datapath running; bad config files give one clear
# line naming the file, line and problem; pod add works while the agent runs.
TEST=agent
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_bin
require_cmd jq bpftool iperf3 ping
mount_bpffs

make_ext_and_node n1 || abort "topology"
LOGS=$TMPD/logs
mkdir -p "$LOGS"

# --- the agent initializes a fresh node ---------------------------------------
agent_start n1 "$LOGS/agent0.log" --config /dev/null --uplink uplink \
	--pod-cidr 10.244.1.0/24 --cluster-cidr 10.244.0.0/16 --reconcile-interval 1
if agent_ready n1 "$LOGS/agent0.log" &&
	[ "$(bl node status --json | jq -r .initialized)" = true ]; then
	pass agent_initializes_node
else
	abort "agent did not initialize the node: $(tail -3 "$LOGS/agent0.log")"
fi

# pod add (takes the state lock) works while the agent runs
if mkpod a >/dev/null && mkpod b >/dev/null; then
	pass pod_add_while_agent_runs
else
	abort "pod add failed while the agent runs"
fi
B=$(pod_ip b)
ping_ok "$(pod_ns a)" "$B" 2 || abort "a cannot ping b"
ping_ok "$(pod_ns a)" 198.51.100.1 2 || abort "a cannot ping ext"

# prog_ids: ids of the pinned programs, "name id" a line
prog_ids() {
	local p
	for p in from_pod from_uplink to_pod; do
		echo "$p $(timeout 10 bpftool -j prog show pinned "$PIN/$p" | jq -r .id)"
	done
}
# link_progs: the program each pinned link runs
link_progs() {
	local f
	find "$PIN/links" -type f | sort | while read -r f; do
		echo "${f##*/} $(timeout 10 bpftool -j link show pinned "$f" | jq -r .prog_id)"
	done
}
# links_on_current: every link runs a program that is pinned now
links_on_current() {
	local cur
	cur=$(prog_ids | awk '{ print $2 }')
	link_progs | awk '{ print $2 }' | while read -r id; do
		echo "$cur" | grep -qx "$id" || { echo "stale prog $id"; return 1; }
	done
}

# --- traffic through restarts and the upgrade ----------------------------------
N=3000 # pings every 10 ms: 30 s, longer than the restarts take
nsenter --net="/run/netns/$(pod_ns a)" ping -n -q -i 0.01 -W 2 -c $N "$B" >"$TMPD/ping_pod" 2>&1 &
PING1=$!
PIDS+=($!)
nsenter --net="/run/netns/$(pod_ns a)" ping -n -q -i 0.01 -W 2 -c $N 198.51.100.1 >"$TMPD/ping_ext" 2>&1 &
PING2=$!
PIDS+=($!)
bg_in "$(pod_ns b)" 60 iperf3 -s -1 -p 5201 -J >/dev/null
SRV1=$LAST_PID
bg_in "$EXT" 60 iperf3 -s -1 -p 5202 -J >/dev/null
SRV2=$LAST_PID
wait_listen "$(pod_ns b)" 5201 && wait_listen "$EXT" 5202 || abort "iperf3 servers did not start"
# rate-limited: the point is a connection that lives through every step
nsenter --net="/run/netns/$(pod_ns a)" iperf3 -c "$B" -p 5201 -t 28 -b 20M -J >"$TMPD/tcp_pod" 2>&1 &
TCP1=$!
PIDS+=($!)
nsenter --net="/run/netns/$(pod_ns b)" iperf3 -c 198.51.100.1 -p 5202 -t 28 -b 20M -J >"$TMPD/tcp_ext" 2>&1 &
TCP2=$!
PIDS+=($!)
sleep 2

restarts_ok=1
for i in 1 2 3; do
	agent_kill n1 KILL
	diag "restart $i: agent killed with SIGKILL (status $AGENT_RC)"
	sleep 1
	# no flags: adopt the datapath that is there
	agent_start n1 "$LOGS/agent$i.log" --config /dev/null --reconcile-interval 1
	if ! agent_ready n1 "$LOGS/agent$i.log" ||
		! grep -q 'adopted the datapath' "$LOGS/agent$i.log"; then
		restarts_ok=0
		diag "restart $i failed: $(tail -3 "$LOGS/agent$i.log")"
	fi
	sleep 2
done
check restart_sigkill_3x "the agent did not come back after SIGKILL" [ $restarts_ok = 1 ]

# Upgrade, the datapath's part of it: new programs replace the old in place.
before=$(prog_ids)
bl node init --uplink uplink --pod-cidr 10.244.1.0/24 --cluster-cidr 10.244.0.0/16 \
	>/dev/null 2>"$LOGS/node-init.log" || diag "node init: $(cat "$LOGS/node-init.log")"
sleep 1
agent_kill n1 TERM
agent_start n1 "$LOGS/agent-upgrade.log" --config /dev/null --reconcile-interval 1 \
	--metrics-listen 127.0.0.1:9965
agent_ready n1 "$LOGS/agent-upgrade.log" || diag "upgrade start: $(tail -3 "$LOGS/agent-upgrade.log")"
after=$(prog_ids)
diag "programs before the upgrade: $(echo $before); after: $(echo $after)"
why=""
[ -n "$(join <(echo "$before") <(echo "$after") | awk '$2 == $3')" ] &&
	why="some program was not replaced: $(join <(echo "$before") <(echo "$after") | awk '$2 == $3' | tr '\n' ' ')"
why=$why$(links_on_current)
check upgrade_replaces_programs "$why" [ -z "$why" ]

wait $PING1 $PING2 2>/dev/null
wait $TCP1 $TCP2 2>/dev/null
wait "$SRV1" "$SRV2" 2>/dev/null

# loss LOGFILE: "sent received" from ping's summary
loss() { sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$1"; }
read -r s1 r1 < <(loss "$TMPD/ping_pod")
read -r s2 r2 < <(loss "$TMPD/ping_ext")
echo "# pod a -> pod b: ${s1:-?} sent, ${r1:-?} received, lost $((${s1:-0} - ${r1:-0}))"
echo "# pod a -> ext:   ${s2:-?} sent, ${r2:-?} received, lost $((${s2:-0} - ${r2:-0}))"
diag "pod a -> pod b: ${s1:-?} sent, ${r1:-?} received; pod a -> ext: ${s2:-?} sent, ${r2:-?} received"
check zero_loss_pod_to_pod "lost $((${s1:-0} - ${r1:-0})) of ${s1:-?} pings: $(tail -2 "$TMPD/ping_pod" | tr '\n' ' ')" \
	[ "${s1:-0}" = $N -a "${r1:-x}" = $N ]
check zero_loss_pod_to_ext "lost $((${s2:-0} - ${r2:-0})) of ${s2:-?} pings: $(tail -2 "$TMPD/ping_ext" | tr '\n' ' ')" \
	[ "${s2:-0}" = $N -a "${r2:-x}" = $N ]

# tcp_ok FILE: iperf3 finished the whole run without an error (a reset ends
# it early with "Connection reset by peer")
tcp_ok() {
	local err secs
	err=$(jq -r '.error // empty' "$1" 2>/dev/null)
	secs=$(jq -r '.end.sum_received.seconds // 0 | floor' "$1" 2>/dev/null)
	diag "$1: ${secs}s received, $(jq -r '.end.sum_sent.retransmits // "?"' "$1" 2>/dev/null) retransmits${err:+, error: $err}"
	[ -z "$err" ] && [ "${secs:-0}" -ge 27 ]
}
check tcp_pod_to_pod_no_reset "iperf3 a -> b: $(jq -r '.error // "short run"' "$TMPD/tcp_pod" 2>/dev/null | head -c 200)" \
	tcp_ok "$TMPD/tcp_pod"
check tcp_pod_to_ext_no_reset "iperf3 b -> ext (SNAT): $(jq -r '.error // "short run"' "$TMPD/tcp_ext" 2>/dev/null | head -c 200)" \
	tcp_ok "$TMPD/tcp_ext"

# --- metrics, when the agent serves them ------------------------------------------
if grep -q 'agent: metrics on' "$LOGS/agent-upgrade.log"; then
	m=$(metrics_scrape n1 127.0.0.1:9965)
	runs=$(echo "$m" | awk '$1 ~ /^bridgeless_agent_reconcile.*_total$/ { print $2; exit }')
	runs=${runs:-0}
	check metrics_scrape "no reconcile count in /metrics: $(echo "$m" | grep -m3 agent | tr '\n' ' ')" \
		[ "${runs%.*}" -ge 1 ]
else
	skip metrics_scrape "this build serves no metrics"
fi

# --- SIGTERM: the agent stops, the datapath stays ------------------------------
ids=$(prog_ids)
links=$(link_progs)
agent_kill n1 TERM
why=""
[ "$AGENT_RC" = 0 ] || why="$why; exit status $AGENT_RC"
grep -q 'info: agent: Terminated: stopping; the datapath keeps running' "$LOGS/agent-upgrade.log" ||
	why="$why; no stop line in the log: $(tail -1 "$LOGS/agent-upgrade.log")"
[ "$(prog_ids)" = "$ids" ] || why="$why; programs changed"
[ "$(link_progs)" = "$links" ] || why="$why; links changed: $(link_progs | tr '\n' ' ')"
[ "$(bl node status --json | jq -r .initialized)" = true ] || why="$why; node not initialized"
ping_ok "$(pod_ns a)" "$B" 3 || why="$why; a cannot ping b"
ping_ok "$(pod_ns b)" 198.51.100.1 3 || why="$why; b cannot ping ext"
check sigterm_leaves_datapath "${why#; }" [ -z "$why" ]

# every log line has a level
bad=$(cat "$LOGS"/agent*.log | grep -Ev '^bridgeless: (warn|info|debug): ' | head -3)
check log_lines_have_level "lines without a level: $bad" [ -z "$bad" ]

# --- bad config files -----------------------------------------------------------------
# bad_config NAME CONTENT REGEX: agent --config exits 1 with one line matching REGEX
bad_config() {
	local name=$1 content=$2 re=$3 f out rc
	f=$TMPD/$name.conf
	printf '%s\n' "$content" >"$f"
	out=$(bl agent --config "$f" 2>&1 >/dev/null)
	rc=$?
	diag "bad config $name: rc $rc: $out"
	if [ $rc = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -Eq -- "$re"; then
		pass "bad_config_$name"
	else
		fail "bad_config_$name" "rc $rc, output: $out"
	fi
}
F=$TMPD
bad_config unknown_key $'# test\nuplink = uplink\nuplnk = eth0' \
	"^bridgeless: agent: $F/unknown_key.conf: line 3: unknown key \"uplnk\"$"
bad_config no_equals $'pod-cidr 10.244.1.0/24' \
	"^bridgeless: agent: $F/no_equals.conf: line 1: expected .key = value."
bad_config bad_value $'\n\nreconcile-interval = soon' \
	"^bridgeless: agent: $F/bad_value.conf: line 3: reconcile-interval \"soon\": want seconds"
bad_config bad_cidr $'pod-cidr = 10.244.1.1/24' \
	"^bridgeless: agent: $F/bad_cidr.conf: line 1: pod-cidr \"10.244.1.1/24\": want a.b.c.d/len"
bad_config no_value $'peers =' \
	"^bridgeless: agent: $F/no_value.conf: line 1: peers: no value"
out=$(bl agent --config "$TMPD/missing.conf" 2>&1)
check missing_config "rc/output: $out" \
	test "$out" = "bridgeless: agent: config file $TMPD/missing.conf: No such file or directory"
out=$(bl agent --config /dev/null --reconcile-interval 0 2>&1 | tail -1)
check bad_flag_value "output: $out" \
	test "$out" = 'bridgeless: agent: --reconcile-interval "0": want seconds from 0.1 to 86400'

# a good config file is read, flags win over it
printf 'uplink = uplink  # the node side of the ext link\npod-cidr = "10.244.1.0/24"\ncluster-cidr = 10.244.0.0/16\nreconcile-interval = 9\nmetrics = off\n' >"$TMPD/good.conf"
agent_start n1 "$LOGS/agent-conf.log" --config "$TMPD/good.conf" --reconcile-interval 0.5
if agent_ready n1 "$LOGS/agent-conf.log" &&
	grep -q "agent: read $TMPD/good.conf" "$LOGS/agent-conf.log" &&
	grep -q 'running (reconcile every 0.5s' "$LOGS/agent-conf.log" &&
	! grep -q 'metrics on' "$LOGS/agent-conf.log" && ! metrics_scrape n1 >/dev/null 2>&1; then
	pass good_config
else
	fail good_config "$(tail -2 "$LOGS/agent-conf.log")"
fi
agent_kill n1 TERM
# --once: start, one pass, exit
out=$(bl agent --config /dev/null --once 2>&1)
rc=$?
check once "rc $rc: $(echo "$out" | tail -1)" [ $rc = 0 ]
ping_ok "$(pod_ns a)" "$B" 2 || fail after_once "a cannot ping b after agent --once"
# the example config the package ships parses (and fits this node)
out=$(bl agent --config "$ROOT/deploy/agent.conf" --once 2>&1)
rc=$?
check deploy_agent_conf "rc $rc: $(echo "$out" | tail -1)" [ $rc = 0 ]

finish
