# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench: PNG charts of the medians (bars or lines) with min-max error
# bars, made with gnuplot (gnuplot-nox, from tools/install-deps) into DOCS:
# bench-pod2pod.png, bench-snat.png, bench-scale.png, bench-bpf-cost.png.
# Sourced by tools/bench.

# lt_of SETUP: its colour (line type) in every chart
lt_of() { case "$1" in veth) echo 1 ;; bridge) echo 2 ;; bridge-nonf) echo 3 ;; *) echo 4 ;; esac; }

# bar_data METRIC: "setup median min max colour" per setup measured
bar_data() {
	local s
	medians "$1"
	for s in $(setups_of "$(scen_of "$1")"); do
		has_res "$1" "$s" || continue
		echo "$s ${med[$1/$s]} $(echo "${res[$1/$s]}" | minmax | tr - ' ') $(lt_of "$s")"
	done
}

# bar_panel FILE TITLE UNIT: gnuplot commands for one bar chart
bar_panel() {
	cat <<EOF
set title "$2"; set ylabel "$3"; set yrange [0:*]; set xrange [-0.6:*]
set format y "$(case "$3" in packets/s | conn/s) echo '%.0s%c' ;; *) echo '%g' ;; esac)"
plot '$1' using 0:2:5:xtic(1) with boxes lc variable notitle, \\
     '' using 0:2:3:4 with yerrorbars lc rgb 'black' lw 1.5 pt 7 ps 0.5 notitle
EOF
}

gp_head() {	# gp_head FILE COLS ROWS TITLE
	cat <<EOF
set terminal pngcairo noenhanced size $(( $2 * 420 )),$(( $3 * 330 )) font 'sans,9'
set output '$1'
set style fill solid 0.7 border -1; set boxwidth 0.6
set grid ytics; set xtics scale 0; set offsets 0, 0, graph 0.08, 0
set linetype 1 lc rgb '#999999'; set linetype 2 lc rgb '#cc6677'
set linetype 3 lc rgb '#ddcc77'; set linetype 4 lc rgb '#117733'
set multiplot layout $3,$2 title "$4"
EOF
}

# bars NAME TITLE METRIC:TITLE:UNIT...: one PNG of bar panels
bars() {
	local name=$1 title=$2 p m n=0 f
	shift 2
	{
		for p in "$@"; do
			m=${p%%:*}
			bar_data "$m" >"$WORK/chart-$m.dat"
			[ -s "$WORK/chart-$m.dat" ] && n=$((n + 1))
		done
		[ "$n" -gt 0 ] || return 0
		gp_head "$DOCS/$name" "$(( n < 3 ? n : 3 ))" "$(( (n + 2) / 3 ))" "$title"
		for p in "$@"; do
			m=${p%%:*}; f=$WORK/chart-$m.dat
			[ -s "$f" ] || continue
			p=${p#*:}
			bar_panel "$f" "${p%%:*}" "${p#*:}"
		done
		echo "unset multiplot"
	} >"$WORK/$name.gp"
	[ "$n" -gt 0 ] || return 0
	gnuplot "$WORK/$name.gp" 2>"$WORK/$name.gp.err" ||
		{ log "gnuplot $name failed: $(head -c 500 "$WORK/$name.gp.err")"; return 0; }
	CHARTS="$CHARTS $name"
}

# scale_chart: lines over the pod count, one per setup
scale_chart() {
	local s size m p title unit
	[ -n "$SCALE_DONE" ] || return 0
	for m in p2p snat cps add; do
		for s in $(setups_of scale); do
			for size in $SCALE_DONE; do
				medians "scale-$m@$size"
				has_res "scale-$m@$size" "$s" || continue
				echo "$size ${med[scale-$m@$size/$s]} $(echo "${res[scale-$m@$size/$s]}" | minmax | tr - ' ')"
			done >"$WORK/scale-$m-$s.dat"
		done
	done
	{
		gp_head "$DOCS/bench-scale.png" 2 2 "scale: pods on the node (bridge = CNI bridge + ipMasq, br-nf on)"
		echo "set logscale x; set xlabel 'pods'; set key bottom left; set xrange [*:*]; set offsets graph 0.05, graph 0.05, graph 0.08, 0"
		for p in "p2p:pod to pod, 64-byte UDP:packets/s" "snat:pod to outside through NAT, 64-byte UDP:packets/s" \
			"cps:new TCP connections/s through NAT:conn/s" "add:CNI ADD per pod, p50:ms"; do
			m=${p%%:*}; p=${p#*:}; title=${p%%:*}; unit=${p#*:}
			echo "set title '$title'; set ylabel '$unit'; set yrange [0:*]"
			case "$unit" in packets/s | conn/s) echo "set format y '%.0s%c'" ;; *) echo "set format y '%g'" ;; esac
			printf 'plot '
			for s in $(setups_of scale); do
				printf "'%s' using 1:2:3:4 with yerrorlines lt %d lw 2 title '%s', " \
					"$WORK/scale-$m-$s.dat" "$(lt_of "$s")" "$s"
			done | sed 's/, $//'
			echo
		done
		echo "unset multiplot"
	} >"$WORK/scale.gp"
	gnuplot "$WORK/scale.gp" 2>"$WORK/scale.gp.err" ||
		{ log "gnuplot scale failed: $(head -c 500 "$WORK/scale.gp.err")"; return 0; }
	CHARTS="$CHARTS bench-scale.png"
}

bpf_cost_chart() {
	[ -n "$BPF_COST_TSV" ] || return 0
	# the looping paths' medians (the cold ones, an order of magnitude
	# above, and the maxima, interrupts, stay in the table)
	awk -F'\t' '$1 !~ /_cold$|^empty_1$/ { print $1, $2 }' "$BPF_COST_TSV" >"$WORK/bpf-cost.dat"
	{
		gp_head "$DOCS/bench-bpf-cost.png" 1 1 "BPF_PROG_TEST_RUN, median ns per run (250 a call)"
		echo "set linetype 1 lc rgb '#117733'; set xtics rotate by -30"
		cat <<EOF
set title ""; set ylabel "ns"; set yrange [0:*]; set xrange [-0.6:*]
plot '$WORK/bpf-cost.dat' using 0:2:xtic(1) with boxes lt 1 notitle, \\
     '' using 0:2:2 with labels offset 0,0.7 notitle
unset multiplot
EOF
	} >"$WORK/bpf-cost.gp"
	gnuplot "$WORK/bpf-cost.gp" 2>"$WORK/bpf-cost.gp.err" ||
		{ log "gnuplot bpf-cost failed: $(head -c 500 "$WORK/bpf-cost.gp.err")"; return 0; }
	CHARTS="$CHARTS bench-bpf-cost.png"
}

# charts: every chart whose data this run has
CHARTS=""
charts() {
	command -v gnuplot >/dev/null || { log "no gnuplot (tools/install-deps): no charts"; return 0; }
	bars bench-pod2pod.png "pod to pod, same node (median, min-max)" \
		"pod2pod-pps:64-byte UDP:packets/s" "pod2pod-tcp:TCP, 1 stream:Gbit/s" \
		"pod2pod-tcp4:TCP, 4 streams:Gbit/s" "pod2pod-lat-p50:TCP request/response p50:us" \
		"pod2pod-lat-p99:TCP request/response p99:us"
	bars bench-snat.png "pod to outside through SNAT (median, min-max)" \
		"snat-pps:64-byte UDP, one flow:packets/s" "snat-tcp:TCP, 1 stream:Gbit/s" \
		"snat-cps:new TCP connections/s:conn/s" \
		"snat-sustained:new TCP connections/s, sustained:conn/s"
	scale_chart
	bpf_cost_chart
	[ -z "$CHARTS" ] || step "charts:$CHARTS"
}
