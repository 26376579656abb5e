# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench: the setups, each in namespaces of its own. Sourced by tools/bench.
#
#   veth         a bare veth pair between two namespaces (the physical limit).
#                In the SNAT scenarios its receiving end holds the servers'
#                address itself: the client reaches them over one veth pair,
#                with no node, no NAT and no conntrack, the most any setup
#                that crosses a node could do
#   bridge       pods on a Linux bridge made by the reference CNI `bridge`
#                plugin (host-local IPAM, "ipMasq": true, isGateway) in a node
#                netns with net.bridge.bridge-nf-call-iptables=1, as
#                Kubernetes nodes run it
#   bridge-nonf  the same bridge plugin without netfilter: "ipMasq": false and
#                bridge-nf-call-iptables=0 in its node netns. It cannot
#                masquerade, so it takes part in the pod-to-pod scenarios only
#   bridgeless   pods added by `bridgeless pod add` on a node netns set up with
#                `bridgeless node init` (design.md test topology)
#
# The node netns of bridge and bridgeless have an uplink to an ext netns of
# their own ("the internet": the servers listen on 203.0.113.10, on ext's
# loopback, reached through the node's default route 198.51.100.1); the
# node's address is 198.51.100.2. ext has no route to pod addresses and strict
# rp_filter, so only traffic that really was translated reaches its sockets.
#
# Pod addresses: the pod CIDR is 10.244.0.0/20. The pods of the bridge
# plugins come from host-local over 10.244.4.1-10.244.11.254 (room for the
# scale scenario's 1000 pods); bridgeless's own pods (tx, rx) get theirs from
# its allocator at the start of the CIDR, its scale pods from host-local over
# the same range as the bridge's; the cni scenario uses 10.244.1.100-250.

EXT_IP=198.51.100.1
NODE_IP=198.51.100.2
SERVER_IP=203.0.113.10	# "the internet": routed, not on the uplink's subnet
POD_CIDR=10.244.0.0/20
NAT_PORTS=20000-65535	# bridgeless NAT range, reserved in the node netns only

# A: bare veth pair between two namespaces.
setup_veth() {
	mkns a-tx && mkns a-rx || return 1
	ip -n "$(ns a-tx)" link add eth0 type veth peer name eth0 \
		netns "$(ns a-rx)" || return 1
	ip -n "$(ns a-tx)" addr add 10.250.0.2/24 dev eth0 &&
	ip -n "$(ns a-rx)" addr add 10.250.0.3/24 dev eth0 &&
	ip -n "$(ns a-tx)" link set eth0 up &&
	ip -n "$(ns a-rx)" link set eth0 up || return 1
	any_scen snat || return 0
	# the SNAT scenarios' servers, one hop away and not translated
	ip -n "$(ns a-rx)" addr add "$SERVER_IP/32" dev lo &&
	ip -n "$(ns a-tx)" route add "$SERVER_IP/32" via 10.250.0.3 dev eth0 &&
	ext_sysctls a-rx
}

# ext_link NODE EXT: the design.md uplink between a node netns and its own
# "internet" netns, with the servers' address. ext gets no route to pods.
ext_link() {
	local node=$(ns "$1") ext=$(ns "$2")
	mkns "$2" || return 1
	ip -n "$node" link add uplink type veth peer name eth0 netns "$ext" &&
	ip -n "$ext" addr add "$EXT_IP/24" dev eth0 &&
	ip -n "$ext" addr add "$SERVER_IP/32" dev lo &&
	ip -n "$ext" link set eth0 up &&
	ip -n "$node" addr add "$NODE_IP/24" dev uplink &&
	ip -n "$node" link set uplink up &&
	ip -n "$node" route add default via "$EXT_IP" || return 1
	ext_sysctls "$2"
}

# ext_sysctls NS: the servers' netns. Strict reverse-path filter: an
# untranslated pod source (no route back) is dropped before the sockets, so
# it never counts as served. ICMP answers rate-limited as udp.sh explains.
ext_sysctls() {
	ip netns exec "$(ns "$1")" sysctl -q -w net.ipv4.conf.all.rp_filter=1 \
		net.ipv4.conf.eth0.rp_filter=1 \
		net.ipv4.icmp_ratelimit=1000 net.ipv4.icmp_msgs_per_sec=1000 \
		net.ipv4.icmp_ratemask=6168
}

# pod_ipam_json [FIRST LAST]: host-local over the pod range (default
# 10.244.4.1-10.244.11.254), this run's dataDir
pod_ipam_json() {
	cat <<EOF
  "ipam": {
    "type": "host-local",
    "ranges": [ [ { "subnet": "$POD_CIDR",
                    "rangeStart": "${1:-10.244.4.1}", "rangeEnd": "${2:-10.244.11.254}" } ] ],
    "routes": [ { "dst": "0.0.0.0/0" } ],
    "dataDir": "$IPAM"
  }
EOF
}

# cni_conf SETUP: the network of the bridge (ipMasq) or bridge-nonf setup
cni_conf() {
	local masq=true
	[ "$1" = bridge-nonf ] && masq=false
	cat <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$P-net-$1",
  "type": "bridge",
  "bridge": "cni0",
  "isGateway": true,
  "ipMasq": $masq,
$(pod_ipam_json)
}
EOF
}

# cni_call SETUP ADD|DEL POD: the reference bridge plugin in the setup's node
# netns for the pod's netns
cni_call() {
	local s=$(short "$1")
	cni_conf "$1" | nsenter --net="/run/netns/$(ns "$s-node")" env \
		CNI_COMMAND="$2" CNI_CONTAINERID="$P-$3" \
		CNI_NETNS="/run/netns/$(ns "$s-$3")" CNI_IFNAME=eth0 \
		CNI_PATH="$CNI_DIR" "$CNI_DIR/bridge"
}

# pods of a bridge/bridgeless setup: tx always (pod2pod sender, snat client),
# rx for the pod-to-pod scenarios and the scale scenario
setup_pods() {
	echo tx
	{ any_scen pod2pod && inlist "$1" "$(setups_of pod2pod-pps | tr ' ' ,)"; } ||
		{ want_scen scale && inlist "$1" "$(setups_of scale | tr ' ' ,)"; } && echo rx
	return 0
}
# needs_ext SETUP: the setup takes part in a scenario through SNAT
needs_ext() {
	[ "$1" = bridge ] || [ "$1" = bridgeless ] || return 1
	any_scen snat || want_scen scale
}

# bridge_nf NODE VALUE: br_netfilter's per-netns switch (kernel >= 5.3); it
# exists once the module is loaded and a bridge is in the netns
bridge_nf() {
	local f=/proc/sys/net/bridge/bridge-nf-call-iptables
	nsenter --net="/run/netns/$(ns "$1")" sh -c "echo $2 > $f" &&
	[ "$(nsenter --net="/run/netns/$(ns "$1")" cat $f)" = "$2" ] ||
		{ log "cannot set bridge-nf-call-iptables=$2 in $(ns "$1")"; return 1; }
}

# setup_cni_bridge SETUP NF: a node netns with the setup's pods on the bridge
setup_cni_bridge() {
	local setup=$1 s=$(short "$1") pod out
	modprobe br_netfilter 2>/dev/null	# may be built in
	mkns "$s-node" || return 1
	for pod in $(setup_pods "$setup"); do
		mkns "$s-$pod" || return 1
		out=$(cni_call "$setup" ADD "$pod" 2>&1) ||
			{ log "$setup: CNI ADD $pod failed: $out"; return 1; }
		CNI_ADDED="$CNI_ADDED $setup $pod"
	done
	bridge_nf "$s-node" "$2"
}

# B: reference CNI bridge plugin, bridge netfilter on, as on Kubernetes nodes.
setup_bridge() {
	setup_cni_bridge bridge 1 || return 1
	needs_ext bridge || return 0
	ext_link b-node b-ext || return 1
	# isGateway turns forwarding on; make sure, as on any Kubernetes node
	ip netns exec "$(ns b-node)" sysctl -q -w net.ipv4.ip_forward=1 || return 1
	nsenter --net="/run/netns/$(ns b-node)" iptables -t nat -S 2>/dev/null |
		grep -q -- '-j MASQUERADE' ||
		{ log "bridge: no MASQUERADE rule from ipMasq in the node netns"; return 1; }
}

# D: the same bridge, no netfilter on the bridge and no ipMasq.
setup_bridge-nonf() {
	setup_cni_bridge bridge-nonf 0
}

# C: bridgeless on a node netns wired to an ext netns (design.md topology).
setup_bridgeless() {
	local pod out
	mkns c-node || return 1
	ext_link c-node c-ext || return 1
	# A NAT range large enough for the connection test (mappings live
	# until `nat gc`); node init reserves it in this node netns only.
	out=$(bl node init --uplink uplink --pod-cidr "$POD_CIDR" \
		--cluster-cidr 10.244.0.0/16 --nat-ports "$NAT_PORTS" 2>&1) ||
		{ log "bridgeless node init failed: $out"; return 1; }
	BL_INIT=1
	for pod in $(setup_pods bridgeless); do
		mkns "c-$pod" || return 1
		out=$(bl pod add "$P-$pod" --netns "$(ns "c-$pod")" 2>&1) ||
			{ log "bridgeless pod add $pod failed: $out"; return 1; }
	done
}
