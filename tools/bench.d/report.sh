# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench: the report, once as text (stdout and build/bench-result.txt)
# and once as Markdown (docs/BENCHMARKS.md, with the charts of charts.sh).
# Sourced by tools/bench.

# Cells that are figures (a number, a ratio, "12.3 (10-14)") are aligned right,
# the others left; a column is right-aligned when all its figures are.
NUMERIC_AWK='function num(x) { return x ~ /^[-+]?[0-9][0-9.]*(-[0-9.]+)?( [a-z\/]+)?( \([-0-9.]*\))?$/ || x == "-" }'
# tsv_text: TSV on stdin as aligned text columns
tsv_text() {
	awk -F'\t' "$NUMERIC_AWK"'
	{ for (i = 1; i <= NF; i++) { c[NR, i] = $i
			if (length($i) > w[i]) w[i] = length($i)
			if (NR > 1 && !num($i)) left[i] = 1 }
		if (NF > nf) nf = NF }
	END { for (r = 1; r <= NR; r++) { l = ""
			for (i = 1; i <= nf; i++)
				l = l (i > 1 ? "  " : "") sprintf("%" (left[i] || i == 1 ? "-" : "") w[i] "s", c[r, i])
			sub(/ +$/, "", l); print l } }'
}
# tsv_md: TSV on stdin as a Markdown table
tsv_md() {
	awk -F'\t' "$NUMERIC_AWK"'
	{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (NR > 1 && !num($i)) left[i] = 1 }
		if (NF > nf) nf = NF }
	END { for (r = 1; r <= NR; r++) { l = "|"
			for (i = 1; i <= nf; i++) l = l " " c[r, i] " |"
			print l
			if (r == 1) { l = "|"
				for (i = 1; i <= nf; i++) l = l (left[i] || i == 1 ? "---|" : "---:|")
				print l } } }'
}

# The document, written once per format (FMT=text or md)
h2() { if [ "$FMT" = md ]; then printf '\n## %s\n\n' "$1"; else printf '\n== %s\n' "$1"; fi; }
h3() { if [ "$FMT" = md ]; then printf '\n### %s\n\n' "$1"; else printf '\n%s\n' "$1"; fi; }
para() { if [ "$FMT" = md ]; then printf '%s\n\n' "$*"; else printf '%s\n' "$*" | fold -s -w 100; fi; }
table() { if [ "$FMT" = md ]; then tsv_md; echo; else tsv_text; fi; }
img() { [ "$FMT" = md ] && [ -f "$DOCS/$1" ] && printf '![%s](%s)\n\n' "$2" "$1"; return 0; }
code() { if [ "$FMT" = md ]; then printf '`%s`' "$*"; else printf '%s' "$*"; fi; }

machine() {
	local cpu mem os
	cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
	mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
	printf 'item\tvalue\n'
	printf 'CPU\t%s\n' "${cpu:-?}"
	printf 'cores\t%s online (%s)\n' "$(nproc)" "$(lscpu 2>/dev/null | sed -n 's/^Thread(s) per core: */threads per core: /p')"
	printf 'memory\t%s\n' "$mem"
	printf 'kernel\t%s (uname -r), %s\n' "$(uname -r)" "${os:-?}"
	printf 'date\t%s, the run took %s s\n' "$DATE0" "$(( ${EPOCHSECONDS:-0} - T_START ))"
	printf 'command\t%s\n' "$(code "$CMDLINE")"
	printf 'rounds\t%s x %s s per measurement, alternating %s\n' "$rounds" "$seconds" "$order"
}

load_lines() {
	para "Load average before the run: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg)." \
		"UDP runs: CPU $SAMPLE_CPU (not the sender's) was up to $busy_max% busy with other work;" \
		"TCP and connection runs: processes not started by the bench used up to $others_max% of a CPU."
	[ "$busy_max" -le 20 ] && [ "$others_max" -le 20 ] ||
		para "WARNING: other work ran on the machine during the run; the figures are skewed."
}

metric_table() {	# metric_table METRIC: title, table, per-round line
	has_res "$1" bridgeless || has_res "$1" bridge || has_res "$1" veth || return 0
	meta "$1"
	h3 "$MT_TITLE"
	rows "$1" | table
	local pr=$(per_round "$1")
	[ -z "$pr" ] || para "$pr"
}

targets_table() {
	local i t st name fig
	printf 'target\tresult\tfigure\n'
	for i in "${!TARGETS[@]}"; do
		[ "$i" = "$N_MAIN_TARGETS" ] && [ "$1" = main ] && break
		[ "$i" -lt "$N_MAIN_TARGETS" ] && [ "$1" = other ] && continue
		t=${TARGETS[$i]}
		IFS='	' read -r st name fig <<<"$t"
		printf '%s\t%s\t%s\n' "$name" "$st" "$fig"
	done
}

scale_table() {
	local size s m cell v
	printf 'pods\tsetup\tCNI ADD p50 ms\tADD total s\tpod to pod pps\tpod to outside pps\tnew conn/s\tconn/s x bridge\tstate\n'
	for size in $SCALE_DONE; do
		for s in $(setups_of scale); do
			printf '%s\t%s\t%s\t%s' "$size" "$s" "$(echo "${scale_add_us[$size/$s]:-}" | pctl 50 %.1f)" \
				"$(scale_add_total "$size/$s")"
			for m in p2p snat cps; do
				medians "scale-$m@$size"
				v=${med[scale-$m@$size/$s]:--}
				cell="$v ($(echo "${res[scale-$m@$size/$s]:-}" | minmax))"
				printf '\t%s' "$cell"
			done
			printf '\t%s\t%s\n' "$(ratio "${med[scale-cps@$size/$s]:--}" "${med[scale-cps@$size/bridge]:-0}")" \
				"${scale_info[$size/$s]:-}"
		done
	done
}

# the paths with what test_run reports and the same net of the empty
# program run the same way (empty_loop for looping paths, empty_1 for the
# *_cold ones)
bpf_cost_table() {
	local loop one
	loop=$(bpf_cost_of empty_loop) one=$(bpf_cost_of empty_1)
	printf 'path\tmedian ns\tmin ns\tmax ns\tnet of the empty program\n'
	awk -F'\t' -v loop="$loop" -v one="$one" 'BEGIN { OFS = "\t" }
		{ e = $1 ~ /_cold$/ ? one : loop
		  net = ($1 ~ /^empty/ || e == "") ? "-" : $2 - e
		  print $1, $2, $3, $4, net }' "$BPF_COST_TSV"
}

cni_table() {
	local s
	printf 'setup\ttotal s\tp50 ms\tp99 ms\tx bridge\n'
	for s in $(setups_of cni); do
		has_cni "$s" || continue
		printf '%s\t%s\t%s\t%s\t%s\n' "$(label cni "$s")" \
			"$(echo "${cni_us[$s]}" | tr ' ' '\n' | awk '{ t += $1 } END { printf "%.2f", t / 1e6 }')" \
			"$(echo "${cni_us[$s]}" | pctl 50 %.2f)" "$(echo "${cni_us[$s]}" | pctl 99 %.2f)" \
			"$(has_cni bridge && ratio "$(echo "${cni_us[$s]}" | pctl 50 %.3f)" \
				"$(echo "${cni_us[bridge]}" | pctl 50 %.3f)" || echo -)"
	done
}

# document: the whole report in FMT
document() {
	local m
	if [ "$FMT" = md ]; then
		printf '# Benchmarks\n\n'
		para "Written by $(code tools/bench) (the run below); rerun it rather than editing" \
			"this file. How each figure is measured: the header comments of" \
			"$(code tools/bench) and $(code 'tools/bench.d/*.sh')."
	else
		printf 'bridgeless bench: %s\n' "$SCEN_ORDER"
	fi
	h2 Machine
	machine | table
	load_lines
	h2 Targets
	targets_table main | table
	[ "${#TARGETS[@]}" -gt "$N_MAIN_TARGETS" ] &&
		{ para "Targets of earlier issues:"; targets_table other | table; }
	para "What limits the missed targets, with the profiles behind it: docs/LIMITS.md" \
		"(written by hand, not by this run)."
	if any_scen pod2pod; then
		h2 "1. Pod to pod, same node"
		para "Setups: bare veth pair (the physical limit), the reference CNI bridge plugin" \
			"(host-local, ipMasq, bridge-nf-call-iptables=1), the same bridge without" \
			"netfilter (ipMasq false, bridge-nf-call-iptables=0), bridgeless. Ratios are" \
			"of the medians; for latency lower is better."
		img bench-pod2pod.png "pod to pod"
		for m in pod2pod-pps pod2pod-tcp pod2pod-tcp4 pod2pod-lat-p50 pod2pod-lat-p99; do
			metric_table "$m"
		done
	fi
	if any_scen snat; then
		h2 "2. Pod to outside through SNAT"
		para "bare veth pair: the client's netns wired straight to the servers' by one veth" \
			"pair, nothing translated (the physical limit of any path through a node);" \
			"bridge: CNI bridge + ipMasq (iptables MASQUERADE, conntrack); bridgeless: SNAT" \
			"in BPF. The bridge without netfilter cannot masquerade and takes no part."
		img bench-snat.png "pod to outside through SNAT"
		for m in snat-pps snat-tcp snat-cps snat-sustained; do metric_table "$m"; done
		if has_res snat-sustained bridgeless || has_res snat-sustained bridge; then
			for s in $(setups_of snat-sustained); do
				[ -n "${sus_slices[$s]:-}" ] || continue
				para "sustained, $(label snat-sustained "$s"), conn/s per ${SUSTAIN_SLICE} s:" \
					"${sus_slices[$s]} (${sus_note[$s]})"
			done
		fi
		[ -z "$SNAT_UNTRANSLATED" ] ||
			para "WARNING: fewer than 90% of the packets reached ext's UDP layer for:$SNAT_UNTRANSLATED (untranslated sources?)"
		[ "$M_NOPORT" = 0 ] || para "WARNING: bridgeless dropped $M_NOPORT packets with drop_nat_no_port"
		[ "$M_CTDROP" = 0 ] || para "WARNING: conntrack dropped $M_CTDROP packets in the bridge node (seen $CT_MAX_SEEN entries)"
	fi
	if want_scen scale; then
		h2 "3. Scale"
		para "Pods on the node (tx, rx and pods added through the CNI plugins, each holding" \
			"one idle TCP connection to ext open through the NAT), $scale_rounds rounds per size." \
			"Cells: median (min-max). ADD: one CNI ADD at a time, untimed netns creation." \
			"New connections come from the pod in the middle of the added ones (the bridge's" \
			"ipMasq rules are walked in the order the pods were added, so it walks what an" \
			"average pod walks). state: bridgeless map memory" \
			"(bytes_memlock, preallocated, so it does not grow with the pods) or the bridge" \
			"node's nat rules and conntrack entries (including the closed connections of" \
			"earlier rounds, as bridgeless's NAT map holds them until \`nat gc\`). The pods get" \
			"permanent neighbour entries: the kernel's neighbour table is shared by all" \
			"namespaces and its limit (gc_thresh3) is the machine's, which a bench must not raise."
		[ -n "$SCALE_DONE" ] || para "not measured"
		img bench-scale.png "scale"
		[ -z "$SCALE_DONE" ] || scale_table | table
	fi
	if want_scen bpf-cost; then
		h2 "4. BPF cost per packet (BPF_PROG_TEST_RUN)"
		if [ -n "$BPF_COST_TSV" ]; then
			para "$(code "$BPF_COST_CMD")" "(how each path is built and timed: the" \
				"header of tools/bpf-cost). Looping paths run 250 times a call on" \
				"the same packet; an empty program in the same loop (empty_loop)" \
				"is test_run's own cost, and the last column takes it off. The" \
				"*_cold paths rewrite the packet, so each call runs them once on" \
				"a fresh copy; this VM flushes the TLB on every syscall (PTI" \
				"without PCID), which they pay for, unlike a packet in a burst."
			img bench-bpf-cost.png "BPF cost"
			bpf_cost_table | table
		else
			para "$BPF_COST_STATUS"
		fi
	fi
	if want_scen cni; then
		h2 "Pod setup and teardown (CNI ADD + DEL)"
		para "$cni_pods pods per setup, each its own netns (made and deleted untimed)," \
			"batches of $CNI_BATCH alternating, host-local IPAM over the same range."
		cni_table | table
	fi
}

# report: text on stdout and in RESULT, Markdown in DOCS/BENCHMARKS.md
report() {
	targets
	FMT=text document | tee "$WORK/table"
	mkdir -p "$(dirname "$RESULT")" && cp "$WORK/table" "$RESULT" &&
		step "table written to ${RESULT#$repo/}"
	[ -n "$DOCS" ] || return 0
	mkdir -p "$DOCS" || die "cannot create $DOCS"
	charts
	FMT=md document >"$DOCS/BENCHMARKS.md.tmp" && mv "$DOCS/BENCHMARKS.md.tmp" "$DOCS/BENCHMARKS.md" &&
		step "report written to ${DOCS#$repo/}/BENCHMARKS.md"
}
