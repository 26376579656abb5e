#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# IPv6 and dual-stack Kubernetes Services load-balanced in BPF, on two
# dual-stack nodes over native routing, the agent serving its --services
# file (IPv6 service CIDR fd00:96::/112):
#
#   n1: pods a1 a2        n2: pod b1
#
#   web   10.96.0.20, fd00:96::20 :80  -> a2:8080   dual-stack, a backend per family
#   far   fd00:96::21:80               -> b1:8080   IPv6 only, on the other node
#   self  fd00:96::22:80               -> a1:8080   the client is its own backend
#   dns   fd00:96::10:53 UDP and TCP   -> a2, b1 (5353)
#   empty fd00:96::30:80               -> nothing   refused at once (TCP and UDP)
#
# Every answer names the backend and the source it saw; clients use
# connected sockets, so an answer that was not translated back to the
# cluster IP never reaches them. The IPv4 half of the dual-stack Service,
# pod to pod and the counters, `service list` and `nat list` show the rest.
TEST=services6
IPV6=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_bin
require_cmd jq python3
mount_bpffs

PEER=$ROOT/tests/integration/svc-peer.py

make_ext_and_node n1 || abort "topology n1"
make_ext_and_node n2 || abort "topology n2"
node_init6 n1 1 --service-cidr fd00:96::/112 >/dev/null || abort "node init n1"
node_init6 n2 2 --service-cidr fd00:96::/112 >/dev/null || abort "node init n2"
for p in a1 a2; do mkpod_on n1 $p >/dev/null || abort "pod $p"; done
mkpod_on n2 b1 >/dev/null || abort "pod b1"
A1=$(pod_ip a1)
A2=$(pod_ip a2)
A1_6=$(pod_ip6 a1)
A2_6=$(pod_ip6 a2)
B1_6=$(pod_ip6 b1)
[ -n "$A1_6" ] && [ -n "$A2_6" ] && [ -n "$B1_6" ] || abort "pod addresses: a1 $A1_6 a2 $A2_6 b1 $B1_6"
diag "pods a1 $A1 $A1_6, a2 $A2 $A2_6, b1 $B1_6"

for p in a1 a2 b1; do
	for port in 8080 5353; do
		bg_in "$(pod_ns $p)" 300 python3 "$PEER" serve $p $port >/dev/null 2>&1
	done
done
for p in a1 a2 b1; do
	wait_listen "$(pod_ns $p)" 8080 && wait_listen "$(pod_ns $p)" 5353 ||
		abort "servers in $p did not start"
done

# --- the objects ----------------------------------------------------------------

# svc NAME IPS PORT:PROTO...: a Service object; IPS is its cluster IPs, comma-separated
svc() {
	local name=$1 ips=$2 ports='[]' p
	shift 2
	for p in "$@"; do
		IFS=: read -r port proto <<<"$p"
		ports=$(jq -c --arg n "$proto-$port" --argjson port "$port" --arg proto "$proto" \
			'. + [{ name: ($n | ascii_downcase), port: $port, protocol: $proto,
			targetPort: $port }]' <<<"$ports")
	done
	jq -n --arg n "$name" --arg ips "$ips" --argjson ports "$ports" '
		($ips | split(",")) as $ip | {
		apiVersion: "v1", kind: "Service",
		metadata: { namespace: "default", name: $n },
		spec: { type: "ClusterIP", clusterIP: $ip[0], clusterIPs: $ip,
			ipFamilies: [$ip[] | if contains(":") then "IPv6" else "IPv4" end],
			ipFamilyPolicy: (if ($ip | length) > 1 then "RequireDualStack"
					 else "SingleStack" end),
			ports: $ports, sessionAffinity: "None",
			internalTrafficPolicy: "Cluster" } }'
}

# slice SERVICE FAMILY PORT:PROTO:TARGET... -- IP@NODE...: an EndpointSlice
slice() {
	local name=$1 family=$2 ports='[]' eps='[]' p
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		IFS=: read -r port proto target <<<"$1"
		ports=$(jq -c --arg n "$proto-$port" --argjson t "$target" --arg proto "$proto" \
			'. + [{ name: ($n | ascii_downcase), port: $t, protocol: $proto }]' <<<"$ports")
		shift
	done
	[ "${1:-}" = -- ] && shift
	for p in "$@"; do
		eps=$(jq -c --arg ip "${p%@*}" --arg node "${p#*@}" '. + [{
			addresses: [$ip], nodeName: $node,
			conditions: { ready: true, serving: true, terminating: false } }]' <<<"$eps")
	done
	jq -n --arg s "$name" --arg fam "$family" --argjson ports "$ports" --argjson eps "$eps" '{
		apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
		metadata: { namespace: "default", name: ($s + "-" + ($fam | ascii_downcase)),
			    labels: { "kubernetes.io/service-name": $s } },
		addressType: $fam, ports: $ports, endpoints: $eps }'
}

SERVICES=$TMPD/services.json
{
	svc web 10.96.0.20,fd00:96::20 80:TCP
	slice web IPv4 80:TCP:8080 -- "$A2@n1"
	slice web IPv6 80:TCP:8080 -- "$A2_6@n1"
	svc far fd00:96::21 80:TCP
	slice far IPv6 80:TCP:8080 -- "$B1_6@n2"
	svc self fd00:96::22 80:TCP
	slice self IPv6 80:TCP:8080 -- "$A1_6@n1"
	svc dns fd00:96::10 53:UDP 53:TCP
	slice dns IPv6 53:UDP:5353 53:TCP:5353 -- "$A2_6@n1" "$B1_6@n2"
	svc empty fd00:96::30 80:TCP 80:UDP
} | jq -s '{ apiVersion: "v1", kind: "List", items: . }' >"$SERVICES" ||
	abort "services file"

PEERS=$TMPD/nodes.json
jq -n --arg a4 "${NODE_IP[n1]}" --arg a6 "${NODE_IP6[n1]}" --arg b4 "${NODE_IP[n2]}" \
	--arg b6 "${NODE_IP6[n2]}" '{ apiVersion: "v1", kind: "NodeList", items: [
	{ metadata: { name: "n1" }, spec: { podCIDR: "10.244.1.0/24",
	  podCIDRs: ["10.244.1.0/24", "fd00:10:244:1::/64"] },
	  status: { addresses: [{ type: "InternalIP", address: $a4 },
				{ type: "InternalIP", address: $a6 }] } },
	{ metadata: { name: "n2" }, spec: { podCIDR: "10.244.2.0/24",
	  podCIDRs: ["10.244.2.0/24", "fd00:10:244:2::/64"] },
	  status: { addresses: [{ type: "InternalIP", address: $b4 },
				{ type: "InternalIP", address: $b6 }] } } ] }' >"$PEERS"

for n in n1 n2; do
	agent_start $n "$TMPD/agent-$n.log" --config /dev/null --node-name $n \
		--peers "$PEERS" --services "$SERVICES" --reconcile-interval 1
done
for n in n1 n2; do
	agent_ready $n "$TMPD/agent-$n.log" || abort "agent $n: $(tail -3 "$TMPD/agent-$n.log")"
done
st=$(bln n1 node status --json | jq -r .services)
check services_in_bpf "node status says services: $st" [ "$st" = bpf ]
wait_for 5 bash -c "'$BIN' --pin-dir '$(pin_of n1)' --state-dir '$(state_of n1)' \
	service list --json | jq -e '[.[] | .ports[] | select(.datapath)] | length >= 6' >/dev/null" ||
	diag "service list: $(bln n1 service list --json | head -c 300)"
wait_for 5 bash -c "ip -n '$(node_ns n1)' -6 route show proto 199 | grep -q fd00:10:244:2::/64" ||
	diag "n1 has no route to n2's IPv6 pods: $(ndx n1 ip -6 route show proto 199)"

# --- clients ----------------------------------------------------------------------

# ask POD PROTO IP PORT [TIMEOUT]: "BACKEND SEEN-SOURCE", status as svc-peer.py's
ask() { nx "$(pod_ns "$1")" python3 "$PEER" "$2" "$3" "$4" "${5:-3}"; }

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

# backends_seen N POD PROTO IP PORT: the distinct backends N requests reached
backends_seen() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do ask "$@" | awk 'NF == 2 { print $1 }'; done | sort -u | tr '\n' ' '
}

d0=$(counter svc_dnat n1)
expect local_backend6 0 "^a2 \\[$A1_6\\]:" a1 tcp fd00:96::20 80
expect dual_stack_ipv4_half 0 "^a2 $A1:" a1 tcp 10.96.0.20 80
expect remote_backend6_source_kept 0 "^b1 \\[$A1_6\\]:" a1 tcp fd00:96::21 80
# the hairpin reaches a1 from the service address
expect itself6 0 '^a1 \[fd00:96::22\]:' a1 tcp fd00:96::22 80
expect dns6_udp 0 '^(a2|b1) ' a1 udp fd00:96::10 53
expect dns6_tcp 0 '^(a2|b1) ' a1 tcp fd00:96::10 53
seen=$(backends_seen 16 a1 udp fd00:96::10 53)
check dns6_both_nodes "16 DNS queries reached: $seen" [ "$seen" = "a2 b1 " ]
seen=$(backends_seen 8 b1 udp fd00:96::10 53)
check dns6_from_other_node "8 queries from b1 reached: $seen" [ "$seen" = "a2 b1 " ]
r0=$(counter svc_refused n1)
expect no_endpoint6_tcp_refused 2 'refused' a1 tcp fd00:96::30 80 5
expect no_endpoint6_udp_refused 2 'refused' a1 udp fd00:96::30 80 5
dr=$(($(counter svc_refused n1) - r0))
check refusals6_counted "svc_refused +$dr on n1, want >= 2" [ "$dr" -ge 2 ]
dd=$(($(counter svc_dnat n1) - d0))
check dnat6_in_bpf "svc_dnat +$dd on n1, want > 0" [ "$dd" -gt 0 ]
expect pod6_to_pod_unchanged 0 "^b1 \\[$A1_6\\]:" a1 tcp "$B1_6" 8080

# --- a long connection through a change of its service ------------------------------
# dns over TCP lands on a2 or b1; the other one leaves, a1 joins: the flow's
# backend stays, so the flow does
LONG_OUT=$TMPD/long.out
bg_in "$(pod_ns a1)" 60 python3 "$PEER" long fd00:96::10 53 5 "$TMPD/long.up" >"$LONG_OUT"
LONG_PID=$LAST_PID
wait_for 5 test -e "$TMPD/long.up" || abort "the long connection did not start"
sleep 0.5
# its flow, by its own source address and port (dns6_tcp left one of a1's too)
src=$(nx "$(pod_ns a1)" ss -Htn state established "dport = :53" | awk '{ print $3 }' | head -1)
nat=$(bln n1 nat list --json)
be=$(jq -r --arg src "$src" '.[] | select(.family == "ipv6" and .service and .pod == $src and
	.remote == "[fd00:96::10]:53") | .node' <<<"$nat" | head -1 | sed 's/^->\[//; s/\]:.*//')
case $be in
"$A2_6") keep=$A2_6@n1 keep_name=a2 ;;
"$B1_6") keep=$B1_6@n2 keep_name=b1 ;;
*) keep="" ;;
esac
if [ -z "$keep" ]; then
	fail nat_list_service6_flow "no IPv6 service flow of $src to [fd00:96::10]:53 in nat list: $(head -c 300 <<<"$nat")"
else
	pass nat_list_service6_flow
	jq --arg keep "${keep%@*}" --arg kn "${keep#*@}" --arg a1 "$A1_6" '
		(.items[] | select(.kind == "EndpointSlice" and .metadata.name == "dns-ipv6")
		| .endpoints) |= [.[] | select(.addresses[0] == $keep)] + [{ addresses: [$a1],
			nodeName: "n1", conditions: { ready: true, serving: true, terminating: false } }]' \
		"$SERVICES" >"$SERVICES.tmp" && mv "$SERVICES.tmp" "$SERVICES"
	want=$(printf '%s\n' "$keep_name" a1 | sort | tr '\n' ' ')
	wait_for 5 bash -c "'$BIN' --pin-dir '$(pin_of n1)' --state-dir '$(state_of n1)' \
		service list --json | jq -e '.[] | select(.name == \"dns\") | .ports[0].datapath.backends |
		length == 2 and (map(startswith(\"[$A1_6]\")) | any)' >/dev/null" ||
		diag "service list after the change: $(bln n1 service list --json | jq -c '.[] | select(.name == "dns")' | head -c 400)"
	seen=$(backends_seen 16 b1 udp fd00:96::10 53)
	check new_connections6_follow_new_set "16 queries after the change reached: $seen" \
		[ "$seen" = "$want" ]
	wait "$LONG_PID"
	out=$(cat "$LONG_OUT")
	check long_connection6_survives "the long connection to $keep_name: '$out'" \
		grep -Eq "^ok [0-9]+ $keep_name\$" <<<"$out"
fi

# --- what operators see --------------------------------------------------------------
sl=$(bln n1 service list --json)
check service_list_ipv6_frontend "service list --json, far: $(jq -c '.[] | select(.name == "far")' <<<"$sl" | head -c 300)" \
	jq -e --arg b "[$B1_6]:8080" '.[] | select(.name == "far") | .ports[0].datapath.backends == [$b]' <<<"$sl"
check service_list_dual_stack "service list --json, web: $(jq -c '.[] | select(.name == "web")' <<<"$sl" | head -c 400)" \
	jq -e '.[] | select(.name == "web") | .ports[0] | (.datapath.backends | length) == 1 and
		(.datapath_secondary.backends | length) == 1' <<<"$sl"
txt=$(bln n1 service list)
check service_list_text_secondary "service list: $(grep web <<<"$txt")" \
	grep -Eq 'web .*bpf: 1 in use.*; fd00:96::20: 1 in use' <<<"$txt"

mt=$(metrics_scrape n1)
check metrics_pod_ipv6 "no per-pod series with a1's IPv6 address: $(grep -m2 'pod="a1"' <<<"$mt")" \
	grep -q "pod=\"a1\",ip=\"$A1\",ip6=\"$A1_6\"" <<<"$mt"

agent_kill n1 TERM
agent_kill n2 TERM
finish
