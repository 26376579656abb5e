#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Run the libFuzzer targets (build/fuzz/fuzz_*, `make fuzz-build`), each
# from its committed seed corpus (tests/fuzz/corpus/TARGET) for a while.
# tests/run runs it with the default 5 s a target; `make fuzz` for longer.
#
#   tests/fuzz/fuzz.sh [--time S] [TARGET...]
#
# The committed corpus is only read: libFuzzer writes what it finds into
# the first corpus directory it is given, which is a temporary one here,
# removed at the end. Crashes and broken oracles go to
# build/fuzz/artifacts/TARGET-*. One line per target: "PASS fuzz.TARGET",
# "FAIL fuzz.TARGET: why" or "SKIP fuzz.TARGET: why".
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
TIME=${FUZZ_TIME:-5}
targets=()
while [ $# -gt 0 ]; do
	case $1 in
	--time) TIME=$2; shift 2 ;;
	-h | --help) sed -n '3,14p' "$0"; exit 0 ;;
	*) targets+=("$1"); shift ;;
	esac
done
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		targets+=("$(basename "$f" .c)")
	done
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bridgeless-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# listing DIR: names and sizes of its files, to prove a run left it alone
listing() { [ -d "$1" ] && (cd "$1" && find . -type f -printf '%p %s\n' | sort); }

rc=0
for t in "${targets[@]}"; do
	bin=$BUILD/fuzz/$t
	seeds=tests/fuzz/corpus/$t
	work=$tmp/$t
	art=$BUILD/fuzz/artifacts
	log=$BUILD/fuzz/$t.log
	if [ ! -x "$bin" ]; then
		echo "SKIP fuzz.$t: $bin not built (make fuzz-build; make test builds it)"
		continue
	fi
	mkdir -p "$work" "$art"
	corpora=("$work")
	[ -d "$seeds" ] && corpora+=("$seeds")
	before=$(listing "$seeds")
	# ASan's leak check stays on; UBSan aborts on any report.
	if timeout -k 10 $((TIME + 120)) env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		"$bin" -max_total_time="$TIME" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$art/$t-" -print_final_stats=1 "${corpora[@]}" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		if [ "$(listing "$seeds")" != "$before" ]; then
			echo "FAIL fuzz.$t: the run changed the committed corpus $seeds (git status)"
			rc=1
			continue
		fi
		echo "PASS fuzz.$t"
		echo "# fuzz.$t: ${runs:-?} inputs in ${TIME} s, $(ls "$seeds" 2>/dev/null | wc -l) seeds, $(ls "$work" | wc -l) new inputs (not kept)" >&2
	else
		why=$(grep -m1 -E '^oracle |ERROR: |SUMMARY: ' "$log" | cut -c1-300)
		echo "FAIL fuzz.$t: ${why:-exited $?}; input in $(ls -t "$art/$t-"* 2>/dev/null | head -1); log $log"
		rc=1
	fi
	rm -rf "$work"
done
exit $rc
