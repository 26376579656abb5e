# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# Shared helpers for the integration tests. Source it from a test script:
#
#   . "$(dirname "$0")/lib.sh"
#   make_ext_and_node n1 && node_init n1 || abort "node init failed"
#   mkpod a && mkpod b
#   ...
#   finish
#
# Topology (../../shared/design.md):
#
#   [ext ns]  eth0 198.51.100.1/24     "the internet"; eth0 is a bridge here so that
#      |                              several simulated nodes share one segment
#   [node ns] uplink 198.51.100.<N>/24, default via 198.51.100.1
#      |-- bl<hash> host veths --> [pod ns] eth0 10.244.x.y/32
#
# With IPV6=1 (set before the topology is made) the same segment is
# dual-stack, documentation and ULA prefixes only: ext 2001:db8:100::1/64,
# nodes 2001:db8:100::<N>/64 with a default route via ext; node_init6 gives
# node N the pod CIDRs 10.244.N.0/24 and fd00:10:244:N::/64 in the
# clusters 10.244.0.0/16 and fd00:10:244::/48.
#
# Everything lives in namespaces named with a prefix unique to this run, pins
# under /sys/fs/bpf/<prefix>-<node>, state under /tmp/<prefix>-<node>-state. The
# EXIT trap removes all of it and kills only the processes this script started.
# Nothing here touches the root namespace's interfaces, routes, sysctls or
# firewall: links are created directly inside the test namespaces (ip -n), and
# every command that needs a namespace runs in it through nsenter --net (not
# `ip netns exec`, whose private mount namespace hides /sys/fs/bpf).

set -u

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=${BIN:-$ROOT/${BUILD:-build}/bridgeless}
TEST=${TEST:-$(basename "$0" .sh)}
# Short, unique per run: pid plus randomness (two runs never collide).
PFX=${PFX:-blt$$x$(printf '%04x' $((RANDOM % 65536)))}
TMPD=/tmp/$PFX-tmp

EXT=$PFX-ext                # ext netns name
NODE=""                     # default node (first make_ext_and_node)
PIN=""                      # default node's pin dir
STATE=""                    # default node's state dir
declare -a NETNS_MADE=()    # every netns this run created, in creation order
declare -a PIDS=()          # every background process this run started
declare -A NODE_IP=()       # node -> uplink address
declare -A NODE_IP6=()      # node -> uplink IPv6 address (IPV6=1)
IPV6=${IPV6:-}
declare -A POD_NODE=()      # pod -> node it was added on
NFAIL=0
NPASS=0
NSKIP=0
NEXT_NODE_OCTET=2

# --- output protocol --------------------------------------------------------

pass() { echo "PASS $TEST.$1"; NPASS=$((NPASS + 1)); }
fail() {
	local name=$1
	shift
	echo "FAIL $TEST.$name: $(echo "$*" | tr '\n' ' ' | sed 's/ *$//')"
	NFAIL=$((NFAIL + 1))
}
skip() {
	local name=$1
	shift
	echo "SKIP $TEST.$name: $*"
	NSKIP=$((NSKIP + 1))
}
# diag: context for a human, on stderr (the runner shows it for failed scripts)
diag() { echo "# $*" >&2; }

# check NAME WHY CMD...: PASS if CMD succeeds, else FAIL NAME: WHY
check() {
	local name=$1 why=$2
	shift 2
	if "$@"; then
		pass "$name"
	else
		fail "$name" "$why"
		return 1
	fi
}

# abort WHY: a setup step failed, the remaining cases cannot run
abort() {
	fail setup "$*"
	exit 1
}

# finish: exit status for the runner
finish() {
	[ "$NFAIL" -eq 0 ] && exit 0
	exit 1
}

# --- preconditions ----------------------------------------------------------

require_root() {
	if [ "$(id -u)" != 0 ]; then
		skip all "needs root"
		exit 0
	fi
}

require_bin() {
	if [ ! -x "$BIN" ]; then
		fail setup "$BIN not built (run make all)"
		exit 1
	fi
}

# require_cmd NAME...: skip the whole test when a tool is missing
require_cmd() {
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			skip all "$c not installed (tools/install-deps)"
			exit 0
		fi
	done
}

mount_bpffs() {
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf || abort "cannot mount bpffs on /sys/fs/bpf"
	fi
}

# --- cleanup ----------------------------------------------------------------

cleanup() {
	local pid i ns
	trap - EXIT
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# Pods first, then nodes, then ext: reverse creation order.
	for ((i = ${#NETNS_MADE[@]} - 1; i >= 0; i--)); do
		ns=${NETNS_MADE[i]}
		[ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	# every path this run made is PFX-something; PFX ends in 4 hex digits
	# after an 'x', so the glob cannot reach another run's files
	case $PFX in
	blt?*)
		rm -rf /sys/fs/bpf/"$PFX"-* 2>/dev/null
		rm -rf /tmp/"$PFX"-* 2>/dev/null
		;;
	esac
}

on_signal() { exit 143; }

trap cleanup EXIT
trap on_signal TERM INT HUP

# --- namespaces -------------------------------------------------------------

# nx NS CMD...: run CMD in netns NS (full name), with a time limit
nx() {
	local ns=$1
	shift
	timeout 30 nsenter --net="/run/netns/$ns" "$@"
}

# new_netns NAME: create netns NAME (full name), remembered for cleanup
new_netns() {
	ip netns add "$1" || return 1
	NETNS_MADE+=("$1")
	ip -n "$1" link set lo up
}

node_ns() { echo "$PFX-$1"; }
pod_ns() { echo "$PFX-p-$1"; }
pin_of() { echo "/sys/fs/bpf/$PFX-$1"; }
state_of() { echo "/tmp/$PFX-$1-state"; }

make_ext() {
	[ -e "/run/netns/$EXT" ] && return 0
	new_netns "$EXT" || return 1
	ip -n "$EXT" link add eth0 type bridge || return 1
	ip -n "$EXT" addr add 198.51.100.1/24 dev eth0 || return 1
	ip -n "$EXT" link set eth0 up || return 1
	# ext is a router between the test's nodes and its "servers"
	nx "$EXT" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	if [ -n "$IPV6" ]; then
		ip -n "$EXT" addr add 2001:db8:100::1/64 dev eth0 nodad || return 1
		nx "$EXT" sysctl -qw net.ipv6.conf.all.forwarding=1 >/dev/null
	fi
}

# make_ext_and_node NODE [LAST-OCTET]: ext ns (once) plus node NODE with uplink
# 198.51.100.<LAST-OCTET>/24 (default: .2 for the first node, .3, ...) and a
# default route via 198.51.100.1. The first node becomes the default for bl.
make_ext_and_node() {
	local node=$1 octet=${2:-$NEXT_NODE_OCTET}
	local ns
	ns=$(node_ns "$node")
	NEXT_NODE_OCTET=$((octet + 1))
	mkdir -p "$TMPD"
	make_ext || return 1
	new_netns "$ns" || return 1
	ip -n "$EXT" link add "up-$node" type veth peer name uplink netns "$ns" || return 1
	ip -n "$EXT" link set "up-$node" master eth0 up || return 1
	ip -n "$ns" addr add "198.51.100.$octet/24" dev uplink || return 1
	ip -n "$ns" link set uplink up || return 1
	ip -n "$ns" route add default via 198.51.100.1 || return 1
	NODE_IP[$node]=198.51.100.$octet
	if [ -n "$IPV6" ]; then
		ip -n "$ns" addr add "2001:db8:100::$octet/64" dev uplink nodad || return 1
		ip -n "$ns" -6 route add default via 2001:db8:100::1 || return 1
		NODE_IP6[$node]=2001:db8:100::$octet
	fi
	if [ -z "$NODE" ]; then
		NODE=$node
		PIN=$(pin_of "$node")
		STATE=$(state_of "$node")
	fi
}

# --- the product --------------------------------------------------------------

# bln NODE ARGS...: run bridgeless inside NODE's namespace with its own dirs
bln() {
	local node=$1
	shift
	timeout 60 nsenter --net="/run/netns/$(node_ns "$node")" "$BIN" \
		--pin-dir "$(pin_of "$node")" --state-dir "$(state_of "$node")" "$@"
}

# bl ARGS...: bridgeless on the default node
bl() { bln "$NODE" "$@"; }

# possible_cpus: how many CPUs the kernel counts as possible (what per-CPU
# BPF maps, such as the NAT table's LRU, are divided by)
possible_cpus() {
	awk -F, '{ n = 0; for (i = 1; i <= NF; i++) { split($i, r, "-");
		n += (r[2] == "" ? 1 : r[2] - r[1] + 1) } print n }' /sys/devices/system/cpu/possible
}

# node_init NODE [POD-CIDR] [extra args]: node init with the test CIDRs
node_init() {
	local node=$1 cidr=${2:-10.244.1.0/24}
	shift
	[ $# -gt 0 ] && shift
	bln "$node" node init --uplink uplink --pod-cidr "$cidr" \
		--cluster-cidr 10.244.0.0/16 "$@"
}

# node_init6 NODE N [extra args]: dual-stack node init, pod CIDRs
# 10.244.N.0/24 and fd00:10:244:N::/64
node_init6() {
	local node=$1 n=$2
	shift 2
	bln "$node" node init --uplink uplink --pod-cidr "10.244.$n.0/24" \
		--pod-cidr "fd00:10:244:$n::/64" --cluster-cidr 10.244.0.0/16 \
		--cluster-cidr fd00:10:244::/48 "$@"
}

# mkpod NAME [pod add args]: new pod netns + pod add on the default node
mkpod() { mkpod_on "$NODE" "$@"; }

# mkpod_on NODE NAME [pod add args]
mkpod_on() {
	local node=$1 name=$2
	shift 2
	local ns
	ns=$(pod_ns "$name")
	if [ ! -e "/run/netns/$ns" ]; then
		new_netns "$ns" || return 1
	fi
	POD_NODE[$name]=$node
	bln "$node" pod add "$name" --netns "$ns" "$@"
}

# px POD CMD...: run CMD inside pod POD's netns
px() {
	local pod=$1
	shift
	nx "$(pod_ns "$pod")" "$@"
}

# ndx [NODE] CMD...: run CMD inside the node namespace (default node if the
# first word is not a node name)
ndx() {
	local node=$NODE
	if [ -n "${NODE_IP[$1]:-}" ]; then
		node=$1
		shift
	fi
	nx "$(node_ns "$node")" "$@"
}

# podinfo POD FIELD: a field of `pod list --json` for POD (on its node)
podinfo() {
	local node=${POD_NODE[$1]:-$NODE}
	bln "$node" pod list --json | jq -r --arg n "$1" --arg f "$2" \
		'.[] | select(.name == $n) | .[$f]'
}

pod_ip() { podinfo "$1" ip; }
pod_ip6() { podinfo "$1" ip6; }

# counter REASON [NODE]: packets counted for REASON by `bridgeless stats`
counter() {
	local node=${2:-$NODE} v
	v=$(bln "$node" stats --json | jq -r --arg r "$1" '.counters[$r].packets')
	case $v in
	'' | null | *[!0-9]*) echo "counter $1 unreadable: '$v'" >&2; echo -1 ;;
	*) echo "$v" ;;
	esac
}

# counter_bytes REASON [NODE]
counter_bytes() {
	local node=${2:-$NODE}
	bln "$node" stats --json | jq -r --arg r "$1" '.counters[$r].bytes'
}

# snmp NS PROTO FIELD: a /proc/net/snmp counter inside netns NS, e.g.
# snmp "$(pod_ns b)" Icmp InEchos. Counts what reached that namespace's stack.
snmp() {
	nx "$1" awk -v p="$2:" -v f="$3" '
		$1 == p { if (!h) { for (i = 2; i <= NF; i++) idx[$i] = i; h = 1 }
			  else { print $idx[f]; exit } }' /proc/net/snmp
}
pod_snmp() { snmp "$(pod_ns "$1")" "$2" "$3"; }

# ping_ok NS DST [COUNT] [extra ping args]: every echo answered
ping_ok() {
	local ns=$1 dst=$2 count=${3:-3}
	shift 3 2>/dev/null || shift $#
	nx "$ns" ping -q -n -c "$count" -i 0.2 -W 1 -w $((count + 3)) "$@" "$dst" >/dev/null 2>&1
}

# ping6_ok NS DST [COUNT] [extra ping args]: every IPv6 echo answered
ping6_ok() {
	local ns=$1 dst=$2 count=${3:-3}
	shift 3 2>/dev/null || shift $#
	nx "$ns" ping -6 -q -n -c "$count" -i 0.2 -W 1 -w $((count + 3)) "$@" "$dst" >/dev/null 2>&1
}

# ping_none NS DST [COUNT] [extra ping args]: no echo answered
ping_none() {
	local ns=$1 dst=$2 count=${3:-3} out
	shift 3 2>/dev/null || shift $#
	out=$(nx "$ns" ping -n -c "$count" -i 0.2 -W 1 "$@" "$dst" 2>&1)
	echo "$out" | grep -q ' 0 received'
}

# bg_in NS SECONDS CMD...: start CMD in NS in the background, time-limited;
# its PID is remembered and killed on exit.
bg_in() {
	local ns=$1 secs=$2
	shift 2
	nsenter --net="/run/netns/$ns" timeout "$secs" "$@" &
	PIDS+=($!)
	LAST_PID=$!
}

# wait_listen NS PORT: wait (max 5 s) until a TCP socket listens on PORT in NS
wait_listen() {
	local i
	for i in $(seq 50); do
		[ -n "$(nx "$1" ss -Hltn "sport = :$2" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}

# iperf_tcp SRV-NS CLIENT-NS DST [SECONDS] [PORT] [client args]: TCP transfer
# from CLIENT-NS to a one-shot server in SRV-NS. Sets IPERF_BYTES (bytes the
# server received, as the client reports them) and IPERF_OUT (client JSON).
# Returns non-zero when the transfer failed or moved nothing.
iperf_tcp() {
	local sns=$1 cns=$2 dst=$3 secs=${4:-2} port=${5:-5201}
	shift 5 2>/dev/null || shift $#
	IPERF_BYTES=0
	IPERF_OUT=""
	bg_in "$sns" $((secs + 20)) iperf3 -s -1 -p "$port" >/dev/null 2>&1
	if ! wait_listen "$sns" "$port"; then
		echo "# iperf3 server did not start in $sns" >&2
		return 1
	fi
	IPERF_OUT=$(timeout $((secs + 15)) nsenter --net="/run/netns/$cns" \
		iperf3 -J -c "$dst" -p "$port" -t "$secs" --connect-timeout 3000 "$@" 2>&1)
	IPERF_BYTES=$(echo "$IPERF_OUT" | jq -r '.end.sum_received.bytes // 0' 2>/dev/null)
	IPERF_BYTES=${IPERF_BYTES%.*}
	case $IPERF_BYTES in
	'' | null | 0 | *[!0-9]*)
		echo "# iperf3 $cns -> $dst: $(echo "$IPERF_OUT" | jq -r '.error // empty' 2>/dev/null)" >&2
		IPERF_BYTES=0
		return 1
		;;
	esac
	return 0
}

# --- inspecting what the product left --------------------------------------

# bl_links [NODE]: names of bl* links in the node namespace, sorted
bl_links() {
	ndx "${1:-$NODE}" ip -o link show 2>/dev/null |
		awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep '^bl' | sort
}

# ip_hex IP: the endpoints map key bytes as bpftool -j prints them
ip_hex() {
	local IFS=.
	# shellcheck disable=SC2086
	set -- $1
	printf '"0x%02x","0x%02x","0x%02x","0x%02x"' "$1" "$2" "$3" "$4"
}

# ep_keys [PIN]: endpoints map keys as dotted IPs, one a line
ep_keys() {
	local pin=${1:-$PIN} a b c d
	timeout 10 bpftool -j map dump pinned "$pin/endpoints" 2>/dev/null |
		jq -r '.[] | .key | join(" ")' 2>/dev/null |
		while read -r a b c d; do
			printf '%d.%d.%d.%d\n' "$a" "$b" "$c" "$d"
		done
}

# ep_count [PIN]: entries in the endpoints map (-1 if unreadable)
ep_count() {
	local pin=${1:-$PIN} n
	n=$(timeout 10 bpftool -j map dump pinned "$pin/endpoints" 2>/dev/null | jq length 2>/dev/null)
	echo "${n:--1}"
}

# ep_has IP [PIN]
ep_has() { ep_keys "${2:-$PIN}" | grep -qx "$1"; }

# state_files [STATE]: files in the state dir, lock excluded, sorted
state_files() {
	local st=${1:-$STATE}
	[ -d "$st" ] || return 0
	(cd "$st" && find . -type f ! -name lock | sort)
}

# pinned_links [PIN]: pinned bpf links, sorted
pinned_links() {
	local pin=${1:-$PIN}
	[ -d "$pin/links" ] || return 0
	(cd "$pin/links" && find . -mindepth 1 | sort)
}

# route_to IP [NODE]: the node's route to IP/32, if any
route_to() {
	ndx "${2:-$NODE}" ip -4 route show "$1/32" 2>/dev/null
}

# bpf_on_dev DEV [NODE]: BPF programs attached to DEV in the node ns (bpftool net)
bpf_on_dev() {
	ndx "${2:-$NODE}" bpftool -j net show dev "$1" 2>/dev/null |
		jq -r '.[] | to_entries[] | select(.value | type == "array") |
			.value[] | "\(.devname // "") \(.kind // .attach_type // "") \(.name // .prog_name // "") id \(.id // .prog_id // "")"' 2>/dev/null
}

# pinned_obj_ids [PIN]: ids of the programs and maps pinned under PIN (not links)
pinned_obj_ids() {
	local pin=${1:-$PIN} f
	[ -d "$pin" ] || return 0
	local out
	for f in "$pin"/*; do
		[ -f "$f" ] || continue
		if out=$(timeout 10 bpftool -j prog show pinned "$f" 2>/dev/null); then
			echo "$out" | jq -r '"prog \(.id)"'
		elif out=$(timeout 10 bpftool -j map show pinned "$f" 2>/dev/null); then
			echo "$out" | jq -r '"map \(.id)"'
		fi
	done
}

# pinned_link_ids [PIN]: ids of the bpf links pinned under PIN/links
pinned_link_ids() {
	local pin=${1:-$PIN} f
	[ -d "$pin/links" ] || return 0
	find "$pin/links" -type f | while read -r f; do
		timeout 10 bpftool -j link show pinned "$f" 2>/dev/null | jq -r '"link \(.id)"' 2>/dev/null
	done
}

# kobj_alive "prog|map|link ID": the kernel object still exists
kobj_alive() {
	local kind=${1% *} id=${1#* }
	timeout 10 bpftool "$kind" show id "$id" >/dev/null 2>&1
}

# wait_gone "KIND ID"...: every object freed (RCU-deferred: wait up to 3 s);
# prints the ones still alive
wait_gone() {
	local i o alive
	for i in $(seq 30); do
		alive=""
		for o in "$@"; do
			kobj_alive "$o" && alive="$alive [$o]"
		done
		[ -z "$alive" ] && return 0
		sleep 0.1
	done
	echo "$alive"
	return 1
}

# mac_bytes MAC: "0x02, 0x00, ..." for trafgen configs
mac_bytes() { echo "$1" | sed 's/^/0x/; s/:/, 0x/g'; }

# ip_bytes IP: "10, 244, 1, 2"
ip_bytes() { echo "$1" | sed 's/\./, /g'; }

# one_node_with_pods POD... [-- NODE-INIT-ARGS...]: the usual test node n1
# (pod CIDR 10.244.1.0/24, node init given the extra args after --) with
# these pods on it; aborts the test if any step fails
one_node_with_pods() {
	local p pods=() init=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		pods+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	init=("$@")
	make_ext_and_node n1 || abort "topology"
	node_init n1 10.244.1.0/24 "${init[@]}" >/dev/null ||
		abort "node init${init[*]:+ ${init[*]}} failed"
	for p in "${pods[@]}"; do
		mkpod "$p" >/dev/null || abort "pod add $p failed"
	done
}

# pods_ab_vars: for tests on pods a and b of node n1, A and B (their
# addresses), NS_A, NS_B and NS_N (their namespaces and the node's); aborts
# the test if a pod has no address
# shellcheck disable=SC2034 # set for the test that calls it
pods_ab_vars() {
	A=$(pod_ip a)
	B=$(pod_ip b)
	[ -n "$A" ] && [ -n "$B" ] || abort "pod list --json has no ip for a/b (a='$A' b='$B')"
	NS_A=$(pod_ns a)
	NS_B=$(pod_ns b)
	NS_N=$(node_ns n1)
}

# tcp_echo_server NS ADDR PORT: a single-process TCP echo server (either family; no children
# that could outlive the run), killed on exit
tcp_echo_server() {
	bg_in "$1" 300 perl -MIO::Socket::IP -MIO::Select -e '
		my $l = IO::Socket::IP->new(LocalAddr => $ARGV[0], LocalPort => $ARGV[1],
			Listen => 64, ReuseAddr => 1, Proto => "tcp") or die "listen: $!\n";
		my $s = IO::Select->new($l);
		while (1) {
			for my $h ($s->can_read) {
				if ($h == $l) { my $c = $l->accept; $s->add($c) if $c; next }
				my $n = sysread($h, my $b, 4096);
				if (!$n) { $s->remove($h); close $h; next }
				syswrite($h, $b);
			}
		}' "$2" "$3" 2>/dev/null
	wait_listen "$1" "$3"
}

# tcp_echo NS HOST PORT: one line there and back over a new connection
tcp_echo() {
	timeout 5 nsenter --net="/run/netns/$1" bash -c '
		exec 3<>"/dev/tcp/$1/$2" || exit 1
		echo "hello $2" >&3
		read -r -t 3 r <&3 && [ "$r" = "hello $2" ]' _ "$2" "$3" 2>/dev/null
}

require_root
