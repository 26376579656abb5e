# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench: scenario 4, BPF cost: tools/bpf-cost (BPF_PROG_TEST_RUN on the
# production programs, many repeats) run with `--out FILE`, which writes one
# line per program path: path<TAB>median_ns<TAB>min_ns<TAB>max_ns (paths
# such as local_redirect, snat_egress, reverse_nat, drop). A bpf-cost without
# --out, or one that fails, is reported as "not measured", not as a failure
# of the bench. Sourced by tools/bench.

BPF_COST_TSV=""		# the validated TSV once measured
BPF_COST_STATUS="not run"

# run_bpf_cost: sets BPF_COST_TSV or BPF_COST_STATUS
run_bpf_cost() {
	local tool=$repo/tools/bpf-cost help args
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
	# the path lines (a header line, if any, left out)
	if ! awk -F'\t' 'NR == 1 && $2 !~ /^[0-9.]+$/ { next }
		NF != 4 || $2 !~ /^[0-9.]+$/ { bad = 1 } { print; n++ } END { exit bad || !n }' \
		"$WORK/bpf-cost.tsv" >"$WORK/bpf-cost.paths" 2>/dev/null; then
		BPF_COST_STATUS="not measured: tools/bpf-cost --out wrote no path<TAB>median<TAB>min<TAB>max lines"
		return 0
	fi
	BPF_COST_TSV=$WORK/bpf-cost.paths
	BPF_COST_STATUS=ok
	local path med lo hi
	while IFS='	' read -r path med lo hi; do
		sample_in bpf-cost "$path" bridgeless median "$med" ns
		sample_in bpf-cost "$path" bridgeless min "$lo" ns
		sample_in bpf-cost "$path" bridgeless max "$hi" ns
	done <"$BPF_COST_TSV"
}

# bpf_cost_of PATH: its median ns, or nothing
bpf_cost_of() {
	[ -n "$BPF_COST_TSV" ] || return 0
	awk -F'\t' -v p="$1" '$1 == p { print $2; exit }' "$BPF_COST_TSV"
}
