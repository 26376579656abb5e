# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench: the measurements, their tables (medians, min-max, ratios of the
# medians) and the targets. Sourced by tools/bench.
#
# Every measurement is recorded as res[METRIC/SETUP] (a list of values, one
# per round). A table is made of TSV rows (rows METRIC) that report.sh
# renders as text or Markdown.

declare -A res		# METRIC/SETUP -> values
declare -A med		# METRIC/SETUP -> median
record() { res[$1/$2]="${res[$1/$2]:-} $3"; }
has_res() { [ -n "${res[$1/$2]:-}" ]; }


# setups_of SCENARIO: the setups taking part, in measuring order
setups_of() {
	local s out=""
	case "$1" in
	pod2pod*) for s in veth bridge bridge-nonf bridgeless; do want "$s" && out="$out $s"; done ;;
	snat*) for s in veth bridge bridgeless; do want "$s" && out="$out $s"; done ;;
	*) for s in bridge bridgeless; do want "$s" && out="$out $s"; done ;;
	esac
	echo "${out# }"
}

# meta METRIC: MT_TITLE, MT_UNIT, MT_FMT (of the median), MT_REFS (ratio
# columns), MT_LOWER (1: lower is better)
meta() {
	MT_LOWER=0 MT_REFS=bridge MT_FMT=%.0f
	case "$1" in
	pod2pod-pps) MT_TITLE="Pod to pod: 64-byte UDP, packets/s delivered at the receiver's eth0"
		MT_UNIT=pps MT_REFS="veth bridge bridge-nonf" ;;
	pod2pod-tcp) MT_TITLE="Pod to pod: TCP throughput, one iperf3 stream"
		MT_UNIT=Gbit/s MT_FMT=%.2f MT_REFS="veth bridge bridge-nonf" ;;
	pod2pod-tcp4) MT_TITLE="Pod to pod: TCP throughput, 4 iperf3 streams (-P 4)"
		MT_UNIT=Gbit/s MT_FMT=%.2f MT_REFS="veth bridge bridge-nonf" ;;
	pod2pod-lat-p50) MT_TITLE="Pod to pod: TCP request/response latency p50 (sockperf ping-pong, half round trip; lower is better)"
		MT_UNIT=us MT_FMT=%.2f MT_REFS="veth bridge bridge-nonf" MT_LOWER=1 ;;
	pod2pod-lat-p99) MT_TITLE="Pod to pod: TCP request/response latency p99 (sockperf ping-pong, half round trip; lower is better)"
		MT_UNIT=us MT_FMT=%.2f MT_REFS="veth bridge bridge-nonf" MT_LOWER=1 ;;
	snat-pps) MT_TITLE="Pod to outside through SNAT: 64-byte UDP, one flow (per-packet cost of an established mapping), packets/s at ext's eth0"
		MT_UNIT=pps MT_REFS="veth bridge" ;;
	snat-tcp) MT_TITLE="Pod to outside through SNAT: TCP throughput, one iperf3 stream"
		MT_UNIT=Gbit/s MT_FMT=%.2f MT_REFS="veth bridge" ;;
	snat-cps) MT_TITLE="Pod to outside through SNAT: new TCP connections/s ($inflight in flight; connect, 1 byte, server closes; each a new 5-tuple, so a new mapping)"
		MT_UNIT=conn/s MT_REFS="veth bridge" ;;
	snat-sustained) MT_TITLE="Pod to outside through SNAT: new TCP connections/s sustained for $(( (sustained + 4) / 5 * 5 )) s (as above, one run per setup, mean over the run)"
		MT_UNIT=conn/s MT_REFS="veth bridge" ;;
	scale-p2p@*) MT_TITLE="pod to pod, pps" MT_UNIT=pps ;;
	scale-snat@*) MT_TITLE="pod to outside, pps" MT_UNIT=pps ;;
	scale-cps@*) MT_TITLE="new conn/s through NAT" MT_UNIT=conn/s ;;
	scale-add@*) MT_TITLE="CNI ADD p50" MT_UNIT=ms MT_FMT=%.1f MT_LOWER=1 ;;
	scale-mem@*) MT_TITLE="map memory" MT_UNIT=MiB MT_FMT=%.1f MT_LOWER=1 ;;
	esac
}

# medians METRIC: med[] of every setup measured
medians() {
	local s
	meta "$1"
	for s in $(setups_of "$(scen_of "$1")"); do
		has_res "$1" "$s" && med[$1/$s]=$(echo "${res[$1/$s]}" | median "$MT_FMT")
	done
	return 0
}

# rows METRIC: a header line, then a TSV line per setup: its label, median,
# min-max and the ratio of its median to each reference setup's
rows() {
	local m=$1 s r line sc=$(scen_of "$1")
	medians "$m"
	line="setup	median $MT_UNIT	min-max"
	for r in $MT_REFS; do has_res "$m" "$r" && line="$line	x $r"; done
	echo "$line"
	for s in $(setups_of "$sc"); do
		has_res "$m" "$s" || continue
		line="$(label "$sc" "$s")	${med[$m/$s]}	$(echo "${res[$m/$s]}" | minmax)"
		for r in $MT_REFS; do
			has_res "$m" "$r" && line="$line	$(ratio "${med[$m/$s]}" "${med[$m/$r]}")"
		done
		echo "$line"
	done
}

# per_round_list METRIC REF: bridgeless/REF within each round (the setups ran
# seconds apart): less sensitive to drift and to other load on the machine
# than the ratio of the medians, which the targets use
per_round_list() {
	paste -d' ' <(echo "${res[$1/bridgeless]:-}" | tr ' ' '\n' | grep .) \
		<(echo "${res[$1/$2]:-}" | tr ' ' '\n' | grep .) |
		awk '$2 > 0 { printf "%.2f ", $1 / $2 }'
}
# per_round METRIC: the per-round line under a table
per_round() {
	local r pr out=""
	has_res "$1" bridgeless || return 0
	meta "$1"
	for r in $MT_REFS; do
		has_res "$1" "$r" || continue
		pr=$(per_round_list "$1" "$r")
		out="$out${out:+; }bridgeless/$r per round: ${pr% } (median $(echo "$pr" | median %.2f))"
	done
	[ -z "$out" ] || echo "$out"
}

# ------------------------------------------------------------ targets

TARGETS=()		# "status<TAB>target<TAB>figure"
target_add() { TARGETS+=("$1	$2	$3"); }

# target_ratio METRIC REF FACTOR: sets TR_STATUS and TR_FIG
target_ratio() {
	local r
	if ! has_res "$1" bridgeless || ! has_res "$1" "$2"; then
		TR_STATUS="not measured" TR_FIG="-"; return 0
	fi
	medians "$1"
	r=$(ratio "${med[$1/bridgeless]}" "${med[$1/$2]}" %.3f)
	meets "${med[$1/bridgeless]}" "${med[$1/$2]}" "$3" && TR_STATUS=met || TR_STATUS=missed
	TR_FIG="$r x $2 (per-round median $(per_round_list "$1" "$2" | median %.2f))"
}

# ceiling METRIC: what the bare veth pair (no node, no NAT) makes against the
# bridge in the same run, the most any path through a node could reach
ceiling() {
	has_res "$1" veth && has_res "$1" bridge || return 0
	medians "$1"
	echo "; ceiling: the bare veth pair (no NAT) $(ratio "${med[$1/veth]}" "${med[$1/bridge]}" %.3f) x bridge"
}

# sustained_fig: the sustained run's ratio, next to the target's short windows
sustained_fig() {
	has_res snat-sustained bridgeless && has_res snat-sustained bridge || return 0
	medians snat-sustained
	echo "; sustained ${sustained} s: $(ratio "${med[snat-sustained/bridgeless]}" "${med[snat-sustained/bridge]}" %.2f) x bridge"
}

# flat SIZE0 SIZE1 METRIC: bridgeless's per-packet cost (1/pps) at SIZE1 is
# within 10% of that at SIZE0; sets FL_FIG, the change of the cost
flat() {
	local a b
	medians "$3@$1"; a=${med[$3@$1/bridgeless]:-}
	medians "$3@$2"; b=${med[$3@$2/bridgeless]:-}
	[ -n "$a" ] && [ -n "$b" ] || { FL_FIG="-"; return 1; }
	FL_FIG=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%+.1f%%", (a / b - 1) * 100 }')
	awk -v a="$a" -v b="$b" 'BEGIN { c = a / b - 1; exit !(b > 0 && c <= 0.10 && c >= -0.10) }'
}

# targets: the five of issue 6, then the older ones the bench still checks
targets() {
	local st fig s0 s1 ok ns e
	TARGETS=()
	target_ratio pod2pod-pps veth 0.95; st=$TR_STATUS; fig=$TR_FIG
	target_ratio pod2pod-pps bridge 1.8
	case "$st/$TR_STATUS" in
	met/met) st=met ;;
	"not measured/not measured") fig=- TR_FIG="" ;;
	*"not measured"*) st="not measured" ;;
	*) st=missed ;;
	esac
	target_add "$st" "pod to pod pps >= 0.95 x bare veth and >= 1.8 x bridge plugin" \
		"$fig${TR_FIG:+; $TR_FIG}"
	target_ratio snat-pps bridge 1.5
	target_add "$TR_STATUS" "SNAT pps >= 1.5 x bridge + MASQUERADE" "$TR_FIG$(ceiling snat-pps)"

	s0=$(echo $SCALE_DONE | awk '{ print $1 }'); s1=$(echo $SCALE_DONE | awk '{ print $NF }')
	if [ -n "$s1" ]; then
		target_ratio "scale-cps@$s1" bridge 2
		st=$TR_STATUS fig="at $s1 pods: $TR_FIG"
		[ "$s1" -lt 1000 ] && [ "$st" != "not measured" ] &&
			st="not measured" fig="largest size $s1 pods (--scale-pods), $TR_FIG"
	else
		st="not measured" fig="-"
	fi
	target_add "$st" "new connections/s at 1000 pods >= 2 x bridge + MASQUERADE" "$fig"

	if [ -n "$s1" ] && [ "$s1" != "$s0" ]; then
		ok=met
		flat "$s0" "$s1" scale-p2p || ok=missed
		fig="per-packet cost $s0 -> $s1 pods: pod to pod $FL_FIG"
		flat "$s0" "$s1" scale-snat || ok=missed; fig="$fig, pod to outside $FL_FIG"
		[ "$FL_FIG" = - ] && ok="not measured"
		[ "$s0" -gt 10 ] || [ "$s1" -lt 1000 ] && ok="not measured" fig="$fig (sizes $s0-$s1 only)"
	else
		ok="not measured" fig="needs two sizes in the scale scenario"
	fi
	target_add "$ok" "per-packet cost flat within 10% from 10 to 1000 pods (bridgeless)" "$fig"

	ns=$(bpf_cost_of local_redirect)
	if [ -n "$ns" ]; then
		# the program's own cost: less what an empty program takes in the
		# same test_run loop
		e=$(bpf_cost_of empty_loop)
		fig="$ns ns as test_run reports it"
		[ -z "$e" ] || { fig="$((ns - e)) ns net of the empty program's $e ns ($fig)"; ns=$((ns - e)); }
		awk -v n="$ns" 'BEGIN { exit !(n <= 30) }' && st=met || st=missed
		target_add "$st" "local-redirect path <= 30 ns per packet (BPF_PROG_TEST_RUN)" "$fig"
	else
		target_add "not measured" "local-redirect path <= 30 ns per packet (BPF_PROG_TEST_RUN)" "$BPF_COST_STATUS"
	fi
	N_MAIN_TARGETS=${#TARGETS[@]}

	# targets of the earlier SNAT and CNI issues
	if want_scen snat-cps; then
		target_ratio snat-cps bridge 1.3
		target_add "$TR_STATUS" "new connections/s (2 pods) >= 1.3 x bridge + MASQUERADE" \
			"$TR_FIG$(ceiling snat-cps)$(sustained_fig)"
	fi
	if want_scen cni && has_cni bridge && has_cni bridgeless; then
		fig=$(ratio "$(echo "${cni_us[bridgeless]}" | pctl 50 %.3f)" \
			"$(echo "${cni_us[bridge]}" | pctl 50 %.3f)" %.3f)
		awk -v r="$fig" 'BEGIN { exit !(r != "-" && r + 0 <= 0.5) }' && st=met || st=missed
		target_add "$st" "bridgeless-cni ADD+DEL p50 <= 0.5 x bridge plugin" "$fig x"
	fi
	return 0
}
has_cni() { [ -n "${cni_us[$1]:-}" ]; }
