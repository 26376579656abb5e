#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A hostile or unlucky state dir. Symbolic links planted where bridgeless
# writes (ipam/last, a record's temporary file, the lock, a pod record)
# are never followed: the file they point at stays as it was. A pod record
# that does not parse is moved to quarantine by `pod del`, which removes
# what follows from the name (its veth). A full state dir says "No space
# left on device" and leaves nothing. A held state lock is waited for a
# bounded time, and the message names the holder (pid and command line).
TEST=statedir
. "$(dirname "$0")/lib.sh"
require_bin
require_cmd jq strace unshare
mount_bpffs

one_node_with_pods keep
for n in x y z; do new_netns "$(pod_ns $n)" || abort "netns $n"; done
VICTIM=$TMPD/victim
echo precious >"$VICTIM"
untouched() { [ "$(cat "$VICTIM")" = precious ] && [ ! -L "$VICTIM" ]; }

# fnv64 NAME: the hash in a temporary file's name (lib/fs.c file_temp_path)
fnv64() {
	local s=$1 h=$((0xcbf29ce484222325)) i c
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		h=$(((h ^ c) * 0x100000001b3))
	done
	printf '%016x' $h
}

# --- symlinks ------------------------------------------------------------------------
rm -f "$STATE/ipam/last"
ln -s "$VICTIM" "$STATE/ipam/last"
if mkpod x >/dev/null 2>"$TMPD/err" && untouched && [ -L "$STATE/ipam/last" ]; then
	pass symlink_ipam_last
else
	fail symlink_ipam_last "victim: $(cat "$VICTIM"); $(cat "$TMPD/err")"
fi
bl pod del x >/dev/null
rm -f "$STATE/ipam/last"

ln -s "$VICTIM" "$STATE/pods/.tmp.$(fnv64 x)"
if mkpod x >/dev/null 2>"$TMPD/err" && untouched && [ "$(pod_ip x)" != "" ]; then
	pass symlink_record_temp
else
	fail symlink_record_temp "victim: $(cat "$VICTIM"); $(cat "$TMPD/err")"
fi
bl pod del x >/dev/null

mv "$STATE/lock" "$STATE/lock.real"
ln -s "$VICTIM" "$STATE/lock"
err=$(bl pod add y --netns "$(pod_ns y)" 2>&1 >/dev/null)
rc=$?
check symlink_lock "exit $rc, '$err', victim $(cat "$VICTIM")" \
	bash -c '[ "$1" = 1 ] && [[ $2 == *"lock: is a symbolic link; refusing to follow it" ]]' _ "$rc" "$err"
check symlink_lock_victim "the lock's symlink target was written" untouched
rm -f "$STATE/lock"
mv "$STATE/lock.real" "$STATE/lock"

ln -s "$VICTIM" "$STATE/pods/evil"
bl pod del evil >/dev/null 2>"$TMPD/err"
rc=$?
check symlink_record "exit $rc, $(cat "$TMPD/err"), victim $(cat "$VICTIM")" \
	bash -c '[ "$1" = 0 ] && [ -L "$2/quarantine/pods/evil" ] && [ ! -e "$2/pods/evil" ]' _ "$rc" "$STATE"
check symlink_record_victim "the record's symlink target changed" untouched

# --- a pod record that does not parse: pod del moves it aside, the veth of its name goes --
echo '{ "name": "q", "ip": ' >"$STATE/pods/q"
QIF=$(printf 'bl%08x' "$(
	h=2166136261
	s=q
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		h=$(((h ^ c) * 16777619 & 0xffffffff))
	done
	echo $h
)")
ndx ip link add "$QIF" type veth peer name qpeer
err=$(bl pod del q 2>&1)
rc=$?
why=""
[ $rc = 0 ] || why="$why; exit $rc"
[[ $err == *"pods/q: line "*"moved it to $STATE/quarantine/pods/q, out of the way"* ]] || why="$why; said '$err'"
[ -e "$STATE/quarantine/pods/q" ] || why="$why; not in quarantine"
ndx ip link show "$QIF" >/dev/null 2>&1 && why="$why; $QIF left"
check bad_record_pod_del "${why#; }" [ -z "$why" ]
if mkpod q >/dev/null && [ -n "$(pod_ip q)" ] && bl pod del q >/dev/null; then
	pass bad_record_name_usable
else
	fail bad_record_name_usable "pod add q after the quarantine failed"
fi

# --- a full state dir: ENOSPC, said as such, nothing left ------------------------------------
links_before=$(bl_links)
out=$(unshare -m --propagation private bash -c '
	st=$1
	mkdir -p "$st"
	mount -t tmpfs -o size=64k tmpfs "$st" || exit 9
	cp -a "$2/." "$st/"
	dd if=/dev/zero of="$st/fill" bs=4k 2>/dev/null
	err=$(timeout 30 nsenter --net="$3" "$4" --pin-dir "$5" --state-dir "$st" pod add full \
		--netns "$6" --ip 10.244.1.77 2>&1 >/dev/null)
	echo "rc=$? $err"
	echo "files: $(cd "$st" && find . -type f ! -name fill ! -name lock | sort | tr "\n" " ")"
	' _ "$TMPD/small-state" "$STATE" "/run/netns/$(node_ns n1)" "$BIN" "$PIN" "$(pod_ns z)")
why=""
[[ $out == *"rc=1 bridgeless: pod add full: "*"No space left on device"* ]] || why="$why; said: $(head -1 <<<"$out")"
tail -1 <<<"$out" | grep -q 'pods/full\|\.tmp\.' && why="$why; left $(tail -1 <<<"$out")"
diag "full state dir: $(head -1 <<<"$out")"
[ "$(bl_links)" = "$links_before" ] || why="$why; links: $(bl_links | tr '\n' ' ')"
ep_has 10.244.1.77 && why="$why; endpoint 10.244.1.77"
check full_state_dir_enospc "${why#; }" [ -z "$why" ]

# --- a held lock: a bounded wait, and who holds it ------------------------------------------
(cd "$TMPD" && exec timeout 60 nsenter --net="/run/netns/$(node_ns n1)" strace -qq -o /dev/null \
	-e trace=rename -e inject=rename:delay_enter=8000000 \
	"$BIN" --pin-dir "$PIN" --state-dir "$STATE" pod add holder --netns "$(pod_ns x)" \
	>/dev/null 2>&1) &
HOLDER=$!
PIDS+=($!)
holding() { grep -q 'pod add holder' "$STATE/lock" 2>/dev/null; }
for i in $(seq 50); do holding && break; sleep 0.1; done
t0=$(date +%s%N)
err=$(BRIDGELESS_LOCK_TIMEOUT=1 bl pod add y --netns "$(pod_ns y)" 2>&1 >/dev/null)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
diag "lock held: $err ($ms ms)"
# The holder keeps the lock 8 s: a refusal (exit 1) is the bounded wait.
check lock_wait_bounded "exit $rc after $ms ms: '$err'" [ "$rc" = 1 ]
check lock_names_holder "'$err'" \
	bash -c '[[ $1 == "bridgeless: pod add y: state dir "*" is locked by pid "[0-9]*" ("*"pod add holder --netns "*") since "*"; gave up after 1 s (BRIDGELESS_LOCK_TIMEOUT)" ]]' _ "$err"
wait "$HOLDER"
if bl pod del holder >/dev/null && mkpod y >/dev/null; then
	pass lock_released
else
	fail lock_released "pod add after the holder finished failed"
fi
check keep_untouched "pod keep lost its networking" ping_ok "$(pod_ns keep)" 198.51.100.1 2

# --- node reset with a record that does not parse: moved aside, the rest reset ---------------
echo '{ "name": "r", ' >"$STATE/pods/r"
err=$(bl node reset 2>&1)
rc=$?
why=""
[ $rc = 0 ] || why="$why; exit $rc: $err"
[[ $err == *"pods/r: line "*"moved it to $STATE/quarantine/pods/r, out of the way"* ]] || why="$why; said '$err'"
[ -e "$STATE/quarantine/pods/r" ] || why="$why; not in quarantine"
[ -e "$STATE/pods" ] && why="$why; pods/ left: $(ls "$STATE/pods" | tr '\n' ' ')"
[ -z "$(bl_links)" ] || why="$why; links left: $(bl_links | tr '\n' ' ')"
check bad_record_node_reset "${why#; }" [ -z "$why" ]
finish
