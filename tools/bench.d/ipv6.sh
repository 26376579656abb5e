# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench: the ipv6 scenario, pod to pod on one node over IPv6 (tx pod
# -> rx pod), for veth, bridge, bridge-nonf and bridgeless, each of them
# dual-stack. Sourced by tools/bench.
#
#   ipv6-pps   64-byte UDP/IPv6 packets per second delivered at rx's eth0,
#              measured as udp.sh measures IPv4: Ethernet 14 + IPv6 40 +
#              UDP 8 + 2 bytes of payload, to the closed port 9. IPv6 has
#              no checksum-less UDP, so trafgen computes the checksum once
#              (csumudp6) and the frame stays static. The receiver's ICMPv6
#              port unreachables are rate-limited as its ICMP ones
#              (net.ipv6.icmp.ratelimit=1000 ms, set explicitly)
#   ipv6-lat   TCP request/response latency over IPv6 with tools/rrlat
#              (Debian 12's sockperf 3.7 has no IPv6): 12-byte messages, one
#              in flight, TCP_NODELAY, client on CPU 0, server on CPU 1; p50
#              and p99 of half the round trip in microseconds, sockperf's
#              figure
#
# The setups (setups.sh) are dual-stack when this scenario runs: the veth
# pair gets fd00:250::2/64 and ::3/64; the bridge plugins' pods tx and rx a
# second host-local range (POD_CIDR6) with the bridge as its gateway
# (isGateway) and bridge-nf-call-ip6tables set as bridge-nf-call-iptables;
# bridgeless's node the IPv6 pod CIDR POD_CIDR6 (a /128 per pod, its
# default route via fe80::1 answered in BPF). The other scenarios' pods
# (scale, cni) stay IPv4-only.

POD_CIDR6=fd00:10:244::/64
NODE_IP6=2001:db8:100::2	# bridgeless's uplink: node init wants a node address
EXT_IP6=2001:db8:100::1
RRLAT_PORT=11112

ns_ip6() {	# ns_ip6 NETNS: the global IPv6 address of its eth0
	ip -n "$1" -j -6 addr show dev eth0 scope global |
		jq -r '.[0].addr_info[0].local // empty'
}

# hexip6 ADDR: its 16 bytes as trafgen reads them
hexip6() {
	python3 -c 'import ipaddress, sys
print(", ".join("0x%02x" % b for b in ipaddress.IPv6Address(sys.argv[1]).packed))' "$1"
}

# trafgen_cfg6 NAME TXNS DIP SPORT: as trafgen_cfg (udp.sh), over IPv6. The
# first pings may meet an address still in duplicate address detection
# (the bridge plugin's pods): tried for up to 10 s.
trafgen_cfg6() {
	local name=$1 tx=$2 dip=$3 sport=$4 sip smac gw dmac i
	sip=$(ns_ip6 "$tx")
	[ -n "$sip" ] || { log "$name: no IPv6 address on eth0 of $tx"; return 1; }
	for i in $(seq 10); do
		ip netns exec "$tx" ping -6 -c 2 -i 0.2 -W 1 "$dip" >/dev/null 2>&1 && break
		[ "$i" = 10 ] && { log "$name: ping $sip -> $dip fails"; return 1; }
		sleep 1
	done
	gw=$(ip -n "$tx" -j -6 route get "$dip" | jq -r '.[0].gateway // .[0].dst')
	dmac=$(ip -n "$tx" -j -6 neigh show "$gw" dev eth0 | jq -r '.[0].lladdr // empty')
	smac=$(ip -n "$tx" -j link show eth0 | jq -r '.[0].address')
	[ -n "$dmac" ] || { log "$name: no neighbour entry for $gw"; return 1; }
	cat >"$WORK/$name.cfg" <<EOF
{
  $(hexmac "$dmac"), $(hexmac "$smac"), c16(0x86dd),
  0x60, 0x00, 0x00, 0x00, c16(10), 17, 64,
  $(hexip6 "$sip"),
  $(hexip6 "$dip"),
  c16($sport), c16(9), c16(10), csumudp6(14, 54),
  fill(0x42, 2)
}
EOF
	log "$name: [$sip]:$sport ($smac) -> [$dip]:9 via $gw ($dmac)"
}

# icmp6_defaults NETNS: the receiver's ICMPv6 limiter at its defaults
icmp6_defaults() {
	ip netns exec "$1" sysctl -q -w net.ipv6.icmp.ratelimit=1000 \
		net.ipv6.icmp.ratemask=0-1,3-127
}

udp6_in() {	# udp6_in NETNS: UDP/IPv6 datagrams that reached the stack
	nsenter --net="/run/netns/$1" awk '$1 == "Udp6InDatagrams" || $1 == "Udp6NoPorts" {
		n += $2 } END { print n + 0 }' /proc/net/snmp6
}

# prepare_ipv6 SETUP: the sender's IPv6 frame, the receiver's ICMPv6 limits,
# the latency server
prepare_ipv6() {
	local s=$(short "$1") tx rx dip i
	tx=$(ns "$s-tx"); rx=$(ns "$s-rx")
	dip=$(ns_ip6 "$rx")
	[ -n "$dip" ] || { log "$1: receiver has no IPv6 address"; return 1; }
	if want_scen ipv6-pps; then
		trafgen_cfg6 "ipv6-$1" "$tx" "$dip" 40000 || return 1
		icmp6_defaults "$rx" || return 1
	fi
	want_scen ipv6-lat || return 0
	ip netns exec "$rx" taskset -c "$SERVER_CPU" "$RRLAT" server "$dip" "$RRLAT_PORT" \
		>"$WORK/$1.rrlat-server.log" 2>&1 &
	SERVER_PIDS="$SERVER_PIDS $!"
	for i in $(seq 50); do
		ip netns exec "$rx" ss -Hltn "sport = :$RRLAT_PORT" | grep -q . && return 0
		sleep 0.1
	done
	log "$1: rrlat server in $rx did not start:"
	cat "$WORK/$1.rrlat-server.log" >&2
	return 1
}

# measure_rrlat NAME TXNS DIP: sets M_P50 and M_P99 (microseconds)
measure_rrlat() {
	local name=$1 tx=$2 dip=$3 out
	run_fg ip netns exec "$tx" taskset -c "$SENDER_CPU" "$RRLAT" client "$dip" \
		"$RRLAT_PORT" "$seconds" >"$WORK/$name.rrlat.log" 2>&1
	out=$(cat "$WORK/$name.rrlat.log")
	M_P50=$(sed -n 's/.* p50=\([0-9.]*\) .*/\1/p' <<<"$out")
	M_P99=$(sed -n 's/.* p99=\([0-9.]*\) .*/\1/p' <<<"$out")
	if [ -z "$M_P50" ] || [ -z "$M_P99" ]; then
		log "$name: rrlat failed:"; tail -n 5 "$WORK/$name.rrlat.log" >&2
		return 1
	fi
	sleep 0.3
}

# measure_ipv6 SCENARIO SETUP: one measurement, its samples; sets LINE
measure_ipv6() {
	local sc=$1 setup=$2 s=$(short "$2") tx rx
	tx=$(ns "$s-tx"); rx=$(ns "$s-rx")
	case "$sc" in
	ipv6-pps)
		measure_pps "ipv6-$setup" "$tx" "$rx" udp6_in || return 1
		sample_pps ipv6-pps "$setup"
		LINE=$(pps_line rx) ;;
	ipv6-lat)
		others_during measure_rrlat "$sc-$setup" "$tx" "$(ns_ip6 "$rx")" || return 1
		sample ipv6-lat-p50 "$setup" "$M_P50" us
		sample ipv6-lat-p99 "$setup" "$M_P99" us
		sample_others ipv6-lat "$setup"
		LINE=$(printf '%10s us p50, %s us p99  (half round trip; other processes: %d%% of a CPU)' \
			"$M_P50" "$M_P99" "$M_OTHERS") ;;
	esac
}
