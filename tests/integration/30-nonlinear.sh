#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Packets whose headers are not in the skb's linear part are forwarded:
# - trafgen sends through a PACKET_TX_RING: the kernel builds those skbs with
#   only the Ethernet header linear, the IP/UDP headers sit in page fragments
#   (checked on 6.18 with a probe program: data_end - data < 34 for every one);
# - GRO on the host end of the veth hands the program aggregated packets.
TEST=nonlinear
. "$(dirname "$0")/lib.sh"
require_bin
require_cmd jq trafgen iperf3 ethtool
mount_bpffs

N=2000

one_node_with_pods a b
pods_ab_vars

# The gateway MAC the pod resolved (answered by the datapath).
ping_ok "$NS_A" "$B" 1 || abort "control ping $A -> $B failed"
gwmac=$(px a ip -j neigh show 169.254.1.1 dev eth0 | jq -r '.[0].lladdr // empty')
amac=$(px a ip -j link show eth0 | jq -r '.[0].address')
[ -n "$gwmac" ] || abort "pod a has no neighbour entry for the gateway"

# 64-byte frame: Ethernet 14 + IPv4 20 + UDP 8 + 22 bytes payload. UDP
# checksum 0 (none) so the receiver needs nothing but a correct IP header.
cfg=$TMPD/udp64.cfg
cat >"$cfg" <<EOF
{
  $(mac_bytes "$gwmac"), $(mac_bytes "$amac"), c16(0x0800),
  0x45, 0x00, c16(50), c16(0), c16(0x4000), 64, 17, csumip(14, 33),
  $(ip_bytes "$A"), $(ip_bytes "$B"),
  c16(40000), c16(9), c16(30), c16(0),
  fill(0x00, 22)
}
EOF

# Received on b: nobody listens on port 9, so each datagram that reaches b's
# UDP layer counts as NoPorts (InDatagrams if something did listen).
udp_rx() { echo $(($(pod_snmp b Udp NoPorts) + $(pod_snmp b Udp InDatagrams))); }

# send_trafgen DEV N: N frames from pod a's DEV; cwd is TMPD because trafgen
# creates its scratch mmap file in the current directory. Never let it tune
# global sysctls or IRQ affinity (--no-sock-mem, --notouch-irq).
send_trafgen() {
	(cd "$TMPD" && timeout 30 nsenter --net="/run/netns/$NS_A" trafgen \
		--no-sock-mem --notouch-irq --no-cpu-stats --cpus 1 \
		--dev eth0 --conf "$cfg" --num "$1" "${@:2}" >/dev/null 2>&1)
}

r0=$(udp_rx)
f0=$(counter fwd_local)
t0=$(counter drop_truncated)
if send_trafgen "$N"; then
	sleep 0.5
	r1=$(udp_rx)
	f1=$(counter fwd_local)
	t1=$(counter drop_truncated)
	got=$((r1 - r0))
	diag "trafgen TX_RING: sent $N, b received $got, fwd_local +$((f1 - f0)), drop_truncated +$((t1 - t0))"
	# A few may be lost in the receiving backlog under a burst; not the
	# program's doing. Headers not pulled would lose them all.
	if [ "$got" -ge $((N * 95 / 100)) ]; then
		pass txring_udp_delivered
	else
		fail txring_udp_delivered "sent $N 64-byte UDP from a TX_RING, b received $got"
	fi
	if [ "$((f1 - f0))" -ge $((N * 95 / 100)) ] && [ "$t1" -eq "$t0" ]; then
		pass txring_counted_fwd_local
	else
		fail txring_counted_fwd_local "fwd_local +$((f1 - f0)) drop_truncated +$((t1 - t0)) for $N frames"
	fi
else
	fail txring_udp_delivered "trafgen failed in pod a"
fi

# Control: the same frames through sendto() (trafgen with a gap) arrive
# linear, so a loss only in the TX_RING case points at header pulling.
r0=$(udp_rx)
if send_trafgen 200 --gap 10us; then
	sleep 0.3
	got=$(($(udp_rx) - r0))
	if [ "$got" -ge 190 ]; then
		pass sendto_udp_delivered
	else
		fail sendto_udp_delivered "sent 200 with trafgen --gap, b received $got"
	fi
else
	fail sendto_udp_delivered "trafgen --gap failed in pod a"
fi

# GRO: the sender segments (no TSO/GSO), the host end of its veth aggregates
# (GRO on veth needs NAPI, which enabling GRO switches on) before tc ingress.
host_a=$(podinfo a host_ifname)
host_b=$(podinfo b host_ifname)
if px a ethtool -K eth0 tso off gso off >/dev/null 2>&1 &&
	ndx ethtool -K "$host_a" gro on >/dev/null 2>&1 &&
	ndx ethtool -K "$host_b" gro on >/dev/null 2>&1; then
	f0=$(counter fwd_local)
	fb0=$(counter_bytes fwd_local)
	if iperf_tcp "$NS_B" "$NS_A" "$B" 2 5301; then
		pass gro_tcp_transfer
		f1=$(counter fwd_local)
		fb1=$(counter_bytes fwd_local)
		pk=$((f1 - f0))
		avg=$(((fb1 - fb0) / (pk > 0 ? pk : 1)))
		diag "GRO: $IPERF_BYTES bytes moved, from_pod saw $pk packets, $avg bytes on average"
		# Segments are at most MTU + 14; an average above that means the
		# program handled aggregated skbs.
		if [ "$avg" -gt 1600 ]; then
			pass gro_aggregates_forwarded
		else
			skip gro_aggregates_forwarded "GRO did not aggregate here (average $avg bytes per packet)"
		fi
	else
		fail gro_tcp_transfer "iperf3 $A -> $B with GRO on the host veths moved nothing"
	fi
else
	skip gro_tcp_transfer "cannot toggle tso/gso/gro with ethtool on the veths"
fi

finish
