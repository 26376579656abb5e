#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The service maps' sizes and what happens at their limits, on one node
# with the BPF service table (the agent's --services file):
#
#   - node init --svc-max / --svc-backends-max size the maps (frontends,
#     the per-service counters one more, backend slots), kept in the node
#     record and by a later node init without the flags; bad values are
#     refused with one line before anything is made;
#   - a table that does not fit (too many frontends, too many backends, or
#     more backend slots than the maps hold while a changed set switches) is
#     refused with one line, once, and the maps keep the last table whole:
#     its services still answer;
#   - node init with larger sizes makes the maps anew and the running agent
#     fills them with its table;
#   - what operators see: stats, monitor and metrics name the service
#     translations (svc_dnat, svc_new, svc_reply) and refusals (svc_refused).
TEST=services-maps
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_bin
require_cmd jq python3 bpftool curl
mount_bpffs

PEER=$ROOT/tests/integration/svc-peer.py
KPR=$ROOT/tools/kube-proxy-rules
make_ext_and_node n1 || abort "topology"

# --- sizes at node init -------------------------------------------------------------

# bad_init NAME REGEX ARGS...: node init refused with one line matching REGEX,
# nothing pinned
bad_init() {
	local name=$1 re=$2 out rc
	shift 2
	out=$(node_init n1 10.244.1.0/24 "$@" 2>&1)
	rc=$?
	if [ $rc = 1 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -Eq -- "$re" <<<"$out" &&
		[ ! -e "$PIN/svc_frontends" ]; then
		pass "$name"
	else
		fail "$name" "node init $* -> status $rc: '$out'; pins: $(ls "$PIN" 2>&1 | tr '\n' ' ')"
	fi
}
bad_init svc_max_zero 'svc-max.*"0"' --svc-max 0
bad_init svc_max_over_ids 'svc-max.*65535' --svc-max 65536
bad_init svc_max_not_a_number 'svc-max.*"lots"' --svc-max lots
bad_init svc_backends_max_zero 'svc-backends-max.*"0"' --svc-backends-max 0

node_init n1 10.244.1.0/24 --svc-max 4 --svc-backends-max 8 >/dev/null ||
	abort "node init --svc-max 4 --svc-backends-max 8"
# max_entries NAME: of the pinned map
max_entries() { bpftool map show pinned "$PIN/$1" -j | jq -r .max_entries; }
# entries NAME: how many the pinned map holds
entries() { bpftool map dump pinned "$PIN/$1" -j | jq length; }
map_id() { bpftool map show pinned "$PIN/$1" -j | jq -r .id; }
sizes() {
	local m
	for m in svc_frontends svc_frontends6 svc_stats svc_backends svc_backends6; do
		printf '%s ' "$(max_entries $m)"
	done
}
got=$(sizes)
check map_sizes "svc_frontends, svc_frontends6, svc_stats, svc_backends, svc_backends6 max_entries: $got" \
	[ "$got" = "4 4 5 8 8 " ]
got=$(bl node status --json | jq -c '[.svc_max, .svc_backends_max]')
check status_sizes "node status: $got" [ "$got" = "[4,8]" ]
got=$(jq -c '[.svc_max, .svc_backends_max]' "$STATE/node.json")
check record_sizes "node.json: $got" [ "$got" = "[4,8]" ]
id0=$(map_id svc_frontends)
node_init n1 >/dev/null || abort "node init again"
got="$(max_entries svc_frontends) $(max_entries svc_backends) $(map_id svc_frontends)"
check sizes_kept_without_flags "after node init without the flags: $got (map id was $id0)" \
	[ "$got" = "4 8 $id0" ]

# --- pods: four backends serving 8080 and 8081, a client ------------------------------

for i in 2 3 4 5; do
	mkpod_on n1 be$i --ip 10.244.1.$i >/dev/null || abort "pod be$i"
	for port in 8080 8081; do
		bg_in "$(pod_ns be$i)" 300 python3 "$PEER" serve be$i $port >/dev/null 2>&1
	done
done
mkpod_on n1 cl --ip 10.244.1.10 >/dev/null || abort "pod cl"
for i in 2 3 4 5; do
	wait_listen "$(pod_ns be$i)" 8080 && wait_listen "$(pod_ns be$i)" 8081 ||
		abort "servers in be$i did not start"
done
ask() { px cl python3 "$PEER" "$@"; }

# --- the tables ---------------------------------------------------------------------

SERVICES=$TMPD/services.json
# gen N: N services 10.96.0.16 + i, port 80 -> 8080 on be2 and be3
gen() {
	"$KPR" --generate "$1" --endpoints-per-service 2 --node n1=10.244.1.0/24 \
		--pods-per-node 2 --target-port 8080 --namespace t
}
# with_backends SVC PORT IP...: the List on stdin with service SVC's endpoints
# (and its slice's port) replaced
with_backends() {
	local svc=$1 port=$2
	shift 2
	jq --arg s "$svc" --argjson port "$port" --args '(.items[] |
		select(.kind == "EndpointSlice" and .metadata.labels["kubernetes.io/service-name"] == $s)) |=
		(.ports[0].port = $port | .endpoints = [$ARGS.positional[] | { addresses: [.],
		 conditions: { ready: true, serving: true, terminating: false }, nodeName: "n1" }])' \
		"$@"
}
install_table() { cat >"$SERVICES.tmp" && mv "$SERVICES.tmp" "$SERVICES"; }

gen 3 | install_table
LOG=$TMPD/agent.log
agent_start n1 "$LOG" --config /dev/null --node-name n1 --services "$SERVICES" \
	--reconcile-interval 0.5
agent_ready n1 "$LOG" || abort "agent: $(tail -3 "$LOG")"
wait_log "$LOG" 'services: 3 services in BPF' || abort "no table: $(tail -3 "$LOG")"
out=$(ask tcp 10.96.0.16 80)
check served "10.96.0.16:80 -> '$out'" grep -Eq '^be[23] 10.244.1.10:' <<<"$out"

# too many frontends: refused once, the last table kept and served
gen 5 | install_table
wait_log "$LOG" 'too small' || abort "no refusal: $(tail -3 "$LOG")"
sleep 1.5 # three reconcile passes
line=$(grep 'too small' "$LOG")
check too_many_frontends_refused "log: '$line'" grep -Eq \
	'warn: services: service maps too small for 5 frontends and 10 backends \(node init --svc-max 4, --svc-backends-max 8\); the maps keep the last table$' <<<"$line"
check refused_once "$(grep -c 'too small' "$LOG") refusal lines" [ "$(grep -c 'too small' "$LOG")" = 1 ]
got="$(entries svc_frontends) $(entries svc_backends)"
check last_table_kept "frontends, backend slots: $got" [ "$got" = "3 6" ]
out=$(ask tcp 10.96.0.18 80)
check last_table_served "10.96.0.18:80 -> '$out'" grep -Eq '^be[23] ' <<<"$out"
out=$(ask tcp 10.96.0.20 80 1)
check refused_service_not_in_bpf "10.96.0.20:80 (not in the maps, no kube-proxy here) -> '$out'" \
	[ -n "${out##be*}" ]

# two services, the first with four backends, and one without endpoints: fits
{ gen 2 | with_backends svc-00000 8080 10.244.1.2 10.244.1.3 10.244.1.4 10.244.1.5 |
	jq '.items += [{ apiVersion: "v1", kind: "Service",
		metadata: { namespace: "t", name: "empty" },
		spec: { type: "ClusterIP", clusterIP: "10.96.0.30", clusterIPs: ["10.96.0.30"],
			ports: [{ name: "p80", port: 80, protocol: "TCP" }] } }]'; } >"$TMPD/t3.json"
n=$(grep -c 'services: 3 services in BPF' "$LOG")
install_table <"$TMPD/t3.json"
wait_log "$LOG" 'services: 3 services in BPF: 1 frontends added, 1 changed, 1 removed, 1 unchanged' ||
	fail fits_after_removals "$(tail -2 "$LOG")"
got="$(entries svc_frontends) $(entries svc_backends)"
check fits_after_removals "frontends, backend slots: $got" [ "$got" = "3 6" ]
# random choice: 48 connections miss one of four backends once in 250,000 runs
seen=$(for i in $(seq 48); do ask tcp 10.96.0.16 80 | awk '{ print $1 }'; done | sort -u | tr '\n' ' ')
check four_backends "48 connections reached: $seen" [ "$seen" = "be2 be3 be4 be5 " ]

# the same four pods on 8081: fits in the end, not while both sets are there
with_backends svc-00000 8081 10.244.1.2 10.244.1.3 10.244.1.4 10.244.1.5 <"$TMPD/t3.json" \
	>"$TMPD/t4.json"
install_table <"$TMPD/t4.json"
wait_log "$LOG" 'while they switch' || fail switch_refused "no refusal: $(tail -2 "$LOG")"
line=$(grep 'while they switch' "$LOG")
check switch_refused "log: '$line'" grep -Eq \
	"warn: services: service maps too small: the table's 3 frontends and 6 backends fit, but not the 10 IPv4 backend slots its changed sets need while they switch \(--svc-backends-max 8\); the maps keep the last table$" <<<"$line"
out=$(ask tcp 10.96.0.16 80)
check switch_refused_old_set_serves "10.96.0.16:80 -> '$out'" \
	grep -Eq '^be[2-5] ' <<<"$out"
got=$(bpftool map dump pinned "$PIN/svc_backends" -j | jq -c '[.[].formatted.value.port] | unique')
check switch_refused_nothing_written "backend ports in the maps: $got" [ "$got" = "[8080]" ]

# larger maps while the agent runs: made anew, and the agent fills them
id0=$(map_id svc_frontends)
out=$(node_init n1 10.244.1.0/24 --bpf-services on --svc-max 8 --svc-backends-max 32 2>&1) ||
	abort "node init --svc-max 8: $out"
check resize_said "node init: '$out'" grep -q 'service maps resized to 8 frontends, 32 backend slots' <<<"$out"
got=$(sizes)
check resized "max_entries: $got" [ "$got" = "8 8 9 32 32 " ]
# be_ports: the ports of the backends in the maps
be_ports() { bpftool map dump pinned "$PIN/svc_backends" -j | jq -c '[.[].formatted.value.port] | unique'; }
both_ports() { [ "$(be_ports)" = "[8080,8081]" ]; }
wait_for 5 both_ports
got=$(be_ports)
check agent_refills_new_maps "backend ports after the resize: $got (map id $id0 -> $(map_id svc_frontends))" \
	[ "$got" = "[8080,8081]" ]
out=$(ask tcp 10.96.0.16 80)
check new_set_serves "10.96.0.16:80 -> '$out'" grep -Eq '^be[2-5] ' <<<"$out"
out=$(bln n1 node status --json | jq -c '[.svc_max, .svc_backends_max]')
check resized_record "node status: $out" [ "$out" = "[8,32]" ]

# --- what operators see ---------------------------------------------------------------

monitor_out=$TMPD/monitor.out
bg_in "$(node_ns n1)" 30 "$BIN" --pin-dir "$PIN" --state-dir "$STATE" monitor --json \
	>"$monitor_out" 2>"$TMPD/monitor.err"
wait_for 5 grep -q 'listening for events' "$TMPD/monitor.err" || diag "monitor: $(cat "$TMPD/monitor.err")"
out=$(ask tcp 10.96.0.30 80 3)
rc=$?
check no_endpoint_refused "10.96.0.30:80 -> status $rc '$out'" [ $rc = 2 ]
wait_for 3 grep -q svc_refused "$monitor_out"
ev=$(grep svc_refused "$monitor_out" | head -1)
check monitor_names_refusal "monitor: '$ev'" jq -e >/dev/null 'select(.type == "drop" and
	.reason == "svc_refused" and .saddr == "10.244.1.10" and .daddr == "10.96.0.30" and
	.dport == 80 and .pod == "cl" and (.description | test("no usable endpoint")))' <<<"$ev"

stats=$(bl stats --json)
for r in svc_dnat svc_new svc_reply svc_refused; do
	check "stats_$r" "stats: $(jq -c ".counters.$r" <<<"$stats")" \
		jq -e ".counters.$r.packets > 0" <<<"$stats" >/dev/null
done
txt=$(bl stats | grep -E '^ *svc_(dnat|new|reply|refused) ')
check stats_text_names "stats: $(tr '\n' ' ' <<<"$txt")" [ "$(wc -l <<<"$txt")" = 4 ]
mt=$(metrics_scrape n1)
for m in packets_total:svc_dnat packets_total:svc_new packets_total:svc_reply \
	drops_total:svc_refused; do
	series="bridgeless_${m%%:*}{reason=\"${m#*:}\"}"
	v=$(grep -F "$series " <<<"$mt" | awk '{ print $2 }')
	check "metrics_${m#*:}" "$series = '$v'" [ "${v:-0}" -gt 0 ]
done

agent_kill n1 TERM
finish
