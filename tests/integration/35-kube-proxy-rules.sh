#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The rules tools/kube-proxy-rules writes load and work like kube-proxy's, in
# iptables mode and (with nft installed) nftables mode. A node namespace (the
# lib.sh node behind the ext namespace, forwarding on) holds the rules; a
# client pod and two backend pods hang off it on plain veth pairs routed as
# bridgeless routes its pods (/32 addresses, gateway 169.254.1.1), the
# backends answering TCP and UDP with their name and the source they saw.
# Per mode:
#   - the rules load, and iptables-save / nft list show the same chains,
#     rules (per chain, same targets in the same order) and map elements;
#   - a ClusterIP reaches both backends over TCP and UDP, the answer comes
#     from the ClusterIP and the backend sees the pod's own address; from the
#     node itself too (masqueraded);
#   - a service without endpoints is refused at once (ICMP port unreachable:
#     ECONNREFUSED), TCP and UDP, from a pod and from the node;
#   - a NodePort reached from outside is served, masqueraded;
#   - ClientIP affinity keeps one backend; internalTrafficPolicy Local uses
#     the local endpoint only, and with none local drops (no refusal);
#     serving terminating endpoints are used when none is ready;
#   - $KPR_SCALE (default 1000) generated services of 2 endpoints load into a
#     namespace of their own with the same shape (load time on stderr).
# Only namespaces this test made are touched (ip netns exec runs iptables and
# nft inside them; no BPF pins are involved).
TEST=kube-proxy-rules
. "$(dirname "$0")/lib.sh"
require_root
require_cmd python3 iptables-restore iptables-save
KPR=$ROOT/tools/kube-proxy-rules
D=$ROOT/tests/integration/kube-proxy-rules.d
SCALE=${KPR_SCALE:-1000}
NODE_IP=198.51.100.2

make_ext_and_node n1 || abort "ext and node namespaces"
NS=$(node_ns n1)
nx "$NS" sysctl -qw net.ipv4.ip_forward=1 || abort "ip_forward in $NS"

# mkpeer NAME IP: a pod netns on a veth pair from the node, routed by /32
mkpeer() {
	local name=$1 addr=$2 pns
	pns=$(pod_ns "$name")
	new_netns "$pns" &&
		ip -n "$NS" link add "kp-$name" type veth peer name eth0 netns "$pns" &&
		ip -n "$NS" addr add 169.254.1.1/32 dev "kp-$name" &&
		ip -n "$NS" link set "kp-$name" up &&
		ip -n "$NS" route add "$addr/32" dev "kp-$name" &&
		ip -n "$pns" addr add "$addr/32" dev eth0 &&
		ip -n "$pns" link set eth0 up &&
		ip -n "$pns" route add 169.254.1.1 dev eth0 &&
		ip -n "$pns" route add default via 169.254.1.1 dev eth0
}
CL=10.244.1.10 B1=10.244.1.11 B2=10.244.2.11
mkpeer cl $CL && mkpeer b1 $B1 && mkpeer b2 $B2 || abort "pod namespaces"
for b in b1 b2; do
	bg_in "$(pod_ns $b)" 600 python3 "$D/netpeer.py" serve $b 8080
	wait_listen "$(pod_ns $b)" 8080 || abort "backend $b does not listen"
done

# The services. b1 runs on this node (n1), b2 on another (n2).
mkdir -p "$TMPD"
SVC=$TMPD/services.json
python3 - "$SVC" <<'EOF' || abort "services.json"
import json, sys
READY = {"ready": True, "serving": True, "terminating": False}
def svc(name, ip, ports=(("http", 80, "TCP"),), **spec):
    spec.update(clusterIP=ip, ports=[dict(name=n, port=p, protocol=pr, targetPort=8080)
                                     for n, p, pr in ports])
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"namespace": "default", "name": name}, "spec": spec}
def eps(name, endpoints, ports=(("http", "TCP"),)):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"namespace": "default", "name": name + "-abcde",
                         "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ip], "nodeName": node, "conditions": cond}
                          for ip, node, cond in endpoints],
            "ports": [{"name": n, "port": 8080, "protocol": pr} for n, pr in ports]}
both = [("10.244.1.11", "n1", READY), ("10.244.2.11", "n2", READY)]
tcpudp = (("http", 80, "TCP"), ("echo", 7, "UDP"))
items = [
    svc("web", "10.96.0.10", tcpudp), eps("web", both, (("http", "TCP"), ("echo", "UDP"))),
    svc("empty", "10.96.0.11", tcpudp),
    svc("np", "10.96.0.12", type="NodePort"), eps("np", both),
    svc("sticky", "10.96.0.13", sessionAffinity="ClientIP",
        sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}}), eps("sticky", both),
    svc("local", "10.96.0.14", internalTrafficPolicy="Local"), eps("local", both),
    svc("remote", "10.96.0.15", internalTrafficPolicy="Local"), eps("remote", both[1:]),
    svc("term", "10.96.0.16"),
    eps("term", [("10.244.1.11", "n1", {"ready": False, "serving": True, "terminating": True}),
                 ("10.244.2.11", "n2", {"ready": False, "serving": False, "terminating": True})]),
]
[i for i in items if i["metadata"]["name"] == "np"][0]["spec"]["ports"][0]["nodePort"] = 30080
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, open(sys.argv[1], "w"))
EOF

# ask NS PROTO IP PORT [COUNT]: netpeer.py's answers, one a line
ask() { nx "$1" python3 "$D/netpeer.py" ask "$2" "$3" "$4" "${5:-1}"; }
CLNS=$(pod_ns cl)

# only_from OUT BACKENDS SEEN VIA: every line is "b SEEN via VIA" with b in
# BACKENDS (space-separated), and every backend of BACKENDS answered
only_from() {
	local out=$1 backends=$2 seen=$3 via=$4 b
	[ -n "$out" ] || return 1
	echo "$out" | awk -v bs="$backends" -v s="$seen" -v v="$via" '
		BEGIN { n = split(bs, a, " "); for (i = 1; i <= n; i++) ok[a[i]] = 1 }
		!($1 in ok) || $2 != s || $3 != "via" || $4 != v { bad = 1 }
		{ got[$1] = 1 }
		END { for (b in ok) if (!(b in got)) bad = 1; exit bad }' ||
		{ diag "answers: $(echo "$out" | sort | uniq -c | tr '\n' ';')"; return 1; }
}

# rules_for MODE FILE [extra]: this node's rules from services.json
rules_for() {
	local mode=$1 file=$2
	shift 2
	"$KPR" --services "$SVC" --mode "$mode" --node-name n1 --node-ip $NODE_IP \
		--cluster-cidr 10.244.0.0/16 -o "$file" "$@"
}

# shape_ok NETNS MODE FILE: the loaded ruleset has the file's shape (listing
# 10,000 services takes longer than nx's 30 s on a busy machine)
shape_ok() {
	local out
	if [ "$2" = iptables ]; then
		out=$(timeout 600 nsenter --net="/run/netns/$1" iptables-save |
			python3 "$D/loaded.py" iptables "$3")
	else
		out=$(timeout 600 nsenter --net="/run/netns/$1" nft -j list table ip kube-proxy |
			python3 "$D/loaded.py" nftables "$3")
	fi || { diag "$out"; return 1; }
}

# run_mode MODE: load this mode's rules into the node and check the traffic
run_mode() {
	local m=$1 f=$TMPD/rules.$1 out t0 t1
	if [ "$m" = iptables ]; then
		rules_for iptables "$f" || { fail "rules_load.$m" "kube-proxy-rules failed"; return; }
		out=$(nx "$NS" iptables-restore <"$f" 2>&1)
	else
		rules_for nftables "$f" --service-cidr 10.96.0.0/12 ||
			{ fail "rules_load.$m" "kube-proxy-rules failed"; return; }
		out=$(nx "$NS" nft -f "$f" 2>&1)
	fi || { fail "rules_load.$m" "$out"; return; }
	pass "rules_load.$m"
	check "loaded_shape.$m" "the loaded $m ruleset differs from the file" shape_ok "$NS" "$m" "$f"

	out=$(ask "$CLNS" tcp 10.96.0.10 80 20)
	check "clusterip_tcp.$m" "20 TCP connections to 10.96.0.10:80 not all answered by b1 and b2 from the ClusterIP, source kept" \
		only_from "$out" "b1 b2" $CL 10.96.0.10:80
	out=$(ask "$CLNS" udp 10.96.0.10 7 20)
	check "clusterip_udp.$m" "20 UDP datagrams to 10.96.0.10:7 not all answered by b1 and b2 from the ClusterIP" \
		only_from "$out" "b1 b2" $CL 10.96.0.10:7
	# random among b1 and b2: 20 connections miss one only 1 time in 2^19
	out=$(ask "$NS" tcp 10.96.0.10 80 20)
	check "clusterip_from_node.$m" "the node's own connections to the ClusterIP not answered (masqueraded to 169.254.1.1)" \
		only_from "$out" "b1 b2" 169.254.1.1 10.96.0.10:80

	out=$({ ask "$CLNS" tcp 10.96.0.11 80; ask "$CLNS" udp 10.96.0.11 7
		ask "$NS" tcp 10.96.0.11 80; } | tr '\n' ' ')
	check "no_endpoints_refused.$m" "a service without endpoints is not refused (pod TCP, pod UDP, node TCP: $out)" \
		[ "$out" = "refused refused refused " ]
	if [ "$m" = nftables ]; then
		# cluster-ips-check would refuse a ClusterIP that was not DNATed
		# anyway; the refusal of the service itself is this element
		out=$(nx "$NS" nft get element ip kube-proxy no-endpoint-services \
			'{ 10.96.0.11 . tcp . 80 }' 2>&1)
		check "no_endpoints_element.$m" "no-endpoint-services has no reject for 10.96.0.11:80: $out" \
			grep -q '10.96.0.11 . tcp . 80 .*: goto reject-chain' <<<"$out"
	fi

	out=$(ask "$EXT" tcp $NODE_IP 30080 20)
	check "nodeport_external.$m" "NodePort $NODE_IP:30080 from outside not served by b1 and b2, masqueraded" \
		only_from "$out" "b1 b2" 169.254.1.1 $NODE_IP:30080
	out=$(ask "$CLNS" tcp 10.96.0.13 80 10)
	check "affinity.$m" "ClientIP affinity: 10 connections went to more than one backend" \
		[ "$(echo "$out" | awk '{ print $1 }' | sort -u | wc -l)" = 1 ]
	check "affinity_answers.$m" "ClientIP affinity: not all answered" \
		[ "$(echo "$out" | grep -c ' via 10.96.0.13:80$')" = 10 ]
	out=$(ask "$CLNS" tcp 10.96.0.14 80 10)
	check "itp_local.$m" "internalTrafficPolicy Local did not keep to the local endpoint b1" \
		only_from "$out" b1 $CL 10.96.0.14:80
	out=$(ask "$CLNS" tcp 10.96.0.15 80)
	check "itp_local_none_drops.$m" "internalTrafficPolicy Local without a local endpoint: '$out', want a drop (timeout)" \
		[ "$out" = timeout ]
	out=$(ask "$CLNS" tcp 10.96.0.16 80 10)
	check "terminating_fallback.$m" "without ready endpoints not only the serving terminating b1 answered" \
		only_from "$out" b1 $CL 10.96.0.16:80

	# scale: a namespace of its own, so the node's rules stay as they are
	local sns=$PFX-kscale-$m big=$TMPD/scale.json
	[ -e "$big" ] || "$KPR" --generate "$SCALE" --endpoints-per-service 2 -o "$big" ||
		{ fail "scale_load.$m" "--generate $SCALE failed"; return; }
	"$KPR" --services "$big" --mode "$m" --node-name node1 --node-ip $NODE_IP \
		--cluster-cidr 10.244.0.0/16 --service-cidr 10.96.0.0/12 -o "$f.scale" ||
		{ fail "scale_load.$m" "kube-proxy-rules failed on $SCALE services"; return; }
	new_netns "$sns" || { fail "scale_load.$m" "netns $sns"; return; }
	t0=$(date +%s.%N)
	if [ "$m" = iptables ]; then
		out=$(timeout 600 nsenter --net="/run/netns/$sns" iptables-restore <"$f.scale" 2>&1)
	else
		out=$(timeout 600 nsenter --net="/run/netns/$sns" nft -f "$f.scale" 2>&1)
	fi || { fail "scale_load.$m" "$SCALE services: $out"; return; }
	t1=$(date +%s.%N)
	diag "$m: $SCALE services x 2 endpoints, $(wc -l <"$f.scale") lines, loaded in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
	pass "scale_load.$m"
	check "scale_shape.$m" "the loaded $SCALE-service ruleset differs from the file" \
		shape_ok "$sns" "$m" "$f.scale"
	ip netns del "$sns"
}

run_mode iptables
if command -v nft >/dev/null 2>&1; then
	# an empty node again: iptables-nft's tables are nftables tables too
	nx "$NS" nft flush ruleset || abort "cannot empty the node's ruleset"
	run_mode nftables
else
	skip nftables "nft not installed (tools/install-deps)"
fi
finish
