#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Run the libFuzzer targets (build/fuzz/fuzz_*, `make fuzz-build`), each
# from its committed seed corpus (tests/fuzz/corpus/TARGET) for a while.
# tests/run runs it with the default 5 s a target; `make fuzz` for longer.
#
#   tests/fuzz/fuzz.sh [--time S] [--merge] [TARGET...]
#
# Inputs a run finds go to build/fuzz/corpus/TARGET, crashes and broken
# oracles to build/fuzz/artifacts/TARGET-*; --merge then adds the new
# inputs that cover something new to the committed corpus (-merge=1).
# One line per target: "PASS fuzz.TARGET", "FAIL fuzz.TARGET: why" or
# "SKIP fuzz.TARGET: why".
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
TIME=${FUZZ_TIME:-5}
MERGE=0
targets=()
while [ $# -gt 0 ]; do
	case $1 in
	--time) TIME=$2; shift 2 ;;
	--merge) MERGE=1; shift ;;
	-h | --help) sed -n '3,15p' "$0"; exit 0 ;;
	*) targets+=("$1"); shift ;;
	esac
done
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		targets+=("$(basename "$f" .c)")
	done
fi

rc=0
for t in "${targets[@]}"; do
	bin=$BUILD/fuzz/$t
	seeds=tests/fuzz/corpus/$t
	work=$BUILD/fuzz/corpus/$t
	art=$BUILD/fuzz/artifacts
	log=$BUILD/fuzz/$t.log
	if [ ! -x "$bin" ]; then
		echo "SKIP fuzz.$t: $bin not built (make fuzz-build; make test builds it)"
		continue
	fi
	mkdir -p "$work" "$art" "$seeds"
	# ASan's leak check at exit would report libFuzzer's own corpus; UBSan aborts.
	if timeout -k 10 $((TIME + 120)) env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		"$bin" -max_total_time="$TIME" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$art/$t-" -print_final_stats=1 "$work" "$seeds" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "PASS fuzz.$t"
		echo "# fuzz.$t: ${runs:-?} inputs in ${TIME} s, $(ls "$seeds" | wc -l) seeds" >&2
	else
		why=$(grep -m1 -E '^oracle |ERROR: |SUMMARY: ' "$log" | cut -c1-300)
		echo "FAIL fuzz.$t: ${why:-exited $?}; input in $(ls -t "$art/$t-"* 2>/dev/null | head -1); log $log"
		rc=1
		continue
	fi
	if [ $MERGE = 1 ]; then
		"$bin" -merge=1 "$seeds" "$work" >>"$log" 2>&1 &&
			echo "# fuzz.$t: $(ls "$seeds" | wc -l) seeds after the merge" >&2
	fi
done
exit $rc
