# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# Helpers for the agent tests (95-agent*.sh), on top of lib.sh:
#
#   agent_start NODE LOG [agent args]   start `bridgeless agent` in NODE's netns,
#                                       stderr to LOG; AGENT_PID[NODE] is its pid
#   agent_ready NODE LOG                wait until LOG says it is running
#   agent_kill NODE [SIGNAL]            signal it (default KILL) and reap it
#   wait_for SECS CMD...                poll CMD every 0.1 s until it succeeds
#                                       (at most SECS seconds)
#   wait_log LOG REGEX [SECS]           wait until a line of LOG matches REGEX

declare -A AGENT_PID=()
# Agents under test never find a real cluster: not even when the tests run
# in a pod (the agent's --k8s auto would take the in-cluster configuration).
unset KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT

# The agent runs without `timeout` around it: the pid must be the agent's own,
# so SIGKILL hits the agent and not a wrapper. nsenter execs it in place.
agent_start() {
	local node=$1 log=$2
	shift 2
	: >>"$log"
	nsenter --net="/run/netns/$(node_ns "$node")" "$BIN" ${BIN_V:+-vv} \
		--pin-dir "$(pin_of "$node")" --state-dir "$(state_of "$node")" \
		agent "$@" 2>>"$log" &
	AGENT_PID[$node]=$!
	PIDS+=($!)
}

agent_ready() {
	local node=$1 log=$2
	wait_log "$log" 'info: agent: running' 20 || return 1
	kill -0 "${AGENT_PID[$node]}" 2>/dev/null
}

# agent_kill NODE [SIGNAL]: sets AGENT_RC to the agent's exit status
agent_kill() {
	local node=$1 sig=${2:-KILL} pid=${AGENT_PID[$1]:-}
	AGENT_RC=""
	[ -n "$pid" ] || return 1
	kill -s "$sig" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	AGENT_RC=$?
	AGENT_PID[$node]=""
}

# by the clock: a slow CMD does not stretch the wait
wait_for() {
	local end
	end=$(awk -v n="$EPOCHREALTIME" -v s="$1" 'BEGIN { printf "%.3f", n + s }')
	shift
	until "$@"; do
		awk -v n="$EPOCHREALTIME" -v e="$end" 'BEGIN { exit !(n >= e) }' && return 1
		sleep 0.1
	done
}

wait_log() {
	local log=$1 re=$2 secs=${3:-10}
	wait_for "$secs" grep -Eq -- "$re" "$log"
}

# metrics_scrape NODE [ADDR]: the agent's /metrics, fetched in NODE's netns
metrics_scrape() {
	local node=$1 addr=${2:-127.0.0.1:9964}
	ndx "$node" curl -sf --max-time 5 "http://$addr/metrics"
}
