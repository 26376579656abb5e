# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench: scenario 4, BPF cost: tools/bpf-cost (BPF_PROG_TEST_RUN on the
# production programs, many repeats) run with `--out FILE`, which writes one
# line per program path: path<TAB>median_ns<TAB>min_ns<TAB>max_ns (paths
# such as local_redirect, snat_egress, reverse_nat, drop). A bpf-cost without
# --out, or one that fails, is reported as "not measured", not as a failure
# of the bench. Each path's median, min and max are samples (scenario
# bpf-cost, metric the path, key median/min/max). Sourced by tools/bench.

BPF_COST_STATUS="not run"
BPF_COST_CMD=""

# run_bpf_cost: the samples and BPF_COST_STATUS ("ok" once they are written)
run_bpf_cost() {
	local tool=$repo/tools/bpf-cost help args line path med lo hi extra n=0 paths=()
	[ -x "$tool" ] || { BPF_COST_STATUS="not measured: no $tool"; return 0; }
	help=$("$tool" --help 2>&1)
	case "$help" in
	*--out*) ;;
	*) BPF_COST_STATUS="not measured: tools/bpf-cost has no --out option yet"; return 0 ;;
	esac
	args=(--out "$WORK/bpf-cost.tsv")
	BPF_COST_CMD="tools/bpf-cost ${args[*]/#$WORK\/bpf-cost.tsv/FILE}"
	if ! "$tool" "${args[@]}" >"$WORK/bpf-cost.log" 2>&1; then
		BPF_COST_STATUS="not measured: tools/bpf-cost failed: $(tail -n 1 "$WORK/bpf-cost.log")"
		return 0
	fi
	# the path lines, all of them path<TAB>median<TAB>min<TAB>max with a
	# numeric median (a header line, if any, left out)
	while IFS= read -r line; do
		n=$((n + 1))
		IFS='	' read -r path med lo hi extra <<<"$line"
		case "$med" in
		"" | *[!0-9.]*) [ "$n" = 1 ] && continue; paths=(); break ;;
		esac
		[ -n "$hi" ] && [ -z "$extra" ] || { paths=(); break; }
		paths+=("$path	$med	$lo	$hi")
	done <"$WORK/bpf-cost.tsv"
	if [ "${#paths[@]}" = 0 ]; then
		BPF_COST_STATUS="not measured: tools/bpf-cost --out wrote no path<TAB>median<TAB>min<TAB>max lines"
		return 0
	fi
	for line in "${paths[@]}"; do
		IFS='	' read -r path med lo hi <<<"$line"
		sample_in bpf-cost "$path" bridgeless median "$med" ns
		sample_in bpf-cost "$path" bridgeless min "$lo" ns
		sample_in bpf-cost "$path" bridgeless max "$hi" ns
	done
	BPF_COST_STATUS=ok
}
