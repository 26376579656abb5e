#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Kubernetes Services on two nodes, next to kube-proxy's rules as kube-proxy
# writes them (tools/kube-proxy-rules, iptables mode and nftables mode where
# nft is there), with the BPF service table (the agent's --services file)
# and without it (kube-proxy alone serves the service CIDR):
#
#   n1: pods a1 a2        n2: pod b1         ext: the internet
#
#   web   10.96.0.20:80   -> a2:8080          a backend on the client's node
#   far   10.96.0.21:80   -> b1:8080          a backend on the other node
#   self  10.96.0.22:80   -> a1:8080          the client is its own backend
#   dns   10.96.0.10:53   -> a2:5353, b1:5353 UDP and TCP, both nodes
#   empty 10.96.0.30:80   -> nothing          refused at once (TCP and UDP)
#   np    10.96.0.40:80   -> a2, b1 (8080)    NodePort 30080 from ext
#
# Every answer names the backend and the source it saw; clients use
# connected sockets, so an answer that was not translated back to the
# cluster IP never reaches them. Then, with the BPF table: a long connection
# lives through backends leaving and joining its service while its own
# backend stays, new connections follow the new set, and pod to pod and
# SNAT are unchanged; counters, `service list` and metrics show the work.
TEST=services
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_bin
require_cmd jq python3 iptables-restore
mount_bpffs

PEER=$ROOT/tests/integration/svc-peer.py
KPR=$ROOT/tools/kube-proxy-rules
[ -x "$KPR" ] || abort "missing $KPR"

make_ext_and_node n1 || abort "topology n1"
make_ext_and_node n2 || abort "topology n2"
node_init n1 10.244.1.0/24 >/dev/null || abort "node init n1"
node_init n2 10.244.2.0/24 >/dev/null || abort "node init n2"
for p in a1 a2; do mkpod_on n1 $p >/dev/null || abort "pod $p"; done
mkpod_on n2 b1 >/dev/null || abort "pod b1"
A1=$(pod_ip a1)
A2=$(pod_ip a2)
B1=$(pod_ip b1)
N1_IP=198.51.100.2
N2_IP=198.51.100.3

# every pod serves TCP and UDP on 8080 and 5353, answering with its name
for p in a1 a2 b1; do
	for port in 8080 5353; do
		bg_in "$(pod_ns $p)" 600 python3 "$PEER" serve $p $port >/dev/null 2>&1
	done
done
for p in a1 a2 b1; do
	wait_listen "$(pod_ns $p)" 8080 && wait_listen "$(pod_ns $p)" 5353 ||
		abort "servers in $p did not start"
done

# --- the objects ----------------------------------------------------------------

# svc NAME IP PORT:PROTO[:NODEPORT]...: a Service object
svc() {
	local name=$1 ip=$2 ports='[]' p
	shift 2
	for p in "$@"; do
		IFS=: read -r port proto np <<<"$p"
		ports=$(jq -c --arg n "$proto-$port" --argjson port "$port" --arg proto "$proto" \
			--arg np "${np:-}" '. + [{ name: ($n | ascii_downcase), port: $port,
			protocol: $proto, targetPort: $port } + (if $np == "" then {} else
			{ nodePort: ($np | tonumber) } end)]' <<<"$ports")
	done
	jq -n --arg n "$name" --arg ip "$ip" --argjson ports "$ports" '{
		apiVersion: "v1", kind: "Service",
		metadata: { namespace: "default", name: $n },
		spec: { type: (if ($ports | map(has("nodePort")) | any) then "NodePort"
			       else "ClusterIP" end),
			clusterIP: $ip, clusterIPs: [$ip], ports: $ports,
			sessionAffinity: "None", internalTrafficPolicy: "Cluster",
			externalTrafficPolicy: "Cluster" } }'
}

# slice SERVICE PORT:PROTO:TARGET... -- IP@NODE[:terminating]...: an EndpointSlice
slice() {
	local name=$1 ports='[]' eps='[]' p
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		IFS=: read -r port proto target <<<"$1"
		ports=$(jq -c --arg n "$proto-$port" --argjson t "$target" --arg proto "$proto" \
			'. + [{ name: ($n | ascii_downcase), port: $t, protocol: $proto }]' <<<"$ports")
		shift
	done
	[ "${1:-}" = -- ] && shift
	for p in "$@"; do
		IFS=@ read -r ip rest <<<"$p"
		IFS=: read -r node state <<<"$rest"
		eps=$(jq -c --arg ip "$ip" --arg node "$node" --arg st "${state:-}" '. + [{
			addresses: [$ip], nodeName: $node,
			conditions: (if $st == "terminating" then
				{ ready: false, serving: true, terminating: true } else
				{ ready: true, serving: true, terminating: false } end) }]' <<<"$eps")
	done
	jq -n --arg s "$name" --argjson ports "$ports" --argjson eps "$eps" '{
		apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
		metadata: { namespace: "default", name: ($s + "-abcde"),
			    labels: { "kubernetes.io/service-name": $s } },
		addressType: "IPv4", ports: $ports, endpoints: $eps }'
}

SERVICES=$TMPD/services.json
# write_services OBJECT...: the List `kubectl get services,endpointslices -A -o json` prints
write_services() {
	printf '%s\n' "$@" | jq -s '{ apiVersion: "v1", kind: "List", items: . }' \
		>"$SERVICES.tmp" && mv "$SERVICES.tmp" "$SERVICES"
}

DNS_EPS=("$A2@n1" "$B1@n2")
objects() {
	svc web 10.96.0.20 80:TCP
	slice web 80:TCP:8080 -- "$A2@n1"
	svc far 10.96.0.21 80:TCP
	slice far 80:TCP:8080 -- "$B1@n2"
	svc self 10.96.0.22 80:TCP
	slice self 80:TCP:8080 -- "$A1@n1"
	svc dns 10.96.0.10 53:UDP 53:TCP
	slice dns 53:UDP:5353 53:TCP:5353 -- "${DNS_EPS[@]}"
	svc empty 10.96.0.30 80:TCP 80:UDP
	svc np 10.96.0.40 80:TCP:30080
	slice np 80:TCP:8080 -- "$A2@n1" "$B1@n2"
}
mapfile -t OBJS < <(objects)
write_services "${OBJS[@]}"
cp "$SERVICES" "$TMPD/services.start.json"

# --- kube-proxy's rules ----------------------------------------------------------

# kube_proxy NODE MODE: load kube-proxy's rules for the services file into NODE
kube_proxy() {
	local node=$1 mode=$2 ip=${NODE_IP[$1]} f=$TMPD/kp-$1-$2
	"$KPR" --mode "$mode" --services "$SERVICES" --node-name "$node" --node-ip "$ip" \
		--cluster-cidr 10.244.0.0/16 >"$f" || return 1
	if [ "$mode" = iptables ]; then
		nx "$(node_ns "$node")" iptables-restore <"$f"
	else
		nx "$(node_ns "$node")" nft -f "$f"
	fi
}

# kube_proxy_clear NODE: no rules of kube-proxy's left
kube_proxy_clear() {
	local ns
	ns=$(node_ns "$1")
	for t in filter nat mangle; do
		nx "$ns" iptables -t $t -F 2>/dev/null
		nx "$ns" iptables -t $t -X 2>/dev/null
	done
	nx "$ns" nft delete table ip kube-proxy 2>/dev/null
	true
}

# --- clients ----------------------------------------------------------------------

# ask POD PROTO IP PORT: "BACKEND SEEN-SOURCE", status as svc-peer.py's
ask() { nx "$(pod_ns "$1")" python3 "$PEER" "$2" "$3" "$4" "${5:-3}"; }

# backends_seen N POD PROTO IP PORT: the distinct backends N requests reached
backends_seen() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do ask "$@" | awk 'NF == 2 { print $1 }'; done | sort -u | tr '\n' ' '
}

# expect NAME WANT-RC WANT-REGEX POD PROTO IP PORT
expect() {
	local name=$1 want_rc=$2 re=$3 out rc
	shift 3
	out=$(ask "$@")
	rc=$?
	if [ "$rc" = "$want_rc" ] && grep -Eq -- "$re" <<<"$out"; then
		pass "$name"
	else
		fail "$name" "$* -> status $rc, '$out' (want $want_rc, /$re/)"
	fi
}

# the checks every setup must pass; $1 names the setup in the case names
common_checks() {
	local s=$1 self_src
	expect "$s.local_backend" 0 "^a2 $A1:" a1 tcp 10.96.0.20 80
	expect "$s.remote_backend_source_kept" 0 "^b1 $A1:" a1 tcp 10.96.0.21 80
	# the hairpin reaches a1 from the service address (BPF) or the node (kube-proxy's masquerade)
	self_src='(10\.96\.0\.22|198\.51\.100\.2|10\.244\.1\.[0-9]+)'
	expect "$s.itself" 0 "^a1 $self_src:" a1 tcp 10.96.0.22 80
	expect "$s.dns_udp" 0 '^(a2|b1) ' a1 udp 10.96.0.10 53
	expect "$s.dns_tcp" 0 '^(a2|b1) ' a1 tcp 10.96.0.10 53
	local seen
	seen=$(backends_seen 16 a1 udp 10.96.0.10 53)
	check "$s.dns_both_nodes" "16 DNS queries reached: $seen" [ "$seen" = "a2 b1 " ]
	# random among two backends: 16 queries miss one only 1 time in 2^15
	seen=$(backends_seen 16 b1 udp 10.96.0.10 53)
	check "$s.dns_from_other_node" "16 queries from b1 reached: $seen" [ "$seen" = "a2 b1 " ]
	expect "$s.no_endpoint_tcp_refused" 2 'refused' a1 tcp 10.96.0.30 80 5
	expect "$s.no_endpoint_udp_refused" 2 'refused' a1 udp 10.96.0.30 80 5
	# from outside: kube-proxy's NodePort (the answer comes from the node)
	local out
	out=$(nx "$EXT" python3 "$PEER" tcp $N1_IP 30080 3)
	check "$s.nodeport_from_ext" "ext -> $N1_IP:30080: '$out'" grep -Eq '^(a2|b1) ' <<<"$out"
	seen=$(for i in $(seq 12); do nx "$EXT" python3 "$PEER" tcp $N1_IP 30080 3 |
		awk 'NF == 2 { print $1 }'; done | sort -u | tr '\n' ' ')
	check "$s.nodeport_local_and_remote" "12 NodePort connections reached: $seen" \
		[ "$seen" = "a2 b1 " ]
	# the node itself (hostNetwork) to a cluster IP: kube-proxy's
	out=$(nx "$(node_ns n1)" python3 "$PEER" tcp 10.96.0.20 80 3)
	check "$s.node_to_cluster_ip" "n1 -> 10.96.0.20:80: '$out'" grep -Eq '^a2 ' <<<"$out"
	out=$(nx "$(node_ns n1)" python3 "$PEER" tcp 10.96.0.21 80 3)
	check "$s.node_to_remote_backend" "n1 -> 10.96.0.21:80: '$out'" grep -Eq '^b1 ' <<<"$out"
	# pod to pod and pod to ext as ever
	expect "$s.pod_to_pod_unchanged" 0 "^b1 $A1:" a1 tcp "$B1" 8080
}

start_agents() {
	local n
	for n in n1 n2; do
		agent_start $n "$TMPD/agent-$n-$1.log" --config /dev/null --node-name $n \
			"${@:2}" --reconcile-interval 1
	done
	for n in n1 n2; do
		agent_ready $n "$TMPD/agent-$n-$1.log" || {
			diag "agent $n: $(tail -3 "$TMPD/agent-$n-$1.log")"
			return 1
		}
	done
}

stop_agents() {
	agent_kill n1 TERM
	agent_kill n2 TERM
}

PEERS=$TMPD/nodes.json
jq -n --arg a "$N1_IP" --arg b "$N2_IP" '{ apiVersion: "v1", kind: "NodeList", items: [
	{ metadata: { name: "n1" }, spec: { podCIDR: "10.244.1.0/24" },
	  status: { addresses: [{ type: "InternalIP", address: $a }] } },
	{ metadata: { name: "n2" }, spec: { podCIDR: "10.244.2.0/24" },
	  status: { addresses: [{ type: "InternalIP", address: $b }] } } ] }' >"$PEERS"

MODES="iptables"
if command -v nft >/dev/null; then
	MODES="$MODES nftables"
else
	skip nftables "nft is not installed"
fi

for mode in $MODES; do
	for n in n1 n2; do
		kube_proxy_clear $n
		kube_proxy $n $mode || abort "kube-proxy rules ($mode) do not load in $n"
	done

	# --- kube-proxy alone: no BPF table, the service CIDR goes to the host ---
	start_agents "kp-$mode" --peers "$PEERS" || abort "agents ($mode, kube-proxy)"
	st=$(bln n1 node status --json | jq -r .services)
	check "kp_$mode.services_to_host" "node status says services: $st" [ "$st" = host ]
	common_checks "kp_$mode"
	stop_agents

	# --- the BPF table from the services file, kube-proxy's rules still there ---
	start_agents "bpf-$mode" --peers "$PEERS" --services "$SERVICES" ||
		abort "agents ($mode, BPF services)"
	st=$(bln n1 node status --json | jq -r .services)
	check "bpf_$mode.services_in_bpf" "node status says services: $st" [ "$st" = bpf ]
	wait_for 5 bash -c "'$BIN' --pin-dir '$(pin_of n1)' --state-dir '$(state_of n1)' \
		service list --json | jq -e 'length >= 6' >/dev/null" ||
		diag "service list: $(bln n1 service list --json | head -c 300)"
	before=$(counter svc_dnat)
	common_checks "bpf_$mode"
	after=$(counter svc_dnat)
	check "bpf_$mode.dnat_in_bpf" "svc_dnat moved $before -> $after" [ "$after" -gt "$before" ]
	refused=$(counter svc_refused)
	check "bpf_$mode.refusals_counted" "svc_refused is $refused" [ "$refused" -gt 0 ]
	stop_agents
done

# --- with the BPF table: a long connection through changes of its service ----------
start_agents changes --peers "$PEERS" --services "$SERVICES" || abort "agents (changes)"
# dns over TCP: the connection lands on a2 or b1; the other one leaves, c joins
LONG_OUT=$TMPD/long.out
bg_in "$(pod_ns a1)" 60 python3 "$PEER" long 10.96.0.10 53 6 "$TMPD/long.up" >"$LONG_OUT"
LONG_PID=$LAST_PID
wait_for 5 test -e "$TMPD/long.up" || abort "the long connection did not start"
sleep 1
first=$(nx "$(pod_ns a1)" ss -Htn state established "dport = :53" | head -1)
diag "long connection: $first"
# which backend has it? ask the NAT table for this connection's own flow
# (by its source port: flows of earlier connections to the service may
# still be there, closing)
long_src=$(awk '{ print $3 }' <<<"$first")
be=$(bln n1 nat list --json |
	jq -r --arg src "$long_src" '.[] | select(.service and .pod == $src and .remote == "10.96.0.10:53") | .node' |
	head -1 | sed 's/^->//; s/:.*//')
case $be in
"$A2") keep=$A2@n1 leave=$B1@n2 keep_name=a2 ;;
"$B1") keep=$B1@n2 leave=$A2@n1 keep_name=b1 ;;
*) keep="" ;;
esac
if [ -z "$keep" ]; then
	fail long_connection_backend "no service flow of $long_src to 10.96.0.10:53 in nat list ($be)"
else
	# the other backend leaves, and a new one (a1) joins: the flow's stays
	DNS_EPS=("$keep" "$A1@n1")
	mapfile -t OBJS < <(objects)
	write_services "${OBJS[@]}"
	sleep 1.5
	seen=$(backends_seen 16 b1 udp 10.96.0.10 53)
	want=$(printf '%s\n' "$keep_name" a1 | sort | tr '\n' ' ')
	check new_connections_follow_new_set "16 queries after the change reached: $seen" \
		[ "$seen" = "$want" ]
	wait "$LONG_PID"
	out=$(cat "$LONG_OUT")
	if ! check long_connection_survives "the long connection: '$out'" \
		grep -Eq "^ok [0-9]+ $keep_name\$" <<<"$out"; then
		diag "agent n1: $(tail -n 20 "$TMPD/agent-n1-changes.log")"
		diag "agent n2: $(tail -n 20 "$TMPD/agent-n2-changes.log")"
		diag "nat n1: $(bln n1 nat list | grep -F 10.96.0.10)"
	fi
fi

# --- what operators see --------------------------------------------------------------
sl=$(bln n1 service list --json)
check service_list_json "service list --json: $(head -c 200 <<<"$sl")" \
	jq -e 'map(select(.name == "dns")) | length == 1' <<<"$sl"
check service_list_backends "dns backends: $(jq -c '.[] | select(.name == "dns")' <<<"$sl" | head -c 300)" \
	jq -e '[.[] | select(.name == "dns") | .. | objects | select(has("backends")) | .backends | length] | max > 0' <<<"$sl"
mt=$(metrics_scrape n1)
check metrics_service_counters "no bridgeless_svc / svc_dnat series" \
	grep -q 'reason="svc_dnat"' <<<"$mt"
stats=$(bln n1 stats --json)
check stats_service_counters "stats has no svc_dnat: $(head -c 200 <<<"$stats")" \
	jq -e '.counters.svc_dnat.packets > 0' <<<"$stats"
# every service map dumps with its field names (BTF), as an operator reads it
for spec in "svc_frontends:id rev count affinity_s flags port proto" \
	"svc_backends:id rev slot addr port" "svc_stats:packets bytes flows refused" \
	"nat:svc svc_id addr port"; do
	m=${spec%%:*}
	dump=$(timeout 10 bpftool map dump pinned "$(pin_of n1)/$m" 2>&1 | head -c 200000)
	missing=
	for f in ${spec#*:}; do
		grep -q "\"$f\"" <<<"$dump" || missing+=" $f"
	done
	check "bpftool_${m}_field_names" "bpftool map dump $m lacks:$missing ($(head -c 200 <<<"$dump"))" \
		[ -z "$missing" ]
done
stop_agents
for n in n1 n2; do kube_proxy_clear $n; done

finish
