# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench: names, namespaces, processes, cleanup and the sampling of other
# load shared by the other parts. Sourced by tools/bench. The statistics are
# tools/bench-report's.

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }
# step TEXT: the progress line of a step, with the time since the start
step() { printf 'bench: [%4ds] %s\n' "$(( ${EPOCHSECONDS:-0} - T_START ))" "$*" >&2; }

inlist() { case ",$2," in *",$1,"*) return 0 ;; esac; return 1; }
want() { inlist "$1" "$setups"; }
want_scen() { inlist "$1" "${SCEN_ORDER// /,}"; }
any_scen() {	# any_scen PREFIX: a chosen scenario starts with PREFIX
	case " $SCEN_ORDER " in *" $1"*) return 0 ;; esac; return 1
}

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

# short SETUP: the letter of its namespaces
short() { case "$1" in veth) echo a ;; bridge) echo b ;; bridgeless) echo c ;; bridge-nonf) echo d ;; esac; }
ns() { echo "$P-$1"; }
NSLIST=""		# namespaces this run created, in creation order
mkns() {
	ip netns add "$(ns "$1")" || return 1
	NSLIST="$NSLIST $(ns "$1")"
	ip -n "$(ns "$1")" link set lo up
}
# mkns_many NAME...: many namespaces in one `ip -batch` (about 1 ms each
# instead of 20), without lo up (the scale pods do not need it)
mkns_many() {
	local n
	for n in "$@"; do echo "netns add $(ns "$n")"; done | ip -batch - || return 1
	for n in "$@"; do NSLIST="$NSLIST $(ns "$n")"; done
}
# rmns NAME: delete one of this run's namespaces now
rmns() {
	local n=$(ns "$1")
	ip netns del "$n" || return 1
	NSLIST=" $NSLIST "
	NSLIST=${NSLIST/ $n / }
	NSLIST=${NSLIST% }
}

ns_ip() {	# ns_ip NETNS: the address of its eth0
	ip -n "$1" -j -4 addr show dev eth0 | jq -r '.[0].addr_info[0].local // empty'
}

bl() { nsenter --net="/run/netns/$(ns c-node)" "$BRIDGELESS" \
	--pin-dir "$PIN" --state-dir "$STATE" "$@"; }

# ------------------------------------------------------------ processes

TG_PID=""		# the running trafgen
CUR_PID=""		# the running iperf3 / connrate / sockperf client
SERVER_PIDS=""		# servers (iperf3, connrate, sockperf) in ext and pod netns
HOLD_PIDS=""		# tools/holdconns of the scale scenario
CNI_ADDED=""		# "SETUP POD" added through the reference bridge plugin
CNI_CUR=""		# "SETUP POD" of the cni scenario between its ADD and DEL
BL_INIT=0

stop_sender() {
	[ -n "$TG_PID" ] || return 0
	# trafgen's parent waits for its forked worker, which must get the
	# signal itself; both are processes this script started.
	pkill -TERM -P "$TG_PID" 2>/dev/null
	kill -TERM "$TG_PID" 2>/dev/null
	wait "$TG_PID" 2>/dev/null
	TG_PID=""
}

stop_pid() {	# stop_pid PID: a process this script started
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# run_fg CMD...: run a client in the background and wait for it, so that the
# EXIT trap knows its PID (CUR_PID) if the run is interrupted
run_fg() {
	"$@" &
	CUR_PID=$!
	wait "$CUR_PID"
	local rc=$?
	CUR_PID=""
	return $rc
}

cleanup() {
	local rc=$? n
	trap - EXIT INT TERM
	stop_sender
	stop_pid "$CUR_PID"
	for n in $HOLD_PIDS; do stop_pid "$n"; done
	for n in $SERVER_PIDS; do stop_pid "$n"; done
	if [ -n "$CNI_CUR" ]; then	# a cni pod between its ADD and DEL
		cnib_call "${CNI_CUR% *}" DEL "${CNI_CUR#* }" >/dev/null 2>&1 ||
			log "CNI DEL of cni pod $CNI_CUR failed"
	fi
	# The pods of the scale scenario are not deleted one by one: all their
	# state (bridge, iptables chains, BPF maps) lives in the node netns and
	# pin dir, which go below.
	set -- $CNI_ADDED
	while [ $# -ge 2 ]; do
		cni_call "$1" DEL "$2" >/dev/null 2>&1 || log "CNI DEL $1 $2 failed"
		shift 2
	done
	if [ "$BL_INIT" = 1 ]; then
		bl node reset >/dev/null 2>&1 || log "bridgeless node reset failed"
	fi
	for n in $NSLIST; do echo "netns del $n"; done | ip -force -batch - 2>/dev/null
	rm -rf "$PIN" "$STATE" "$IPAM" "$WORK"
	exit "$rc"
}

# ------------------------------------------------------------ clock

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
# us_summary: microseconds on stdin -> "P50_MS TOTAL_S" (progress lines)
us_summary() { python3 "$repo/tools/bench-report" --us-summary; }

# ------------------------------------------------------------ other load

# busy and total jiffies of the sampling CPU: the sender keeps CPU 0 busy, so
# time spent on the other CPU is other work on the machine, which skews the
# figures (the sampler itself costs about 1%).
cpu_jiffies() {
	awk -v c="cpu$SAMPLE_CPU" '$1 == c { t = 0; for (i = 2; i <= NF; i++) t += $i;
		print t - $5 - $6, t }' /proc/stat
}

# proc_snap FILE: "pid ticks" of every user process this script did not start
# (not a descendant of it, not a kernel thread): utime + stime and the same of
# its waited-for children, so that short-lived processes (a test script's
# jq, ip, ...) count through their parent.
proc_snap() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v me="$$" '{
		pid = $1; s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
		pp[pid] = f[2]; t[pid] = f[12] + f[13] + f[14] + f[15] }
	END { for (p in t) { if (p == 2 || pp[p] == 2) continue
		q = p; mine = 0
		for (n = 0; n < 64 && q > 1; n++) { if (q == me) { mine = 1; break }; q = pp[q] }
		if (!mine) print p, t[p] } }' >"$1"
}
# others_pct SNAP0 SNAP1 SECONDS: their CPU time, % of one CPU. The sums,
# not per-process differences: a process that exits in between moves its
# whole time to its parent's children time, counted once in each sum.
others_pct() {
	awk -v hz="$(getconf CLK_TCK)" -v d="$3" 'NR == FNR { s0 += $2; next }
		{ s1 += $2 }
		END { v = d > 0 ? 100 * (s1 - s0) / hz / d : 0
			printf "%.0f\n", (v > 0 ? v : 0) }' "$1" "$2"
}
# others_during CMD...: run CMD (which sets M_* variables in this shell) and
# set M_OTHERS to the CPU % of processes this script did not start meanwhile
# (a sample beside the measurement's: sample_others)
others_during() {
	local t0 t1
	proc_snap "$WORK/snap0"; t0=$(now)
	"$@" || return 1
	t1=$(now); proc_snap "$WORK/snap1"
	M_OTHERS=$(others_pct "$WORK/snap0" "$WORK/snap1" "$(elapsed "$t0" "$t1")")
}
