#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The agent on the Kubernetes API: one node, the test API server
# (k8s-apiserver.py, HTTPS with a test CA) in the ext namespace. The agent
# lists and watches Nodes, Services and EndpointSlices (kubeconfig with a
# tokenFile); its service table (`service list --json`) must be what the
# server holds, as computed independently in jq (k8s-lib.bash), after the
# first sync and after every event; the routes follow the Nodes.
#
# Then what goes wrong: watches ended, reset, cut in the middle of an event
# (watched again from the last resourceVersion, a bookmark's too, no LIST,
# nothing flaps); the API down while objects change, then 410 Gone (as an
# ERROR event and as the HTTP status; relist over short pages, only the
# difference applied); a malformed object (one line, the last good state
# kept); a rotated token the agent does not have yet (401 reported, retried,
# recovered once its token file has it); the metrics of all that; SIGTERM
# with watches open. Restarted: a CA that does not match (no request sent),
# a client certificate inline, the in-cluster configuration.
TEST=k8s_agent
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent-lib.bash"
. "$(dirname "$0")/k8s-lib.bash"
require_bin
require_cmd jq openssl curl unshare
[ -x "$PY" ] || { skip all "python3 not installed (tools/install-deps)"; exit 0; }
mount_bpffs

make_ext_and_node n1 || abort "topology"
node_init n1 10.244.1.0/24 >/dev/null || abort "node init"
k8s_server_start || abort "API server: $(cat "$K8S_DIR/server.log")"
LOG=$TMPD/n1.log
METRICS=127.0.0.1:9971
echo "$K8S_TOKEN" >"$TMPD/token"
k8s_kubeconfig "$TMPD/kubeconfig" --token-file "$TMPD/token"

P_HTTP='[{"name":"http","port":80,"protocol":"TCP","targetPort":"http"},{"name":"https","port":443,"protocol":"TCP","targetPort":"https"}]'
P_DNS='[{"name":"dns","port":53,"protocol":"UDP"},{"name":"dns-tcp","port":53,"protocol":"TCP"}]'
P_ONE='[{"port":80,"protocol":"TCP","targetPort":8080}]'
k8s_apply "$(node_json n1 10.244.1.0/24 198.51.100.2)" "$(node_json n2 10.244.2.0/24 198.51.100.3)" \
	"$(node_json n3 10.244.3.0/24 198.51.100.4)" || abort "apply nodes"
# web: named target ports on different numbers per slice; a terminating endpoint
k8s_apply "$(svc_json default web 10.96.0.10 "$P_HTTP")" \
	"$(slice_json default web-a web '[{"name":"http","port":8080},{"name":"https","port":8443}]' \
		"[$(ep 10.244.1.5), $(ep 10.244.2.5 true true false n2)]")" \
	"$(slice_json default web-b web '[{"name":"http","port":8081}]' \
		"[$(ep 10.244.3.9 true true false n3), $(ep 10.244.2.6 false true true n2)]")" \
	"$(svc_json kube-system dns 10.96.0.53 "$P_DNS" \
		'{"sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":600}}}')" \
	"$(slice_json kube-system dns-x dns '[{"name":"dns","port":53,"protocol":"UDP"},{"name":"dns-tcp","port":53,"protocol":"TCP"}]' \
		"[$(ep 10.244.1.53), $(ep 10.244.2.53 false false false n2)]")" \
	"$(svc_json default local 10.96.0.20 "$P_ONE" '{"internalTrafficPolicy":"Local"}')" \
	"$(slice_json default local-x local '[{"port":8080}]' "[$(ep 10.244.1.20)]")" \
	"$(svc_json default dual 10.96.0.30 "$P_ONE" '{"clusterIPs":["10.96.0.30","fd00:96::30"],"ipFamilies":["IPv4","IPv6"]}')" \
	"$(slice_json default dual-4 dual '[{"port":8080}]' "[$(ep 10.244.1.30)]")" \
	"$(slice_json default dual-6 dual '[{"port":8080}]' "[$(ep fd00:244::30)]" IPv6)" \
	"$(svc_json default empty 10.96.0.40 "$P_ONE")" \
	"$(svc_json default headless None "$P_ONE")" \
	"$(slice_json default headless-x headless '[{"port":8080}]' "[$(ep 10.244.1.44)]")" \
	"$(jq -cn '{apiVersion: "v1", kind: "Service", metadata: {name: "extname", namespace: "default"},
		spec: {type: "ExternalName", externalName: "example.com"}}')" \
	"$(svc_json default proxied 10.96.0.50 "$P_ONE" '{}' '{"service.kubernetes.io/service-proxy-name":"other"}')" ||
	abort "apply services"

agent_start n1 "$LOG" --config /dev/null --node-name n1 --kubeconfig "$TMPD/kubeconfig" \
	--reconcile-interval 0.5 --metrics-listen "$METRICS"
agent_ready n1 "$LOG" || abort "agent did not start: $(tail -3 "$LOG")"
R_ALL=$(printf '10.244.2.0/24 via 198.51.100.3\n10.244.3.0/24 via 198.51.100.4')

# --- the first sync -------------------------------------------------------------------
if wait_for 10 table_matches n1; then
	pass initial_sync_table
else
	fail initial_sync_table "$(table_diff n1)"
fi
check initial_sync_routes "routes: $(routes n1 | tr '\n' ' ')" wait_for 5 has_routes n1 "$R_ALL"
names=$(table n1 | jq -r '[.[].name] | join(" ")')
check only_cluster_ip_services "table has: $names" \
	test "$names" = "dual empty local web dns"
web=$(table n1 | jq -c '.[] | select(.name == "web") | .ports | map([.name, .port, [.backends[] | "\(.ip):\(.port)"]])')
check named_target_ports "web's ports: $web" test "$web" = \
	'[["http",80,["10.244.1.5:8080","10.244.2.5:8080","10.244.2.6:8081","10.244.3.9:8081"]],["https",443,["10.244.1.5:8443","10.244.2.5:8443"]]]'
term=$(table n1 | jq -c '.[] | select(.name == "web") | .ports[0].backends[] | select(.ip == "10.244.2.6")')
check endpoint_conditions "terminating endpoint: $term" test "$term" = \
	'{"ip":"10.244.2.6","nodeName":"n2","port":8081,"ready":false,"serving":true,"terminating":true}'
aff=$(table n1 | jq -c '[.[] | select(.name == "dns" or .name == "local") | [.sessionAffinity, .sessionAffinityTimeoutSeconds, .internalTrafficPolicy]]')
check affinity_and_traffic_policy "$aff" test "$aff" = '[["None",null,"Local"],["ClientIP",600,"Cluster"]]'
dual=$(table n1 | jq -c '.[] | select(.name == "dual") | [.clusterIPs, [.ports[0].backends[].ip]]')
check dual_stack "$dual" test "$dual" = '[["10.96.0.30","fd00:96::30"],["10.244.1.30","fd00:244::30"]]'
text=$(bln n1 service list)
check service_list_text "$(echo "$text" | head -3 | tr '\n' '|')" \
	grep -q '^default/web  *10.96.0.10  *80/TCP http  *10.244.1.5:8080 10.244.2.5:8080 10.244.3.9:8081  (3 of 4 ready)\(  bpf: .*\)\{0,1\}$' <<<"$text"

# --- events, each applied as it comes -------------------------------------------------
lat=()
event() { # event NAME CMD...: make a change, wait until the table and routes follow
	local name=$1
	shift
	"$@" || { fail "event_$name" "apply failed"; return; }
	if timed table_matches n1 && [ "$(routes n1)" = "$WANT_ROUTES" ]; then
		lat+=("$name $ELAPSED")
		return 0
	fi
	fail "event_$name" "table: $(table_diff n1) routes: $(routes n1 | tr '\n' ' ')"
	return 1
}
WANT_ROUTES=$R_ALL
ok=1
event svc_added k8s_apply "$(svc_json default new 10.96.0.60 "$P_ONE")" \
	"$(slice_json default new-x new '[{"port":8080}]' "[$(ep 10.244.1.60)]")" || ok=0
event ep_unready k8s_apply "$(slice_json default new-x new '[{"port":8080}]' \
	"[$(ep 10.244.1.60 false true false)]")" || ok=0
event slice_deleted k8s_delete endpointslices default/new-x || ok=0
event svc_headless k8s_apply "$(svc_json default new None "$P_ONE")" || ok=0
event svc_deleted k8s_delete services default/new || ok=0
WANT_ROUTES=$(printf '%s\n10.244.4.0/24 via 198.51.100.5' "$R_ALL")
event node_added k8s_apply "$(node_json n4 10.244.4.0/24 198.51.100.5)" || ok=0
WANT_ROUTES=$(printf '10.244.2.0/24 via 198.51.100.3\n10.244.4.0/24 via 198.51.100.5')
event node_deleted k8s_delete nodes n3 || ok=0
WANT_ROUTES=$(printf '10.244.2.0/24 via 198.51.100.3\n10.244.4.0/24 via 198.51.100.6')
event node_ip_changed k8s_apply "$(node_json n4 10.244.4.0/24 198.51.100.6)" || ok=0
[ $ok = 1 ] && pass events_applied
diag "event -> table/routes (includes the test's 0.1 s polling): ${lat[*]}"
echo "# event latencies: ${lat[*]}" >&2

# --- watches that end or break: watched again from the last resourceVersion ----------------
lists() { k8s_requests '.query.watch == null and (.path | test("/(nodes|services|endpointslices)$"))'; }
last_watch_rv() { k8s_ctl /stats | jq -r --arg p "$1" '[.requests[] | select(.path == $p and .query.watch != null)] | last | .query.resourceVersion'; }
watch_reqs() { k8s_requests '.query.watch != null'; }
changes() { tail -n +"$1" "$LOG" | grep -cE 'info: services: .* (added|removed|changed)|peers: (added|removed|replaced) route'; }
n_lists=$(lists)
mark=$(($(wc -l <"$LOG") + 1))
k8s_apply "$(svc_json default web 10.96.0.10 "$P_HTTP" '{"sessionAffinity":"ClientIP"}')"
svc_rv=$(k8s_ctl /stats | jq -r .rv)
wait_for 5 table_matches n1
mark2=$(($(wc -l <"$LOG") + 1))
for how in end reset cut; do
	w=$(watch_reqs)
	k8s_ctl "/drop?how=$how"
	wait_for 10 test "$(watch_reqs)" -ge $((w + 3)) || break
done
if [ "$(last_watch_rv /api/v1/services)" = "$svc_rv" ]; then
	pass rewatch_from_last_rv
else
	fail rewatch_from_last_rv "services watched again from $(last_watch_rv /api/v1/services), want $svc_rv"
fi
check rewatch_no_list "$(($(lists) - n_lists)) LISTs after ended and broken watches" test "$(lists)" = "$n_lists"
check rewatch_no_flap "changes logged: $(tail -n +"$mark2" "$LOG" | grep -E 'services: |route' | tr '\n' '|')" \
	test "$(changes "$mark2")" = 0
check rewatch_broken_logged "no line about the reset watch" \
	grep -q 'warn: k8s: services: watch: .*; retrying in' <(tail -n +"$mark2" "$LOG")
if event after_reconnect k8s_apply "$(svc_json default web 10.96.0.10 "$P_HTTP")"; then
	pass events_after_reconnect
fi
# A bookmark moves the resourceVersion on without an event of ours.
k8s_apply "$(node_json n2 10.244.2.0/24 198.51.100.3)"
sleep 0.3
k8s_ctl /bookmark
bm_rv=$(k8s_ctl /stats | jq -r .rv)
sleep 0.5
k8s_ctl "/drop?how=end&resource=endpointslices"
wait_for 5 test "$(last_watch_rv /apis/discovery.k8s.io/v1/endpointslices)" = "$bm_rv"
check rewatch_from_bookmark "slices watched again from $(last_watch_rv /apis/discovery.k8s.io/v1/endpointslices), the bookmark said $bm_rv" \
	test "$(last_watch_rv /apis/discovery.k8s.io/v1/endpointslices)" = "$bm_rv"

# --- the API down while things change, then 410 Gone: relist, only the difference -------------
mark=$(($(wc -l <"$LOG") + 1))
before=$(table n1)
k8s_ctl /down
wait_log "$LOG" 'warn: k8s: (nodes|services|endpointslices): watch: ' 10
k8s_apply "$(svc_json default local 10.96.0.20 '[{"port":81,"protocol":"TCP"}]' '{"internalTrafficPolicy":"Local"}')" \
	"$(svc_json default later 10.96.0.70 "$P_ONE")"
k8s_delete services default/empty
k8s_delete nodes n4
sleep 1.5
check down_keeps_table "the table changed while the API was down" test "$(table n1)" = "$before"
since=$(metrics_scrape n1 "$METRICS" | awk '$1 == "bridgeless_k8s_seconds_since_sync{resource=\"services\"}" { print $2 }')
check down_metrics_since_sync "seconds since sync: $since" awk -v s="$since" 'BEGIN { exit !(s > 0) }'
k8s_ctl "/compact?gone=event"
n_lists=$(lists)
k8s_ctl /up
WANT_ROUTES="10.244.2.0/24 via 198.51.100.3"
# the agent retries with a backoff of up to 8 s while the API is down
if TIMED_SECS=20 timed table_matches n1 && wait_for 5 has_routes n1 "$WANT_ROUTES"; then
	pass relist_after_410_event
	diag "410 relist applied in $ELAPSED"
else
	fail relist_after_410_event "$(table_diff n1) routes: $(routes n1 | tr '\n' ' ')"
fi
# every resource lists again, each once its own backoff lets it try
relisted() { test "$(lists)" -ge $((n_lists + 3)); }
wait_for 10 relisted
check relist_listed_again "$(($(lists) - n_lists)) LISTs" relisted
got=$(tail -n +"$mark" "$LOG" | grep -oE 'info: services: [^ ]+ (added|removed|changed)|peers: (added|removed|replaced) route [^ ]+' | sort | tr '\n' '|')
want='info: services: default/empty removed|info: services: default/later added|info: services: default/local changed|peers: removed route 10.244.4.0/24|'
check relist_only_difference "changes logged: $got" test "$got" = "$want"
check relist_logged "no 410 line" grep -q 'info: k8s: services: resourceVersion [0-9]* is too old (ERROR event 410 Gone' <(tail -n +"$mark" "$LOG")

# 410 as the HTTP status, over short pages of a list longer than one page
k8s_ctl "/generate?services=600&endpoints=1&namespace=bulk"
wait_for 20 test "$(table n1 | jq 'length')" = "$(expected_table | jq length)"
k8s_ctl "/short-pages?on=1"
k8s_ctl "/compact?gone=http"
k8s_ctl /reset-stats
k8s_ctl "/drop?how=end"
k8s_apply "$(svc_json default later 10.96.0.71 "$P_ONE")"
if wait_for 20 table_matches n1; then
	pass relist_after_410_http
else
	fail relist_after_410_http "$(table_diff n1)"
fi
pages=$(k8s_requests '.path == "/api/v1/services" and .query.watch == null')
conts=$(k8s_requests '.path == "/api/v1/services" and .query.continue != null')
gone=$(k8s_requests '.path == "/api/v1/services" and .code == 410')
check relist_paginated "services: $gone answers 410, $pages list pages, $conts with continue" \
	test "$gone" -ge 1 -a "$pages" -ge 3 -a "$conts" -ge 2
k8s_ctl "/short-pages?on=0"
k8s_ctl "/delete-namespace?namespace=bulk"
check bulk_deleted "$(table n1 | jq length) services" wait_for 20 table_matches n1

# --- a malformed object ---------------------------------------------------------------------
mark=$(($(wc -l <"$LOG") + 1))
before=$(table n1)
k8s_apply "$(svc_json default bad 10.96.0.80 '[{"port":"abc","protocol":"TCP"}]')"
wait_log "$LOG" 'services default/bad' 5
k8s_apply "$(svc_json kube-system dns 10.96.0.53 '[{"name":"dns","port":53,"protocol":"UDP"},{"name":"dns-tcp","port":99999}]')"
wait_log "$LOG" 'services kube-system/dns' 5
sleep 0.5
lines=$(tail -n +"$mark" "$LOG" | grep -c 'warn: k8s: services default/bad: spec.ports\[0\].port "abc": want a whole number from 1 to 65535; ignored, keeping its last good state')
check malformed_one_line "$lines lines: $(tail -n +"$mark" "$LOG" | grep bad | tr '\n' '|')" test "$lines" = 1
check malformed_keeps_last_good "the table changed: $(diff <(echo "$before") <(table n1) | head -5 | tr '\n' ' ')" \
	test "$(table n1)" = "$before"
check malformed_named "no line for dns: $(tail -n +"$mark" "$LOG" | grep dns | tr '\n' '|')" \
	grep -q 'warn: k8s: services kube-system/dns: spec.ports\[1\].port 99999: want a whole number from 1 to 65535' <(tail -n +"$mark" "$LOG")
k8s_delete services default/bad
k8s_apply "$(svc_json kube-system dns 10.96.0.53 "$P_DNS")"
check malformed_fixed "$(table_diff n1)" wait_for 5 table_matches n1

# --- a token the server refuses (rotated): 401 reported, retried, recovered ----------------
mark=$(($(wc -l <"$LOG") + 1))
errs() { metrics_scrape n1 "$METRICS" | awk '$1 == "bridgeless_k8s_errors_total{resource=\"services\"}" { print $2 }'; }
e0=$(errs)
NEW_TOKEN=rotated-$RANDOM$RANDOM
k8s_ctl /token "$NEW_TOKEN"
k8s_ctl "/drop?how=end"
k8s_apply "$(svc_json default during 10.96.0.90 "$P_ONE")"
wait_log "$LOG" 'warn: k8s: services: watch: HTTP 401 Unauthorized: Unauthorized; retrying in' 10
wait_for 15 test "$(errs)" -ge $((e0 + 3))
n401=$(tail -n +"$mark" "$LOG" | grep -c 'warn: k8s: services: watch: HTTP 401')
check token_refused_reported "errors $e0 -> $(errs); 401 lines for services: $n401" \
	test "$(errs)" -ge $((e0 + 3)) -a "$n401" = 1
check token_refused_keeps_table "the table changed" \
	test "$(table n1 | jq -c '[.[] | select(.name == "during")] | length')" = 0
echo "$NEW_TOKEN" >"$TMPD/token.new" && mv "$TMPD/token.new" "$TMPD/token"
if TIMED_SECS=20 timed table_matches n1; then
	pass token_retried_recovers
	diag "recovered $ELAPSED after the token file changed"
else
	fail token_retried_recovers "$(table_diff n1) $(tail -2 "$LOG")"
fi
check token_recovery_logged "no recovery line" \
	grep -q 'info: k8s: services: the token file changed: trying it now' <(tail -n +"$mark" "$LOG")

# --- metrics -------------------------------------------------------------------------------
m=$(metrics_scrape n1 "$METRICS")
val() { awk -v k="$1" '$1 == k { print $2 }' <<<"$m"; }
ok=1
for k in 'bridgeless_k8s_watch_events_total{resource="services",type="ADDED"}' \
	'bridgeless_k8s_watch_events_total{resource="endpointslices",type="MODIFIED"}' \
	'bridgeless_k8s_watch_events_total{resource="nodes",type="DELETED"}' \
	'bridgeless_k8s_watch_events_total{resource="endpointslices",type="BOOKMARK"}' \
	'bridgeless_k8s_watch_events_total{resource="services",type="ERROR"}' \
	'bridgeless_k8s_relists_total{resource="services"}' 'bridgeless_k8s_errors_total{resource="nodes"}' \
	'bridgeless_k8s_lists_total{resource="endpointslices"}' 'bridgeless_services' \
	'bridgeless_service_backends_ready'; do
	v=$(val "$k")
	[ -n "$v" ] && [ "$v" -ge 1 ] 2>/dev/null || { ok=0; fail metrics "$k = '$v'"; break; }
done
[ "$(val 'bridgeless_k8s_objects{resource="nodes"}')" = 2 ] || { ok=0; fail metrics "objects{nodes} = $(val 'bridgeless_k8s_objects{resource="nodes"}')"; }
[ "$(val 'bridgeless_k8s_seconds_since_sync{resource="services"}')" = 0.0 ] ||
	{ ok=0; fail metrics "seconds since sync while watching: $(val 'bridgeless_k8s_seconds_since_sync{resource="services"}')"; }
[ $ok = 1 ] && pass metrics

# --- SIGTERM with watches open ----------------------------------------------------------------
wait_for 10 test "$(k8s_ctl /stats | jq '.watches | length')" -ge 3
pid=${AGENT_PID[n1]}
t0=$(date +%s%N)
kill -TERM "$pid"
# a watchdog: SIGKILL after 5 s, which the exit status would show
(sleep 5 && kill -KILL "$pid" 2>/dev/null) &
PIDS+=($!)
wd=$!
wait "$pid"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
kill "$wd" 2>/dev/null
AGENT_PID[n1]=""
if [ "$rc" = 0 ] && grep -q 'info: agent: Terminated: stopping' "$LOG"; then
	pass sigterm_with_watches_open
	diag "SIGTERM with 3 watches open: exited in ${ms}ms"
else
	fail sigterm_with_watches_open "exit status $rc ${ms}ms after SIGTERM"
fi
check table_outlives_agent "service list after the agent stopped: $(table_diff n1)" table_matches n1

# --- a CA that is not the server's: no request sent -------------------------------------------
k8s_kubeconfig "$TMPD/kc-wrong-ca" --token "$NEW_TOKEN" --ca "$K8S_DIR/other-ca.crt"
k8s_ctl /reset-stats
LOG2=$TMPD/n1-wrong-ca.log
before=$(table n1)
agent_start n1 "$LOG2" --config /dev/null --node-name n1 --kubeconfig "$TMPD/kc-wrong-ca" --metrics off
agent_ready n1 "$LOG2"
wait_log "$LOG2" 'warn: k8s: (nodes|services|endpointslices): list: .*(certificate|SSL)' 10
sleep 1
st=$(k8s_ctl /stats)
if [ "$(jq '.requests | length' <<<"$st")" = 0 ] && [ "$(jq '.tls_failures | length' <<<"$st")" -ge 3 ] &&
	kill -0 "${AGENT_PID[n1]}" 2>/dev/null && [ "$(table n1)" = "$before" ]; then
	pass wrong_ca_refused
else
	fail wrong_ca_refused "requests $(jq -c '.requests | length' <<<"$st"), TLS refused $(jq '.tls_failures | length' <<<"$st"): $(grep k8s "$LOG2" | head -2 | tr '\n' '|')"
fi
agent_kill n1 TERM

# --- a client certificate, and the CA, inline in the kubeconfig ---------------------------------
k8s_kubeconfig "$TMPD/kc-cert" --cert --inline
k8s_apply "$(svc_json default by-cert 10.96.0.91 "$P_ONE")"
k8s_ctl /reset-stats
LOG3=$TMPD/n1-cert.log
agent_start n1 "$LOG3" --config /dev/null --node-name n1 --kubeconfig "$TMPD/kc-cert" --metrics off
agent_ready n1 "$LOG3"
if wait_for 10 table_matches n1 && [ "$(k8s_requests '.auth == "cert"')" -ge 3 ] &&
	[ "$(k8s_requests '.auth != "cert"')" = 0 ]; then
	pass client_certificate_inline
else
	fail client_certificate_inline "$(table_diff n1) $(k8s_ctl /stats | jq -c '[.requests[] | .auth] | unique')"
fi
agent_kill n1 TERM

# --- in-cluster: the service account's files and KUBERNETES_SERVICE_* --------------------------
SA=$TMPD/sa
mkdir -p "$SA"
cp "$K8S_DIR/ca.crt" "$SA/ca.crt"
echo "$NEW_TOKEN" >"$SA/token"
k8s_apply "$(svc_json default in-cluster 10.96.0.92 "$P_ONE")"
LOG4=$TMPD/n1-incluster.log
: >"$LOG4"
# A mount namespace of its own: a tmpfs on /run holds the service account's
# directory for this agent alone (nothing of the machine's changes).
nsenter --net="/run/netns/$(node_ns n1)" unshare --mount --propagation private sh -c '
	mount -t tmpfs tmpfs /run &&
	mkdir -p /run/secrets/kubernetes.io/serviceaccount &&
	cp "$1/ca.crt" "$1/token" /run/secrets/kubernetes.io/serviceaccount/ &&
	KUBERNETES_SERVICE_HOST=$2 KUBERNETES_SERVICE_PORT=$3 exec "$4" --pin-dir "$5" \
		--state-dir "$6" agent --config /dev/null --node-name n1 --metrics off' _ \
	"$SA" "$K8S_ADDR" "$K8S_PORT" "$BIN" "$(pin_of n1)" "$(state_of n1)" 2>>"$LOG4" &
AGENT_PID[n1]=$!
PIDS+=($!)
agent_ready n1 "$LOG4"
if wait_for 10 table_matches n1 && grep -q 'info: agent: Nodes and Services from the Kubernetes API at https://198.51.100.1:6443 (in-cluster configuration)' "$LOG4"; then
	pass in_cluster_config
else
	fail in_cluster_config "$(table_diff n1) $(head -3 "$LOG4" | tr '\n' '|')"
fi
agent_kill n1 TERM

finish
