#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The test API server against a real client, and what only kubectl can
# check: kubectl (Debian's kubernetes-client, or whichever kubectl
# tools/install-deps found) lists through it (one page, pages of one item,
# short pages), watches through it (`kubectl get nodes --watch`: ADDED,
# MODIFIED, DELETED as they happen; an ERROR event with 410 Gone read as
# a Status), is refused without the token and with the wrong CA, and gets
# in with a client certificate. So the agent's tests hold it to the
# protocol kubectl speaks, not only to our reading of it.
#
# Then the agent's file mode on kubectl's own output: --peers from
# `kubectl get nodes -o json`, --services from `kubectl get
# services,endpointslices -A -o json`, re-read when they change (the
# table and routes follow, a rewrite with the same objects changes
# nothing, a broken or missing file keeps the table); --k8s off keeps file
# mode with a kubeconfig given, files and the API together are refused.
#
# And deploy/daemonset.yaml through `kubectl create --dry-run=client
# --validate=false`: it is valid for kubectl, runs the agent alone (no
# sidecars), its ClusterRole only gets, lists and watches nodes, services
# and endpointslices, and its agent.conf is one the agent takes.
TEST=k8s_kubectl
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent-lib.bash"
. "$(dirname "$0")/k8s-lib.bash"
require_bin
require_cmd jq openssl curl
[ -x "$PY" ] || { skip all "python3 not installed (tools/install-deps)"; exit 0; }
KUBECTL=${KUBECTL:-kubectl}
command -v "$KUBECTL" >/dev/null 2>&1 ||
	{ skip all "kubectl not installed (tools/install-deps: kubernetes-client)"; exit 0; }
mount_bpffs

make_ext_and_node n1 || abort "topology"
node_init n1 10.244.1.0/24 >/dev/null || abort "node init"
k8s_server_start || abort "API server: $(cat "$K8S_DIR/server.log")"
k8s_kubeconfig "$TMPD/kubeconfig"
diag "kubectl: $("$KUBECTL" version --client 2>/dev/null | head -1)"

# kc [--kubeconfig F] ARGS...: kubectl in n1's namespace; its cache and
# home are the test's own (nothing written under the machine's ~/.kube)
kc() {
	local kcf=$TMPD/kubeconfig
	[ "$1" = --kubeconfig ] && { kcf=$2; shift 2; }
	HOME=$TMPD nsenter --net="/run/netns/$(node_ns n1)" timeout 30 "$KUBECTL" \
		--cache-dir "$TMPD/kube-cache" --kubeconfig "$kcf" "$@"
}

P_ONE='[{"port":80,"protocol":"TCP","targetPort":8080}]'
k8s_apply "$(node_json n1 10.244.1.0/24 198.51.100.2)" "$(node_json n2 10.244.2.0/24 198.51.100.3)" \
	"$(node_json n3 10.244.3.0/24 198.51.100.4)" \
	"$(svc_json default web 10.96.0.10 '[{"name":"http","port":80,"protocol":"TCP","targetPort":"http"}]')" \
	"$(slice_json default web-a web '[{"name":"http","port":8080}]' "[$(ep 10.244.1.5), $(ep 10.244.2.5 false true true n2)]")" \
	"$(svc_json kube-system dns 10.96.0.53 '[{"name":"dns","port":53,"protocol":"UDP"}]')" \
	"$(slice_json kube-system dns-x dns '[{"name":"dns","port":53,"protocol":"UDP"}]' "[$(ep 10.244.3.53 true true false n3)]")" \
	"$(svc_json default headless None "$P_ONE")" || abort "apply objects"

# --- kubectl against the test server -----------------------------------------------------
server_nodes() { k8s_ctl /objects | jq -c '[.items[] | select(.kind == "Node") | .metadata.name] | sort'; }
got=$(kc get nodes -o json | jq -c '[.items[].metadata.name] | sort')
check kubectl_list "kubectl listed $got, the server holds $(server_nodes)" test "$got" = "$(server_nodes)"
got=$(kc get nodes -o json | jq -c '[.items[] | [.metadata.name, .spec.podCIDR, (.status.addresses[] | select(.type == "InternalIP") | .address)]]')
check kubectl_list_fields "$got" test "$got" = \
	'[["n1","10.244.1.0/24","198.51.100.2"],["n2","10.244.2.0/24","198.51.100.3"],["n3","10.244.3.0/24","198.51.100.4"]]'
k8s_ctl /reset-stats
got=$(kc get nodes --chunk-size=1 -o name | tr '\n' ' ')
conts=$(k8s_requests '.path == "/api/v1/nodes" and .query.continue != null and .query.limit == "1"')
check kubectl_pages_of_one "kubectl got '$got' with $conts continue requests" \
	test "$got" = "node/n1 node/n2 node/n3 " -a "$conts" = 2
k8s_apply "$(node_json n4 10.244.4.0/24 198.51.100.5)" "$(node_json n5 10.244.5.0/24 198.51.100.6)" \
	"$(node_json n6 10.244.6.0/24 198.51.100.7)"
k8s_ctl "/short-pages?on=1"
k8s_ctl /reset-stats
got=$(kc get nodes --chunk-size=4 -o name | wc -l)
pages=$(k8s_requests '.path == "/api/v1/nodes" and .query.limit == "4"')
check kubectl_short_pages "kubectl got $got nodes in $pages pages of at most 4" test "$got" = 6 -a "$pages" -ge 3
k8s_ctl "/short-pages?on=0"
for n in n4 n5 n6; do k8s_delete nodes $n; done

# A watch: kubectl's own LIST, then its WATCH from the list's resourceVersion.
W=$TMPD/kubectl-watch.json
kc get nodes --watch --output-watch-events -o json >"$W" 2>"$W.err" &
PIDS+=($!)
wpid=$!
seen() { jq -c '[.type, .object.metadata.name]' "$W" 2>/dev/null | tr -d '\n'; }
wait_for 10 test "$(seen)" = '["ADDED","n1"]["ADDED","n2"]["ADDED","n3"]'
k8s_apply "$(node_json n9 10.244.9.0/24 198.51.100.10)"
k8s_apply "$(node_json n3 10.244.3.0/24 198.51.100.44)"
k8s_delete nodes n9
want='["ADDED","n1"]["ADDED","n2"]["ADDED","n3"]["ADDED","n9"]["MODIFIED","n3"]["DELETED","n9"]'
if wait_for 10 test "$(seen)" = "$want" &&
	[ "$(jq -r 'select(.type == "MODIFIED") | .object.status.addresses[0].address' "$W")" = 198.51.100.44 ]; then
	pass kubectl_watch_events
else
	fail kubectl_watch_events "kubectl saw $(seen) $(head -c 300 "$W.err")"
fi
# The server forgets its history: the open watch gets ERROR 410 Gone as a Status.
k8s_ctl "/compact?gone=event&expire=1"
gone() { jq -e 'select(.type == "ERROR") | .object | select(.kind == "Status" and .code == 410 and .reason == "Expired")' "$W" >/dev/null 2>&1; }
check kubectl_watch_410 "kubectl saw $(seen)" wait_for 10 gone
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null

# The default (table) output of a watch, as a user types it.
kc get nodes --watch >"$W.table" 2>&1 &
PIDS+=($!)
wpid=$!
wait_for 10 grep -q '^n3 ' "$W.table"
k8s_apply "$(node_json n7 10.244.7.0/24 198.51.100.8)"
check kubectl_get_nodes_watch "kubectl printed: $(tr '\n' '|' <"$W.table")" wait_for 10 grep -q '^n7 ' "$W.table"
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
k8s_delete nodes n7

k8s_kubeconfig "$TMPD/kc-bad-token" --token not-the-token
out=$(kc --kubeconfig "$TMPD/kc-bad-token" get nodes 2>&1)
check kubectl_token_refused "kubectl said: $out" grep -q 'Unauthorized' <<<"$out"
k8s_kubeconfig "$TMPD/kc-cert" --cert
k8s_ctl /reset-stats
out=$(kc --kubeconfig "$TMPD/kc-cert" get nodes -o name 2>&1 | tr '\n' ' ')
check kubectl_client_certificate "kubectl said: $out; auth seen: $(k8s_ctl /stats | jq -c '[.requests[].auth] | unique')" \
	test "$out" = "node/n1 node/n2 node/n3 " -a "$(k8s_requests '.auth != "cert"')" = 0
k8s_kubeconfig "$TMPD/kc-other-ca" --ca "$K8S_DIR/other-ca.crt"
k8s_ctl /reset-stats
out=$(kc --kubeconfig "$TMPD/kc-other-ca" get nodes 2>&1 | tail -1)
check kubectl_wrong_ca_refused "kubectl said: $out; requests: $(k8s_ctl /stats | jq '.requests | length')" \
	test "$(k8s_ctl /stats | jq '.requests | length')" = 0 -a -n "$(grep 'certificate signed by unknown authority' <<<"$out")"

# --- the agent on kubectl's output: the file mode -----------------------------------------------
CL=$TMPD/cluster
mkdir -p "$CL"
# export: what kubectl says now, replacing the files atomically
export_files() {
	kc get nodes -o json >"$CL/.nodes.json" && mv "$CL/.nodes.json" "$CL/nodes.json" &&
		kc get services,endpointslices -A -o json >"$CL/.services.json" &&
		mv "$CL/.services.json" "$CL/services.json"
}
out=$(bln n1 service list 2>&1)
check service_list_without_table "$out" grep -q 'service list: no service table in' <<<"$out"
export_files || abort "kubectl export"
check kubectl_export_is_a_list "$(jq -c '[.kind, [.items[].kind]]' "$CL/services.json")" \
	test "$(jq -c '[.kind, ([.items[].kind] | unique)]' "$CL/services.json")" = '["List",["EndpointSlice","Service"]]'

# Files and the API exclude each other; --k8s off keeps the files with a kubeconfig there.
out=$(bln n1 agent --config /dev/null --once --kubeconfig "$TMPD/kubeconfig" --peers "$CL/nodes.json" 2>&1)
rc=$?
check files_and_api_refused "rc $rc: $out" test "$rc" = 1 -a \
	-n "$(grep -- '--peers/--services and the Kubernetes API .* exclude each other' <<<"$out")"

LOG=$TMPD/n1.log
k8s_ctl /reset-stats
agent_start n1 "$LOG" --config /dev/null --node-name n1 --k8s off --kubeconfig "$TMPD/kubeconfig" \
	--peers "$CL/nodes.json" --services "$CL/services.json" --reconcile-interval 0.5 --metrics off
agent_ready n1 "$LOG" || abort "agent did not start: $(tail -3 "$LOG")"
if wait_for 10 table_matches n1 && wait_for 5 has_routes n1 \
	"$(printf '10.244.2.0/24 via 198.51.100.3\n10.244.3.0/24 via 198.51.100.44')"; then
	pass files_initial_sync
else
	fail files_initial_sync "$(table_diff n1) routes: $(routes n1 | tr '\n' ' ')"
fi
n=$(k8s_requests '.path | test("/(nodes|services|endpointslices)$")')
check files_no_api_requests "the agent asked the API $n times" test "$n" = 0
check files_read_logged "$(grep 'services: ' "$LOG" | head -3 | tr '\n' '|')" \
	grep -q "info: services: read 2 services and 2 endpoint slices from $CL/services.json" "$LOG"

mark=$(($(wc -l <"$LOG") + 1))
k8s_apply "$(slice_json default web-a web '[{"name":"http","port":8080}]' "[$(ep 10.244.1.5), $(ep 10.244.2.5), $(ep 10.244.3.5 true true false n3)]")" \
	"$(svc_json default api 10.96.0.11 "$P_ONE")" \
	"$(slice_json default api-x api '[{"port":8080}]' "[$(ep 10.244.2.11 true true false n2)]")"
k8s_delete services kube-system/dns
k8s_delete nodes n3
export_files
if wait_for 10 table_matches n1 && wait_for 5 has_routes n1 '10.244.2.0/24 via 198.51.100.3'; then
	pass files_changed_followed
else
	fail files_changed_followed "$(table_diff n1) routes: $(routes n1 | tr '\n' ' ')"
fi
got=$(tail -n +"$mark" "$LOG" | grep -oE 'info: services: [^ ]+ (added|removed|changed)' | sort | tr '\n' '|')
check files_only_difference "$got" test "$got" = \
	'info: services: default/api added|info: services: default/web changed|info: services: kube-system/dns removed|'

# The same objects again (a new file, kubectl's fresh output): nothing changes.
mark=$(($(wc -l <"$LOG") + 1))
saved=$(stat -c %Y.%i "$(state_of n1)/services.json")
export_files
since() { tail -n +"$mark" "$LOG" | grep -Eq -- "$1"; }
wait_for 5 since "info: services: read 2 services and 3 endpoint slices from $CL/services.json"
sleep 1.2
got=$(tail -n +"$mark" "$LOG" | grep -E 'services: [^ ]+ (added|removed|changed)|route' | tr '\n' '|')
check files_same_objects_no_change "logged: $got; services.json rewritten: $saved -> $(stat -c %Y.%i "$(state_of n1)/services.json")" \
	test -z "$got" -a "$saved" = "$(stat -c %Y.%i "$(state_of n1)/services.json")"

# Broken, then gone: the table stays what it was, one line each.
mark=$(($(wc -l <"$LOG") + 1))
before=$(table n1)
printf '{"kind": "List", "items": [ {"kind": "Service", ' >"$CL/.services.json" && mv "$CL/.services.json" "$CL/services.json"
wait_for 5 since "warn: services: services file $CL/services.json: line [0-9]+: .*; keeping the service table we have"
rm "$CL/services.json"
wait_for 5 since "warn: services: $CL/services.json: No such file or directory; keeping the service table we have"
sleep 1.2
n=$(tail -n +"$mark" "$LOG" | grep -c 'warn: services:')
check files_broken_keeps_table "$n lines: $(tail -n +"$mark" "$LOG" | tr '\n' '|')" \
	test "$n" = 2 -a "$(table n1)" = "$before"
export_files
k8s_apply "$(svc_json default after 10.96.0.12 "$P_ONE")"
export_files
check files_back "$(table_diff n1)" wait_for 10 table_matches n1
agent_kill n1 TERM

# --- a kubeconfig as kubectl reads it: the agent reads it the same ------------------------------
# Flow style, quotes, a trailing slash, paths relative to the file, a
# tokenFile, and a user with an exec plugin in a context that is not current.
KD=$TMPD/kc-dir
mkdir -p "$KD/pki"
cp "$K8S_DIR/ca.crt" "$KD/pki/ca.crt"
echo "$K8S_TOKEN" >"$KD/token"
kubeconfig_styled() { # CURRENT-CONTEXT [extra cluster fields]
	cat <<EOF
apiVersion: v1
kind: Config
preferences: {}
clusters:
- cluster: {certificate-authority: pki/ca.crt, server: 'https://$K8S_ADDR:$K8S_PORT/'${2:-}}
  name: "test"
users:
- name: plugin
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: /bin/false}
- name: tok
  user:
    tokenFile: token
contexts:
- {name: here, context: {cluster: test, user: tok, namespace: kube-system}}
- name: via-plugin
  context:
    cluster: test
    user: plugin
current-context: $1
EOF
}
kubeconfig_styled here >"$KD/config"
got=$(kc --kubeconfig "$KD/config" get nodes -o name 2>&1 | tr '\n' ' ')
check kubeconfig_styled_kubectl "kubectl: $got" test "$got" = "node/n1 node/n2 "
out=$(bln n1 agent --config /dev/null --once --node-name n1 --kubeconfig "$KD/config" 2>&1)
rc=$?
check kubeconfig_styled_agent "rc $rc: $(grep -E 'warn|API' <<<"$out" | head -3 | tr '\n' '|')" test "$rc" = 0 -a \
	-n "$(grep -F "info: agent: Nodes and Services from the Kubernetes API at https://$K8S_ADDR:$K8S_PORT (kubeconfig $KD/config, context here)" <<<"$out")"
# bad_kubeconfig NAME WANT: the agent refuses $KD/bad with one line, exit status 1
bad_kubeconfig() {
	local out rc
	out=$(bln n1 agent --config /dev/null --once --kubeconfig "$KD/bad" 2>&1)
	rc=$?
	out=$(grep -v ': info: ' <<<"$out")
	check "$1" "rc $rc: $out" test "$rc" = 1 -a "$(wc -l <<<"$out")" = 1 -a \
		"$out" = "bridgeless: agent: kubeconfig $KD/bad: $2"
}
kubeconfig_styled via-plugin >"$KD/bad"
bad_kubeconfig kubeconfig_exec_refused \
	"user plugin: credential plugins (exec, auth-provider) are not supported: use a token, tokenFile or client certificate"
kubeconfig_styled here ', insecure-skip-tls-verify: true' >"$KD/bad"
bad_kubeconfig kubeconfig_insecure_refused \
	"cluster test: insecure-skip-tls-verify: not supported (give the cluster's CA)"
kubeconfig_styled nowhere >"$KD/bad"
bad_kubeconfig kubeconfig_no_context "no context \"nowhere\""
printf 'clusters:\n- name: [x\n' >"$KD/bad"
bad_kubeconfig kubeconfig_not_yaml "line 3: did not find expected ',' or ']' while parsing a flow sequence"

# --- the DaemonSet, as kubectl reads it ----------------------------------------------------------
D=$TMPD/daemonset.json
kc create --dry-run=client --validate=false -o json -f "$ROOT/deploy/daemonset.yaml" >"$D.out" 2>"$D.err"
rc=$?
jq -s 'map(if .kind == "List" then .items[] else . end)' "$D.out" >"$D" 2>/dev/null
kinds=$(jq -c 'map(.kind)' "$D" 2>/dev/null)
check daemonset_dry_run "rc $rc, kinds $kinds: $(head -c 300 "$D.err")" \
	test "$rc" = 0 -a "$kinds" = '["ServiceAccount","ClusterRole","ClusterRoleBinding","ConfigMap","DaemonSet"]'
ds='.[] | select(.kind == "DaemonSet") | .spec.template.spec'
got=$(jq -c "$ds | [[.containers[].name], [.initContainers[]?.name], .serviceAccountName, .hostNetwork]" "$D")
check daemonset_agent_alone "containers, init containers, account, hostNetwork: $got" \
	test "$got" = '[["agent"],["install"],"bridgeless",true]'
got=$(jq -r "$ds | [.containers[], .initContainers[]?] | map([.image, (.command // []), (.args // [])] | flatten | join(\" \")) | join(\"|\")" "$D")
check daemonset_no_kubectl "$got" test -z "$(grep -i kubectl <<<"$got")" -a -n "$(grep 'bridgeless agent' <<<"$got")"
got=$(jq -c '.[] | select(.kind == "ClusterRole") | [(.rules | map(.verbs[]) | unique), (.rules | map(.resources[]) | sort), (.rules | map(.apiGroups[]) | sort)]' "$D")
check clusterrole_read_only "$got" test "$got" = \
	'[["get","list","watch"],["endpointslices","nodes","services"],["","discovery.k8s.io"]]'
got=$(jq -c '.[] | select(.kind == "ClusterRoleBinding") | [.roleRef.name, (.subjects[] | [.kind, .name, .namespace])]' "$D")
check clusterrole_bound "$got" test "$got" = '["bridgeless",["ServiceAccount","bridgeless","kube-system"]]'
jq -r '.[] | select(.kind == "ConfigMap") | .data["agent.conf"]' "$D" >"$TMPD/agent.conf"
out=$(bln n1 agent --config "$TMPD/agent.conf" --k8s off --once 2>&1)
rc=$?
check daemonset_config_taken "rc $rc: $(tail -2 <<<"$out" | tr '\n' '|')" test "$rc" = 0 -a -s "$TMPD/agent.conf"

finish
