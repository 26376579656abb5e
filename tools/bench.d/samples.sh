# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench: the raw samples and the run's metadata, written as they are
# measured, so that a run cut short keeps what it measured and the report
# (tools/bench-report) can be made again from them. Sourced by tools/bench.
#
# RAW_DIR/raw.tsv (RAW_DIR: build/bench), one line per sample, appended:
#
#   scenario<TAB>metric<TAB>setup<TAB>key<TAB>value<TAB>unit
#
#   scenario  the scenario that measured it (pod2pod-pps, pod2pod-lat,
#             snat-cps, snat-sustained, scale, bpf-cost, cni, ...)
#   metric    what was measured: the scenario's figure (pod2pod-pps,
#             pod2pod-lat-p50, scale-p2p@100, ...) or a figure beside it,
#             METRIC.NAME (snat-pps.udp, snat-cps.failed, pod2pod-tcp.others,
#             ...); bpf-cost: the program path
#   setup     veth, bridge, bridge-nonf or bridgeless
#   key       the round (1, 2, ...), the slice of snat-sustained, the pod
#             (cni, scale-add@N), the map (scale-map@N), median/min/max
#             (bpf-cost)
#   value     as the tool reported it: pps, bit/s, us, conn/s, ns, bytes,
#             counts, % of a CPU
#   unit      of the value
#
# RAW_DIR/meta.tsv: key<TAB>value lines (the machine, the date, the git
# commit, the options, what ran), appended as the run learns them; a later
# line of the same key replaces an earlier one.

RAW_DIR=${RAW_DIR:-$repo/build/bench}
declare -A nsample	# samples so far per METRIC/SETUP

# raw_init: empty sample and metadata files for this run
raw_init() {
	mkdir -p "$RAW_DIR" &&
	printf '# scenario\tmetric\tsetup\tkey\tvalue\tunit\n' >"$RAW_DIR/raw.tsv" &&
	: >"$RAW_DIR/meta.tsv"
}

# run_info KEY VALUE: a line of meta.tsv
run_info() { printf '%s\t%s\n' "$1" "$2" >>"$RAW_DIR/meta.tsv"; }

# scen_of METRIC: the scenario that measures it (whose setups take part)
scen_of() {
	case "${1%%.*}" in
	pod2pod-lat-*) echo pod2pod-lat ;;
	scale-*) echo scale ;;
	cni-*) echo cni ;;
	*) echo "${1%%.*}" ;;
	esac
}

# sample_in SCENARIO METRIC SETUP KEY VALUE UNIT: a line of raw.tsv
sample_in() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RAW_DIR/raw.tsv"
}

# sample METRIC SETUP VALUE UNIT [KEY]: KEY defaults to the number of this
# METRIC/SETUP's sample (the round or the slice)
sample() {
	local k=${5:-}
	if [ -z "$k" ]; then
		nsample[$1/$2]=$(( ${nsample[$1/$2]:-0} + 1 ))
		k=${nsample[$1/$2]}
	fi
	sample_in "$(scen_of "$1")" "$1" "$2" "$k" "$3" "$4"
}

# sample_others METRIC SETUP: M_OTHERS of others_during beside the sample
sample_others() { sample "$1.others" "$2" "$M_OTHERS" %; }

# run_start: what the report says about the machine and the run
run_start() {
	local sc cpu os commit
	raw_init || die "cannot write $RAW_DIR"
	cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
	os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
	commit=$(git -C "$repo" rev-parse HEAD 2>/dev/null) &&
		[ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ] &&
		commit="$commit (with uncommitted changes)"
	run_info format 1
	run_info date "$DATE0"
	run_info t_start "$T_START"
	run_info command "$CMDLINE"
	run_info commit "${commit:-?}"
	run_info cpu "${cpu:-?}"
	run_info cores "$(nproc)"
	run_info threads "$(lscpu 2>/dev/null | sed -n 's/^Thread(s) per core: */threads per core: /p')"
	run_info mem_kb "$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
	run_info kernel "$(uname -r)"
	run_info os "${os:-?}"
	run_info scenarios "$SCEN_ORDER"
	run_info setups "$setups"
	run_info order "$order"
	for sc in $SCEN_ORDER; do run_info "setups.$sc" "$(setups_of "$sc")"; done
	run_info rounds "$rounds"
	run_info seconds "$seconds"
	run_info warmup "$warmup"
	run_info inflight "$inflight"
	run_info sustained "$sustained"
	run_info sustain_slice "$SUSTAIN_SLICE"
	run_info sports "${sports:-default}"
	run_info cni_pods "$cni_pods"
	run_info cni_batch "$CNI_BATCH"
	run_info scale_sizes "$scale_sizes"
	run_info scale_rounds "$scale_rounds"
	run_info sample_cpu "$SAMPLE_CPU"
	run_info load_before "$LOAD0"
}

# run_end: what the report says about the end of the run
run_end() {
	run_info load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
	run_info t_end "${EPOCHSECONDS:-0}"
}
