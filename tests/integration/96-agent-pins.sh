#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The agent's repair must not cause the outage it repairs. While pod a
# pings pod b and the ext namespace every 10 ms and pod b streams TCP to
# ext through BPF SNAT, every pin is removed (a stray `rm -rf` of the pin
# dir: maps, programs and links): the agent holds the links, so nothing
# detaches, pins them again, pins the live maps again (taken from the
# attached programs) and initializes the node on them in the same pass.
# Asserted: zero lost pings, the same map ids pinned again (endpoints, NAT
# table: their contents kept), the SNAT stream uninterrupted, a new pod
# works. Then the uplink's program is detached (bpftool link detach): the
# agent attaches it again; pod to pod loses nothing, an idle TCP
# connection through SNAT (opened before both) still works afterwards;
# the pings to ext lost until the agent's pass are reported.
TEST=agent_pins
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_bin
require_cmd jq bpftool iperf3 ping perl
mount_bpffs

make_ext_and_node n1 || abort "topology"
LOG=$TMPD/agent.log
agent_start n1 "$LOG" --config /dev/null --uplink uplink --pod-cidr 10.244.1.0/24 \
	--cluster-cidr 10.244.0.0/16 --reconcile-interval 0.5
agent_ready n1 "$LOG" || abort "agent did not start: $(tail -3 "$LOG")"
mkpod a >/dev/null && mkpod b >/dev/null || abort "pod add"
B=$(pod_ip b)
ping_ok "$(pod_ns a)" "$B" 2 && ping_ok "$(pod_ns a)" 198.51.100.1 2 || abort "no traffic"
# the agent holds the links after a pass that saw both pods
sleep 1.5

map_id() { timeout 10 bpftool -j map show pinned "$PIN/$1" 2>/dev/null | jq -r .id; }
MAPS="endpoints nat config counters ep_stats nomasq events frags svc_frontends svc_backends svc_affinity svc_stats"
ids_before=$(for m in $MAPS; do echo "$m $(map_id $m)"; done)

# pings NAME DST SECONDS: every 10 ms from pod a, in the background
PING_PIDS=()
pings() {
	nsenter --net="/run/netns/$(pod_ns a)" ping -n -q -i 0.01 -W 2 -c $(($3 * 100)) "$2" \
		>"$TMPD/ping_$1" 2>&1 &
	PIDS+=($!)
	PING_PIDS+=($!)
}
# sent_received NAME: "sent received" of a finished ping
sent_received() { sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$TMPD/ping_$1"; }

# an idle TCP connection through SNAT: a line now, another when $TMPD/go appears
tcp_echo_server "$EXT" 198.51.100.1 7000 || abort "echo server"
nsenter --net="/run/netns/$(pod_ns a)" bash -c '
	exec 3<>/dev/tcp/198.51.100.1/7000 || exit 1
	echo one >&3; read -r -t 3 r <&3; [ "$r" = one ] || exit 2
	while [ ! -e "$1" ]; do sleep 0.1; done
	echo two >&3; read -r -t 3 r <&3; [ "$r" = two ] || exit 3' _ "$TMPD/go" &
IDLE=$!
PIDS+=($!)

# --- every pin removed, the pin dir emptied ---------------------------------------------
bg_in "$EXT" 60 iperf3 -s -1 -p 5401 -J >/dev/null
SRV=$LAST_PID
wait_listen "$EXT" 5401 || abort "iperf3 server"
nsenter --net="/run/netns/$(pod_ns b)" iperf3 -c 198.51.100.1 -p 5401 -t 8 -b 10M -J \
	>"$TMPD/tcp_ext" 2>&1 &
TCP=$!
PIDS+=($!)
pings pod "$B" 6
pings ext 198.51.100.1 6
sleep 2
nat_before=$(bl nat list --json | jq length)
rm -rf "${PIN:?}"/*
repinned() {
	[ -e "$PIN/endpoints" ] && [ -e "$PIN/nat" ] && [ -e "$PIN/from_pod" ] &&
		[ -e "$PIN/links/uplink" ] && [ "$(find "$PIN/links" -type f | wc -l)" = 5 ]
}
wait_for 10 repinned
wait "${PING_PIDS[@]}" 2>/dev/null
ids_after=$(for m in $MAPS; do echo "$m $(map_id $m)"; done)
read -r s1 r1 < <(sent_received pod)
read -r s2 r2 < <(sent_received ext)
echo "# pin dir emptied: pod a -> b ${s1:-?} sent, ${r1:-?} received; a -> ext ${s2:-?} sent, ${r2:-?} received" >&2
check pins_repinned "pins not back: $(cd "$PIN" && find . | tr '\n' ' '); $(tail -2 "$LOG")" repinned
check pins_same_maps "maps pinned now are not the live ones: before [$(echo $ids_before)] after [$(echo $ids_after)]" \
	[ "$ids_before" = "$ids_after" ]
why=""
grep -q "warn: map $PIN/endpoints (id [0-9]*) was not pinned; pinned it again, taken from from_uplink on ifindex" "$LOG" ||
	why="$why; no map re-pin line"
grep -q "warn: link pin $PIN/links/uplink was removed; pinned it again" "$LOG" || why="$why; no link re-pin line"
grep -q "warn: reconcile: node initialized again" "$LOG" || why="$why; no node init line"
check pins_logged "${why#; }: $(tail -3 "$LOG" | tr '\n' '|')" [ -z "$why" ]
check pins_zero_loss_pod "lost $((${s1:-0} - ${r1:-0})) of ${s1:-?} pings a -> b" \
	[ "${s1:-0}" = 600 -a "${r1:-x}" = 600 ]
check pins_zero_loss_ext "lost $((${s2:-0} - ${r2:-0})) of ${s2:-?} pings a -> ext (SNAT)" \
	[ "${s2:-0}" = 600 -a "${r2:-x}" = 600 ]
nat_after=$(bl nat list --json | jq length)
check pins_nat_kept "NAT mappings before $nat_before, after $nat_after" \
	[ "${nat_after:-0}" -ge "${nat_before:-1}" -a "${nat_before:-0}" -ge 1 ]
wait "$TCP" 2>/dev/null
wait "$SRV" 2>/dev/null
err=$(jq -r '.error // empty' "$TMPD/tcp_ext" 2>/dev/null)
secs=$(jq -r '.end.sum_received.seconds // 0 | floor' "$TMPD/tcp_ext" 2>/dev/null)
diag "SNAT TCP stream: ${secs}s, $(jq -r '.end.sum_sent.retransmits // "?"' "$TMPD/tcp_ext") retransmits${err:+, $err}"
check pins_snat_stream "iperf3 b -> ext through SNAT: ${err:-ran ${secs}s of 8}" \
	[ -z "$err" -a "${secs:-0}" -ge 7 ]
if mkpod c >/dev/null && ping_ok "$(pod_ns c)" "$B" 2; then
	pass pins_pod_add_after
else
	fail pins_pod_add_after "pod c added after the repair does not reach b"
fi

# --- the uplink's program detached ------------------------------------------------------
PING_PIDS=()
pings pod2 "$B" 4
pings ext2 198.51.100.1 4
sleep 1.5
timeout 10 bpftool link detach pinned "$PIN/links/uplink" || diag "bpftool link detach failed"
wait "${PING_PIDS[@]}" 2>/dev/null
read -r s3 r3 < <(sent_received pod2)
read -r s4 r4 < <(sent_received ext2)
echo "# uplink program detached: a -> b ${s3:-?} sent, ${r3:-?} received; a -> ext ${s4:-?} sent, ${r4:-?} received, lost $((${s4:-0} - ${r4:-0}))" >&2
check uplink_reattached "$(tail -2 "$LOG")" \
	grep -q "warn: reconcile: uplink uplink: from_uplink was not attached; re-attached" "$LOG"
check uplink_detach_pod_zero_loss "lost $((${s3:-0} - ${r3:-0})) of ${s3:-?} pings a -> b" \
	[ "${s3:-0}" = 400 -a "${r3:-x}" = 400 ]
touch "$TMPD/go"
wait "$IDLE"
rc=$?
check snat_connection_survives "the idle connection through SNAT, opened before both repairs, failed ($rc)" \
	[ $rc = 0 ]
finish
