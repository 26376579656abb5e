# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench: scenario 2, pod to a server in the ext netns through SNAT
# (the pod's source translated to the node IP 198.51.100.2), for
#
#   bridge      "ipMasq": true puts the pod's traffic through iptables
#               MASQUERADE and conntrack in the node netns
#               (bridge-nf-call-iptables=1 there)
#   bridgeless  SNAT in BPF (`node init --nat-ports 20000-65535`)
#
#   veth        the physical limit: the client's netns wired straight to
#               the servers' by one veth pair (no node, no NAT, no conntrack)
#
# (bridge-nonf cannot masquerade and takes no part.) Sourced by tools/bench.
#
#   snat-pps  64-byte UDP packets per second, one flow with a fixed 5-tuple
#             (pod:40001 -> 203.0.113.10:9): the per-packet cost of an
#             established mapping, not of creating mappings. Counted as rx of
#             the ext netns's eth0 (what the NAT delivered); the number of
#             them that reached ext's UDP layer is shown as a cross-check
#             (untranslated sources fail rp_filter there).
#   snat-tcp  TCP throughput, one iperf3 stream pod -> ext, client on CPU 0,
#             server on CPU 1.
#   snat-cps  new TCP connections per second with tools/connrate (built into
#             build/connrate by tools/bench): 32 connections in flight, each
#             connect, send 1 byte, the server closes, close. Every
#             connection of the run has a 5-tuple of its own (the source
#             ports of the pod's ephemeral range, 32768-60999, in turn, times
#             16 server ports: 451k tuples before one repeats), so each is a
#             new NAT mapping or conntrack entry. Client on CPU 0, server on
#             CPU 1. Before each bridgeless round `bridgeless nat gc` runs
#             (outside the window; nothing runs it automatically yet) and the
#             NAT counters (nat_new, drop_nat_no_port) are shown; on the
#             bridge side the node netns's conntrack count and drops are shown.
#   snat-sustained  the same connections for --sustained seconds (60;
#             --quick 20) per setup, once, after every other scenario,
#             counted in 5 s slices. Short windows hide what a node meets
#             under a steady load: conntrack keeps every closed connection
#             for 120 s (TIME_WAIT) in a table of nf_conntrack_max entries
#             (machine-wide, 262144 here, which a bench must not raise), so
#             once it is full the bridge drops new connections' packets;
#             bridgeless's NAT map (512k entries, LRU) evicts its least
#             recently used mappings instead. The bridge's table is first
#             let drain to a quarter (at most 130 s). The figure is the mean
#             over the run; the slices show the course.

CONN_PORT=6000		# connrate listens on CONN_PORT .. CONN_PORT+CONN_NPORTS-1
CONN_NPORTS=16

# ext_of SETUP: the netns the servers listen in
ext_of() { case "$1" in veth) ns a-rx ;; *) ns "$(short "$1")-ext" ;; esac; }

# start_servers SETUP: iperf3 and connrate listening in the setup's ext netns
start_servers() {
	local ext=$(ext_of "$1") i tcp=0 cps=0
	want_scen snat-tcp && tcp=1
	{ want_scen snat-cps || want_scen snat-sustained || want_scen scale; } && cps=1
	if [ $tcp = 1 ]; then
		ip netns exec "$ext" taskset -c "$SERVER_CPU" iperf3 -s \
			-B "$SERVER_IP" -p "$IPERF_PORT" >"$WORK/$1.iperf3-server.log" 2>&1 &
		SERVER_PIDS="$SERVER_PIDS $!"
	fi
	if [ $cps = 1 ]; then
		ip netns exec "$ext" taskset -c "$SERVER_CPU" "$CONNRATE" server \
			"$SERVER_IP" "$CONN_PORT" "$CONN_NPORTS" \
			>"$WORK/$1.connrate-server.log" 2>&1 &
		SERVER_PIDS="$SERVER_PIDS $!"
	fi
	for i in $(seq 50); do
		{ [ $cps = 0 ] || grep -q ready "$WORK/$1.connrate-server.log"; } &&
		{ [ $tcp = 0 ] ||
			ip netns exec "$ext" ss -Hltn "sport = :$IPERF_PORT" | grep -q .; } &&
			return 0
		sleep 0.1
	done
	log "$1: servers in $ext did not start:"
	cat "$WORK/$1".*-server.log >&2
	return 1
}

# prepare_snat SETUP: the pod reaches the server only through real SNAT
prepare_snat() {
	local s=$(short "$1") tx ext sip
	tx=$(ns "$s-tx"); ext=$(ext_of "$1")
	sip=$(ns_ip "$tx")
	if [ "$1" != veth ] && ip -n "$ext" route get "$sip" >/dev/null 2>&1; then
		log "$1: ext netns has a route to pod $sip; SNAT would not be tested"
		return 1
	fi
	start_servers "$1" || return 1
	trafgen_cfg "snat-$1" "$tx" "$SERVER_IP" 40001 || return 1
	if want_scen snat-cps || want_scen snat-sustained || want_scen scale; then
		conn_run "$1" 0.3 -w 0 -c 4 && [ "${C_rate%.*}" -gt 0 ] ||
			{ log "$1: TCP connections through SNAT fail"; return 1; }
	fi
	if [ "$1" = veth ]; then
		log "$1: $sip -> $SERVER_IP works (one veth pair, not translated)"
	else
		log "$1: $sip -> $SERVER_IP through SNAT works (ext has no route back)"
	fi
}

# NAT / conntrack state around a connection run
bl_counter() {	# bl_counter NAME...: packets of bridgeless counters
	bl stats --json | jq -r --arg n "$*" '. as $r | ($n | split(" "))[] |
		($r.counters[.].packets // 0)'
}
ct_count() {
	nsenter --net="/run/netns/$(ns b-node)" cat /proc/sys/net/netfilter/nf_conntrack_count \
		2>/dev/null || echo 0
}
ct_drops() {	# drop + early_drop + insert_failed, summed over CPUs (hex)
	nsenter --net="/run/netns/$(ns b-node)" cat /proc/net/stat/nf_conntrack 2>/dev/null |
		awk 'function hex(x,   i, v) { v = 0; x = tolower(x)
			for (i = 1; i <= length(x); i++)
				v = v * 16 + index("0123456789abcdef", substr(x, i, 1)) - 1
			return v }
		NR == 1 { for (i = 1; i <= NF; i++)
			if ($i == "drop" || $i == "early_drop" || $i == "insert_failed") c[i]
			next }
		{ for (i in c) s += hex($i) }
		END { print s + 0 }'
}

declare -A conn_next	# next 5-tuple index per setup
conn_next[veth]=0
conn_next[bridge]=0
conn_next[bridgeless]=0
declare -A conn_pod	# the client pod per setup when not tx (scale.sh)

# conn_run SETUP SECONDS CONNRATE-OPTIONS...: a connrate client in the
# setup's pod, continuing its sequence of 5-tuples; sets C_rate, C_failed,
# C_timeouts, C_opened
conn_run() {
	local setup=$1 secs=$2 out tx=$(ns "$(short "$1")-${conn_pod[$1]:-tx}") range=$sports
	shift 2
	[ -n "$range" ] || range=$(ip netns exec "$tx" sysctl -n \
		net.ipv4.ip_local_port_range | awk '{ print $1 "-" $2 }')
	run_fg ip netns exec "$tx" taskset -c "$SENDER_CPU" \
		"$CONNRATE" client "$SERVER_IP" "$CONN_PORT" "$CONN_NPORTS" "$secs" \
		-i "${conn_next[$setup]}" -p "$range" "$@" >"$WORK/$setup.connrate.out" 2>&1
	out=$(cat "$WORK/$setup.connrate.out")
	case "$out" in
	conns=*) ;;
	*) log "$setup: connrate failed: $out"; return 1 ;;
	esac
	C_rate="" C_failed="" C_timeouts="" C_next=""
	eval "$(echo "$out" | tr ' ' '\n' | sed -n 's/^\([a-z]*\)=\([0-9.]*\)$/C_\1=\2/p')"
	[ -n "$C_next" ] || { log "$setup: connrate output: $out"; return 1; }
	C_opened=$((C_next - conn_next[$setup]))
	conn_next[$setup]=$C_next
}

# measure_cps SETUP METRIC: sets M_CPS, M_FAIL, M_TMO and M_NOTE; the
# samples of METRIC: the rate, failures, time-outs, connections opened, the
# other processes' CPU and the NAT or conntrack counters
measure_cps() {
	local setup=$1 m=$2 gc="" n0 d0 n1 d1
	M_NOTE=""
	if [ "$setup" = veth ]; then
		:
	elif [ "$setup" = bridgeless ]; then
		# Mappings of closed connections expire after 10 s idle; nothing
		# collects them automatically yet.
		gc=$(bl nat gc 2>&1) || { log "bridgeless nat gc failed: $gc"; return 1; }
		gc=$(echo "$gc" | sed -n 's/.*, \([0-9]*\) mappings expired.*, \([0-9]*\) live/gc expired \1, \2 live/p')
		set -- $(bl_counter nat_new drop_nat_no_port); n0=$1 d0=$2
	else
		n0=$(ct_count); d0=$(ct_drops)
	fi
	others_during conn_run "$setup" "$seconds" -c "$inflight" -w 0.5 || return 1
	M_CPS=$C_rate M_FAIL=$C_failed M_TMO=$C_timeouts
	sample "$m" "$setup" "$C_rate" conn/s
	sample "$m.failed" "$setup" "$C_failed" count
	sample "$m.timeouts" "$setup" "$C_timeouts" count
	sample "$m.opened" "$setup" "$C_opened" count
	sample_others "$m" "$setup"
	if [ "$setup" = veth ]; then
		M_NOTE="$C_opened opened, no NAT"
	elif [ "$setup" = bridgeless ]; then
		set -- $(bl_counter nat_new drop_nat_no_port); n1=$1 d1=$2
		M_NOTE="$C_opened opened, nat_new +$((n1 - n0)), drop_nat_no_port +$((d1 - d0)); $gc"
		sample "$m.nat_new" "$setup" $((n1 - n0)) count
		sample "$m.drop_nat_no_port" "$setup" $((d1 - d0)) count
	else
		n1=$(ct_count); d1=$(ct_drops)
		M_NOTE="$C_opened opened, conntrack entries $n0 -> $n1, conntrack drops +$((d1 - d0))"
		sample "$m.conntrack_before" "$setup" "$n0" count
		sample "$m.conntrack_after" "$setup" "$n1" count
		sample "$m.conntrack_drops" "$setup" $((d1 - d0)) count
	fi
	sleep 0.3
}

# measure_snat SCENARIO SETUP [METRIC]: one measurement, its samples under
# METRIC (default the scenario); sets LINE. An snat-pps run whose packets
# mostly did not reach ext's UDP layer (METRIC.udp: untranslated sources
# fail ext's rp_filter before it) gets a warning in the report.
measure_snat() {
	local sc=$1 setup=$2 m=${3:-$1} s=$(short "$2")
	case "$sc" in
	snat-pps)
		measure_pps "snat-$setup" "$(ns "$s-tx")" "$(ext_of "$setup")" || return 1
		sample_pps "$m" "$setup"
		LINE=$(pps_line ext) ;;
	snat-tcp)
		others_during measure_iperf "snat-$setup" "$(ns "$s-tx")" "$SERVER_IP" 1 || return 1
		sample "$m" "$setup" "$M_BPS" bit/s
		sample "$m.retransmits" "$setup" "$M_RETR" count
		sample_others "$m" "$setup"
		LINE=$(printf '%10.2f Gbit/s  (retransmits %s; other processes: %d%% of a CPU)' \
			"${M_BPS}e-9" "$M_RETR" "$M_OTHERS") ;;
	snat-cps)
		measure_cps "$setup" "$m" || return 1
		LINE=$(printf '%10s conn/s  (failed %s, timeouts %s; %s; other processes: %d%% of a CPU)' \
			"$M_CPS" "$M_FAIL" "$M_TMO" "$M_NOTE" "$M_OTHERS") ;;
	esac
}

# ------------------------------------------------------------ sustained

SUSTAIN_SLICE=5

# ct_wait: the bridge node's conntrack table below a quarter of its size
# (closed connections stay 120 s), waiting at most 130 s
ct_wait() {
	local max i
	max=$(cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null || echo 0)
	for i in $(seq 130); do
		[ "$(ct_count)" -le $((max / 4)) ] && return 0
		sleep 1
	done
}

# measure_sustained: snat-sustained for every setup in turn; a sample per
# slice (its rate, failures, time-outs, other processes' CPU) and per setup
# the NAT or conntrack counters over the run. The progress line sums up.
measure_sustained() {
	local s n k r sum fail tmo c0 c1 d0 d1 n0 slices note
	n=$(( (sustained + SUSTAIN_SLICE - 1) / SUSTAIN_SLICE ))
	for s in $(setups_of snat-sustained); do
		case $s in
		bridge) ct_wait; c0=$(ct_count); d0=$(ct_drops) ;;
		bridgeless)
			bl nat gc >/dev/null 2>&1 || { log "bridgeless nat gc failed"; return 1; }
			set -- $(bl_counter nat_new drop_nat_no_port); n0=$1 d0=$2 ;;
		esac
		slices="" sum=0 fail=0 tmo=0
		for k in $(seq "$n"); do
			others_during conn_run "$s" "$SUSTAIN_SLICE" -c "$inflight" -w 0 || return 1
			r=${C_rate%.*}
			sample snat-sustained "$s" "$C_rate" conn/s
			sample snat-sustained.failed "$s" "$C_failed" count
			sample snat-sustained.timeouts "$s" "$C_timeouts" count
			sample_others snat-sustained "$s"
			slices="$slices${slices:+ }$r"
			sum=$((sum + r)) fail=$((fail + C_failed)) tmo=$((tmo + C_timeouts))
		done
		case $s in
		bridge) c1=$(ct_count); d1=$(ct_drops)
			sample snat-sustained.conntrack_before "$s" "$c0" count
			sample snat-sustained.conntrack_after "$s" "$c1" count
			sample snat-sustained.conntrack_drops "$s" $((d1 - d0)) count
			note="conntrack entries $c0 -> $c1, conntrack drops +$(( d1 - d0 ))" ;;
		bridgeless) set -- $(bl_counter nat_new drop_nat_no_port)
			sample snat-sustained.nat_new "$s" $(( $1 - n0 )) count
			sample snat-sustained.drop_nat_no_port "$s" $(( $2 - d0 )) count
			note="nat_new +$(( $1 - n0 )), drop_nat_no_port +$(( $2 - d0 ))" ;;
		*) note="no NAT" ;;
		esac
		step "snat-sustained $(printf '%-11s' "$s") $((sum / n)) conn/s over $((n * SUSTAIN_SLICE)) s; per ${SUSTAIN_SLICE} s: $slices ($note; failed $fail, timed out $tmo)"
	done
}
