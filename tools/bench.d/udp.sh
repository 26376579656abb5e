# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench: 64-byte UDP packets per second with trafgen. Sourced by
# tools/bench.
#
# Sender: trafgen (netsniff-ng) with one worker, which trafgen itself pins to
# CPU 0 (it sets the affinity of worker i to CPU i, overriding taskset), with
# the default PACKET_QDISC_BYPASS path. On veth, everything a packet costs
# (sender veth, tc/bridge/netfilter/NAT, receiver IP+UDP stack) runs in
# softirq on that same CPU, so the rate measures the per-packet cost of the
# whole path. The counters are sampled from the other CPU.
#
# What is counted: rx_packets of the receiving eth0 (the pod's for pod to pod,
# ext's through SNAT), i.e. packets that the datapath delivered (not packets
# sent: a datapath that drops is not rewarded). The progress line also shows
# the receiver's UDP-layer count (Udp NoPorts + InDatagrams of its netns).
#
# Destination port 9: nothing listens on it. A listening sink would add a
# copy to user space per packet and a process competing for the CPUs; a
# closed port makes the receiver's UDP stack look the socket up and free the
# packet. The ICMP port-unreachable answers this triggers are capped by the
# receiver netns's own ICMP rate limiter (net.ipv4.icmp_ratelimit=1000 ms per
# peer, icmp_msgs_per_sec=1000, icmp_ratemask including dest-unreachable):
# in practice about one reply per second, so the reverse path carries no
# load. These per-netns values are set explicitly in the receiver (never
# icmp_ratemask=0, which would *disable* the limit and answer every packet).
#
# Other load: the CPU that is not the sender's should be idle, so its busy
# time is other work on the machine; it is a sample of its own (METRIC.busy)
# and goes into the report.

SENDER_CPU=0		# trafgen pins its single worker to CPU 0 by itself

hexmac() { echo "0x${1//:/, 0x}"; }
hexip() { local IFS=.; set -- $1; printf '%d, %d, %d, %d' "$1" "$2" "$3" "$4"; }

# trafgen_cfg NAME TXNS DIP SPORT: check that the sender reaches DIP with
# ping and write the trafgen config WORK/NAME.cfg. The frame's destination MAC
# is the sender's real next hop for DIP (peer, bridge neighbour or the
# bridgeless gateway answered in BPF), found the way the pod's own stack
# finds it.
trafgen_cfg() {
	local name=$1 tx=$2 dip=$3 sport=$4 sip smac gw dmac
	sip=$(ns_ip "$tx")
	[ -n "$sip" ] || { log "$name: no address on eth0 of $tx"; return 1; }
	ip netns exec "$tx" ping -c 2 -i 0.2 -W 1 "$dip" >/dev/null ||
		{ log "$name: ping $sip -> $dip fails"; return 1; }
	gw=$(ip -n "$tx" -j route get "$dip" | jq -r '.[0].gateway // .[0].dst')
	dmac=$(ip -n "$tx" -j neigh show "$gw" dev eth0 | jq -r '.[0].lladdr // empty')
	smac=$(ip -n "$tx" -j link show eth0 | jq -r '.[0].address')
	[ -n "$dmac" ] || { log "$name: no neighbour entry for $gw"; return 1; }
	# 64-byte frame on the wire of the veth (no FCS on veth): Ethernet 14 +
	# IPv4 20 + UDP 8 + 22 bytes payload. UDP checksum 0 (none, valid in
	# IPv4), so the frame is static and trafgen does no per-packet work.
	cat >"$WORK/$name.cfg" <<EOF
{
  $(hexmac "$dmac"), $(hexmac "$smac"), c16(0x0800),
  0x45, 0x00, c16(50), c16(0), c16(0x4000), 64, 17, csumip(14, 33),
  $(hexip "$sip"), $(hexip "$dip"),
  c16($sport), c16(9), c16(30), c16(0),
  fill(0x42, 22)
}
EOF
	log "$name: $sip:$sport ($smac) -> $dip:9 via $gw ($dmac)"
}

# icmp_defaults NETNS: the receiver's ICMP limiter at its defaults, see above
icmp_defaults() {
	ip netns exec "$1" sysctl -q -w net.ipv4.icmp_ratelimit=1000 \
		net.ipv4.icmp_msgs_per_sec=1000 net.ipv4.icmp_ratemask=6168
}

rx_packets() {	# rx_packets NETNS: rx of its eth0
	taskset -c "$SAMPLE_CPU" ip -n "$1" -s -j link show dev eth0 |
		jq '.[0].stats64.rx.packets'
}
udp_in() {
	nsenter --net="/run/netns/$1" awk '/^Udp:/ { if (h) { print $2 + $3; exit } h = 1 }' \
		/proc/net/snmp
}

# measure_pps CFG TXNS RXNS: sets M_PPS (eth0 rx of RXNS), M_UDP (reached
# UDP) and M_BUSY (other work). Runs in the main shell, not a subshell, so
# that the EXIT trap knows the sender's PID.
measure_pps() {
	local cfg=$1 tx=$2 rx=$3 c0 c1 u0 u1 t0 t1 j0 j1
	ip netns exec "$tx" taskset -c "$SENDER_CPU" trafgen --dev eth0 \
		--conf "$WORK/$cfg.cfg" --cpus 1 --no-sock-mem --notouch-irq \
		>"$WORK/$cfg.trafgen.log" 2>&1 &
	TG_PID=$!
	sleep "$warmup"
	if ! kill -0 "$TG_PID" 2>/dev/null; then
		wait "$TG_PID"; TG_PID=""
		log "$cfg: trafgen exited early:"; cat "$WORK/$cfg.trafgen.log" >&2
		return 1
	fi
	# Same sampling order at both ends, so both windows last t1 - t0.
	t0=$(now); c0=$(rx_packets "$rx"); u0=$(udp_in "$rx"); j0=$(cpu_jiffies)
	sleep "$seconds"
	t1=$(now); c1=$(rx_packets "$rx"); u1=$(udp_in "$rx"); j1=$(cpu_jiffies)
	stop_sender
	sleep 0.3	# let queues drain before the next setup
	set -- $(awk -v c0="$c0" -v c1="$c1" -v u0="$u0" -v u1="$u1" \
		-v t0="$t0" -v t1="$t1" -v j0="$j0" -v j1="$j1" 'BEGIN {
		d = t1 - t0; split(j0, a, " "); split(j1, b, " ")
		busy = b[2] > a[2] ? 100 * (b[1] - a[1]) / (b[2] - a[2]) : 0
		printf "%.0f %.0f %.0f\n", (c1 - c0) / d, (u1 - u0) / d, busy }')
	M_PPS=$1 M_UDP=$2 M_BUSY=$3
}

# sample_pps METRIC SETUP: the last measure_pps's figures as samples
sample_pps() {
	sample "$1" "$2" "$M_PPS" pps
	sample "$1.udp" "$2" "$M_UDP" pps
	sample "$1.busy" "$2" "$M_BUSY" %
}

# pps_line WHERE: the progress text of the last measure_pps
pps_line() {
	printf '%10s pps at %s eth0 rx  (%s reached UDP; other work: CPU %d %d%% busy)' \
		"$M_PPS" "$1" "$M_UDP" "$SAMPLE_CPU" "$M_BUSY"
}
