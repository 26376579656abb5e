# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench: scenario 1, pod to pod on one node (tx pod -> rx pod), for
# veth, bridge, bridge-nonf and bridgeless. Sourced by tools/bench.
#
#   pod2pod-pps   64-byte UDP packets per second delivered at rx's eth0
#                 (udp.sh)
#   pod2pod-tcp   TCP throughput, one iperf3 stream, client on CPU 0, server
#                 on CPU 1, Gbit/s received
#   pod2pod-tcp4  the same with 4 streams (iperf3 -P 4, one process)
#   pod2pod-lat   TCP request/response latency, sockperf ping-pong (12-byte
#                 messages, one in flight), client on CPU 0, server on CPU 1:
#                 p50 and p99 in microseconds of sockperf's own figure, which
#                 is half the round trip
#
# TCP runs use both CPUs, so instead of the idle CPU's busy time the CPU time
# of processes this script did not start is shown (user processes; kernel
# threads and softirq are not attributed).

# start_pod_servers SETUP: iperf3 and sockperf servers in the rx pod
start_pod_servers() {
	local rx=$(ns "$(short "$1")-rx") dip i
	dip=$(ns_ip "$rx")
	if want_scen pod2pod-tcp || want_scen pod2pod-tcp4; then
		ip netns exec "$rx" taskset -c "$SERVER_CPU" iperf3 -s -B "$dip" \
			-p "$IPERF_PORT" >"$WORK/$1.pod-iperf3-server.log" 2>&1 &
		SERVER_PIDS="$SERVER_PIDS $!"
	fi
	if want_scen pod2pod-lat; then
		ip netns exec "$rx" taskset -c "$SERVER_CPU" sockperf server --tcp \
			-i "$dip" -p "$SOCKPERF_PORT" >"$WORK/$1.sockperf-server.log" 2>&1 &
		SERVER_PIDS="$SERVER_PIDS $!"
	fi
	for i in $(seq 50); do
		{ { ! want_scen pod2pod-tcp && ! want_scen pod2pod-tcp4; } ||
			ip netns exec "$rx" ss -Hltn "sport = :$IPERF_PORT" | grep -q .; } &&
		{ ! want_scen pod2pod-lat ||
			ip netns exec "$rx" ss -Hltn "sport = :$SOCKPERF_PORT" | grep -q .; } &&
			return 0
		sleep 0.1
	done
	log "$1: servers in $rx did not start:"
	cat "$WORK/$1".pod-*-server.log "$WORK/$1".sockperf-server.log >&2 2>/dev/null
	return 1
}

# prepare_pod2pod SETUP: the sender's frame, the receiver's ICMP limits, the
# servers
prepare_pod2pod() {
	local s=$(short "$1") tx rx dip
	tx=$(ns "$s-tx"); rx=$(ns "$s-rx")
	dip=$(ns_ip "$rx")
	[ -n "$dip" ] || { log "$1: receiver address missing"; return 1; }
	trafgen_cfg "pod2pod-$1" "$tx" "$dip" 40000 || return 1
	icmp_defaults "$rx" || return 1
	case " $SCEN_ORDER " in *" pod2pod-tcp"* | *" pod2pod-lat "*)
		start_pod_servers "$1" || return 1 ;;
	esac
}

# measure_pod2pod SCENARIO SETUP: one measurement, its samples; sets LINE
measure_pod2pod() {
	local sc=$1 setup=$2 s=$(short "$2") tx rx
	tx=$(ns "$s-tx"); rx=$(ns "$s-rx")
	case "$sc" in
	pod2pod-pps)
		measure_pps "pod2pod-$setup" "$tx" "$rx" || return 1
		sample_pps pod2pod-pps "$setup"
		LINE=$(pps_line rx) ;;
	pod2pod-tcp | pod2pod-tcp4)
		local n=1
		[ "$sc" = pod2pod-tcp4 ] && n=4
		others_during measure_iperf "$sc-$setup" "$tx" "$(ns_ip "$rx")" "$n" || return 1
		sample "$sc" "$setup" "$M_BPS" bit/s
		sample "$sc.retransmits" "$setup" "$M_RETR" count
		sample_others "$sc" "$setup"
		LINE=$(printf '%10.2f Gbit/s  (%d streams, retransmits %s; other processes: %d%% of a CPU)' \
			"${M_BPS}e-9" "$n" "$M_RETR" "$M_OTHERS") ;;
	pod2pod-lat)
		others_during measure_sockperf "$sc-$setup" "$tx" "$(ns_ip "$rx")" || return 1
		sample pod2pod-lat-p50 "$setup" "$M_P50" us
		sample pod2pod-lat-p99 "$setup" "$M_P99" us
		sample_others pod2pod-lat "$setup"
		LINE=$(printf '%10s us p50, %s us p99  (half round trip; other processes: %d%% of a CPU)' \
			"$M_P50" "$M_P99" "$M_OTHERS") ;;
	esac
}
