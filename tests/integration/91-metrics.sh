#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The Prometheus endpoint (`bridgeless metrics serve`, what the agent runs):
# scraped with curl and parsed. Every sample line is `name{labels} value`
# with HELP and TYPE for its family; counters grow with traffic; each pod has
# rx/tx packets and bytes, also for what the host stack delivers; a pod that
# takes a deleted pod's counter slot starts from zero; other paths and
# methods are refused; SIGTERM stops it.
TEST=metrics
. "$(dirname "$0")/lib.sh"
require_bin
require_cmd jq curl
mount_bpffs

one_node_with_pods a b
A=$(pod_ip a)
B=$(pod_ip b)
NS_A=$(pod_ns a)
PORT=9964
URL=http://127.0.0.1:$PORT/metrics

bg_in "$(node_ns "$NODE")" 120 "$BIN" --pin-dir "$PIN" --state-dir "$STATE" \
	metrics serve --listen "127.0.0.1:$PORT" 2>"$TMPD/serve.err"
SERVE_PID=$LAST_PID

# scrape [CURL ARGS]: the page, from inside the node namespace
scrape() { ndx curl -sS --max-time 5 "$@" "$URL"; }

for i in $(seq 50); do
	scrape -o /dev/null 2>/dev/null && break
	sleep 0.1
done
scrape -o /dev/null 2>/dev/null || abort "metrics endpoint does not answer: $(cat "$TMPD/serve.err")"

# value PAGE NAME [LABELS]: the sample's value ("" if absent). LABELS is the
# exact text between the braces.
value() {
	local page=$1 name=$2 labels=${3:-}
	if [ -n "$labels" ]; then
		awk -v k="$name{$labels}" '$1 == k { print $2; exit }' <<<"$page"
	else
		awk -v k="$name" '$1 == k { print $2; exit }' <<<"$page"
	fi
}

# --- the format ----------------------------------------------------------------
hdr=$(ndx curl -sS --max-time 5 -D - -o /dev/null "$URL")
check content_type "Content-Type: $(grep -i '^content-type' <<<"$hdr")" \
	grep -qi '^content-type: text/plain; version=0.0.4' <<<"$hdr"

p0=$(scrape)
diag "first scrape: $(wc -l <<<"$p0") lines"
# format_ok PAGE: prints what is wrong, if anything
format_ok() {
	awk '
	/^# HELP / { help[$3] = 1; next }
	/^# TYPE / {
		if ($3 in type) { print "second TYPE for " $3; bad = 1 }
		type[$3] = $4
		if ($4 != "counter" && $4 != "gauge") { print "type " $4 " of " $3; bad = 1 }
		next
	}
	/^#/ || /^$/ { next }
	{
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? [0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) {
			print "not name{labels} value: " $0; bad = 1; next
		}
		name = $1; sub(/\{.*/, "", name)
		if (!(name in type)) { print "sample before its TYPE: " name; bad = 1 }
		if (!(name in help)) { print "no HELP: " name; bad = 1 }
		if (type[name] == "counter" && name !~ /_total$/) { print "counter without _total: " name; bad = 1 }
		if ($0 in seen) { print "duplicate sample: " $0; bad = 1 }
		seen[$0] = 1; n++
	}
	END { if (!n) print "no samples"; exit bad || !n }' <<<"$1"
}
if why=$(format_ok "$p0"); then
	pass format
else
	fail format "$(head -3 <<<"$why")"
fi

for m in bridgeless_packets_total bridgeless_bytes_total bridgeless_drops_total \
	bridgeless_drop_bytes_total bridgeless_endpoint_packets_total \
	bridgeless_endpoint_bytes_total bridgeless_nat_entries bridgeless_nat_max \
	bridgeless_nat_alloc_failures_total bridgeless_events_lost_total \
	bridgeless_agent_reconcile_runs_total bridgeless_agent_endpoints_removed_total \
	bridgeless_agent_veths_removed_total bridgeless_agent_reattached_total \
	bridgeless_agent_nat_gc_runs_total bridgeless_agent_nat_expired_total \
	bridgeless_datapath_up bridgeless_endpoints; do
	grep -q "^$m[{ ]" <<<"$p0" || missing="${missing:-} $m"
done
check families "missing:${missing:-}" [ -z "${missing:-}" ]
check datapath_up "bridgeless_datapath_up $(value "$p0" bridgeless_datapath_up)" \
	[ "$(value "$p0" bridgeless_datapath_up)" = 1 ]
check endpoints_gauge "bridgeless_endpoints $(value "$p0" bridgeless_endpoints)" \
	[ "$(value "$p0" bridgeless_endpoints)" = 2 ]
check nat_max "bridgeless_nat_max $(value "$p0" bridgeless_nat_max)" \
	[ "$(value "$p0" bridgeless_nat_max)" = 524288 ]
check agent_zero "metrics serve reports agent counters: $(grep '^bridgeless_agent_reconcile' <<<"$p0")" \
	[ "$(value "$p0" bridgeless_agent_reconcile_runs_total)" = 0 ]
check drop_label "drop_spoof_ip not under bridgeless_drops_total" \
	grep -q '^bridgeless_drops_total{reason="drop_spoof_ip"} ' <<<"$p0"
check fwd_label "fwd_local not under bridgeless_packets_total" \
	grep -q '^bridgeless_packets_total{reason="fwd_local"} ' <<<"$p0"
check endpoint_labels "no rx/tx samples with pod and ip for pod a" bash -c '
	grep -q "^bridgeless_endpoint_packets_total{pod=\"a\",ip=\"$2\",direction=\"rx\"} " <<<"$1" &&
	grep -q "^bridgeless_endpoint_bytes_total{pod=\"a\",ip=\"$2\",direction=\"tx\"} " <<<"$1"' _ "$p0" "$A"

# --- counters grow with traffic --------------------------------------------------
ep() { value "$1" "bridgeless_endpoint_$2_total" "pod=\"$3\",ip=\"$4\",direction=\"$5\""; }
# grew NAME BEFORE AFTER MIN: AFTER - BEFORE >= MIN
grew() {
	local name=$1 b=${2:-x} a=${3:-x} min=$4
	if [[ $b =~ ^[0-9]+$ && $a =~ ^[0-9]+$ ]] && [ $((a - b)) -ge "$min" ]; then
		pass "$name"
	else
		fail "$name" "from '$b' to '$a', want +$min or more"
	fi
}
ping_ok "$NS_A" "$B" 5 || fail ping_a_b "ping $A -> $B failed"
px a ip addr add 10.244.1.250/32 dev eth0
ping_none "$NS_A" "$B" 3 -I 10.244.1.250
px a ip addr del 10.244.1.250/32 dev eth0
p1=$(scrape)
grew fwd_local_grew "$(value "$p0" bridgeless_packets_total 'reason="fwd_local"')" \
	"$(value "$p1" bridgeless_packets_total 'reason="fwd_local"')" 10
grew fwd_local_bytes_grew "$(value "$p0" bridgeless_bytes_total 'reason="fwd_local"')" \
	"$(value "$p1" bridgeless_bytes_total 'reason="fwd_local"')" 980
grew spoof_drops_grew "$(value "$p0" bridgeless_drops_total 'reason="drop_spoof_ip"')" \
	"$(value "$p1" bridgeless_drops_total 'reason="drop_spoof_ip"')" 3
grew a_tx "$(ep "$p0" packets a "$A" tx)" "$(ep "$p1" packets a "$A" tx)" 5
grew a_rx "$(ep "$p0" packets a "$A" rx)" "$(ep "$p1" packets a "$A" rx)" 5
grew b_rx "$(ep "$p0" packets b "$B" rx)" "$(ep "$p1" packets b "$B" rx)" 5
grew b_tx "$(ep "$p0" packets b "$B" tx)" "$(ep "$p1" packets b "$B" tx)" 5
grew a_tx_bytes "$(ep "$p0" bytes a "$A" tx)" "$(ep "$p1" bytes a "$A" tx)" $((5 * 98))
grew b_rx_bytes "$(ep "$p0" bytes b "$B" rx)" "$(ep "$p1" bytes b "$B" rx)" $((5 * 98))
# spoofed packets are not the pod's: a's tx did not count them
a_tx=$(( $(ep "$p1" packets a "$A" tx) - $(ep "$p0" packets a "$A" tx) ))
check spoof_not_tx "a's tx grew by $a_tx for 5 pings (+3 spoofed, not counted)" [ "$a_tx" -lt 8 ]
if why=$(format_ok "$p1"); then
	pass format_after_traffic
else
	fail format_after_traffic "$(head -3 <<<"$why")"
fi

# what the host stack delivers to a pod (the node pinging it) is rx as well
ping_ok "$(node_ns "$NODE")" "$A" 3 || fail ping_node_a "node -> $A failed"
p2=$(scrape)
grew host_delivered_rx "$(ep "$p1" packets a "$A" rx)" "$(ep "$p2" packets a "$A" rx)" 3

# --- a deleted pod's slot: gone from the page, and its successor starts at 0 -----
bl pod del b >/dev/null || fail pod_del "pod del b failed"
mkpod c >/dev/null || abort "pod add c failed"
C=$(pod_ip c)
p3=$(scrape)
check deleted_pod_gone "pod b still listed" \
	bash -c '! grep -q "pod=\"b\"" <<<"$1"' _ "$p3"
slot_b=$(jq -r .slot "$STATE/pods/c" 2>/dev/null)
diag "pod c: $C, slot $slot_b"
c_all="$(ep "$p3" packets c "$C" rx) $(ep "$p3" packets c "$C" tx) $(ep "$p3" bytes c "$C" rx) $(ep "$p3" bytes c "$C" tx)"
check new_pod_from_zero "pod c (b's slot) starts at: $c_all" [ "$c_all" = "0 0 0 0" ]

# --- what is not the metrics ---------------------------------------------------
code=$(ndx curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/")
check not_found "GET / answered $code" [ "$code" = 404 ]
code=$(ndx curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "$URL")
check post_refused "POST /metrics answered $code" [ "$code" = 405 ]

# --- bad listen address, port in use: one clear line ----------------------------------
out=$(bl metrics serve --listen 127.0.0.1 --duration 1 2>&1)
rc=$?
check bad_listen "status $rc, '$out'" bash -c '[ "$1" = 1 ] && grep -q "bad listen address" <<<"$2"' _ "$rc" "$out"
out=$(bl metrics serve --listen "127.0.0.1:$PORT" --duration 1 2>&1)
rc=$?
check port_in_use "status $rc, '$out'" bash -c '[ "$1" = 1 ] && grep -q "listen on 127.0.0.1:" <<<"$2"' _ "$rc" "$out"

# --- SIGTERM stops it ----------------------------------------------------------
kill -TERM "$SERVE_PID"
for i in $(seq 50); do
	kill -0 "$SERVE_PID" 2>/dev/null || break
	sleep 0.1
done
wait "$SERVE_PID" 2>/dev/null
rc=$?
check sigterm_exit "metrics serve exited $rc on SIGTERM" [ "$rc" = 0 ]
check sigterm_closed "still answering after SIGTERM" bash -c '! "$@" >/dev/null 2>&1' _ \
	nsenter --net="/run/netns/$(node_ns "$NODE")" curl -s --max-time 2 "$URL"

# --- without a datapath: up 0, agent metrics still served ----------------------------
bl node reset >/dev/null || fail node_reset "node reset failed"
bg_in "$(node_ns "$NODE")" 30 "$BIN" --pin-dir "$PIN" --state-dir "$STATE" \
	metrics serve --listen "127.0.0.1:$PORT" --duration 20 2>/dev/null
for i in $(seq 50); do
	p4=$(scrape 2>/dev/null) && break
	sleep 0.1
done
check datapath_down "bridgeless_datapath_up '$(value "${p4:-}" bridgeless_datapath_up)'" \
	[ "$(value "${p4:-}" bridgeless_datapath_up)" = 0 ]
check agent_without_datapath "no agent metrics without a datapath" \
	grep -q '^bridgeless_agent_reconcile_runs_total 0' <<<"${p4:-}"

finish
