# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench: TCP clients, iperf3 (throughput) and sockperf (request/response
# latency), client pinned to the sender's CPU. Sourced by tools/bench.

IPERF_PORT=5201
SOCKPERF_PORT=11111

# measure_iperf NAME TXNS DIP STREAMS: sets M_BPS (bits/s received by the
# server) and M_RETR
measure_iperf() {
	local name=$1 tx=$2 dip=$3 out
	run_fg ip netns exec "$tx" taskset -c "$SENDER_CPU" iperf3 -J -c "$dip" \
		-p "$IPERF_PORT" -t "$seconds" -P "$4" --connect-timeout 3000 \
		>"$WORK/$name.iperf3.json" 2>&1
	out=$(jq -r '[.end.sum_received.bits_per_second // 0,
		.end.sum_sent.retransmits // 0] | @tsv' "$WORK/$name.iperf3.json" 2>/dev/null)
	set -- $out
	if [ $# -ne 2 ] || [ "${1%.*}" = 0 ]; then
		log "$name: iperf3 failed:"; head -c 2000 "$WORK/$name.iperf3.json" >&2
		return 1
	fi
	M_BPS=${1%.*} M_RETR=$2
	sleep 0.3
}

# measure_sockperf NAME TXNS DIP: sets M_P50 and M_P99 (microseconds)
measure_sockperf() {
	local name=$1 tx=$2 dip=$3
	run_fg ip netns exec "$tx" taskset -c "$SENDER_CPU" sockperf ping-pong --tcp \
		-i "$dip" -p "$SOCKPERF_PORT" -t "$seconds" >"$WORK/$name.sockperf.log" 2>&1
	M_P50=$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' "$WORK/$name.sockperf.log")
	M_P99=$(sed -n 's/.*percentile 99.000 = *\([0-9.]*\).*/\1/p' "$WORK/$name.sockperf.log")
	if [ -z "$M_P50" ] || [ -z "$M_P99" ]; then
		log "$name: sockperf failed:"; tail -n 20 "$WORK/$name.sockperf.log" >&2
		return 1
	fi
	sleep 0.3
}
