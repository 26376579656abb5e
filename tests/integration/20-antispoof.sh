#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Anti-spoofing: a pod that sends with a source IP or source MAC that is not
# its own reaches nobody, and each drop is counted by reason. Also: a packet to
# an unused pod-CIDR address is dropped as having no endpoint.
# Delivery is measured where it would land: the destination pod's own ICMP
# counters (/proc/net/snmp inside its namespace).
TEST=antispoof
. "$(dirname "$0")/lib.sh"
require_bin
require_cmd jq
mount_bpffs

one_node_with_pods a b c
A=$(pod_ip a)
B=$(pod_ip b)
C=$(pod_ip c)
NS_A=$(pod_ns a)
diag "pods a=$A b=$B c=$C"

# Control: a -> b works, so the failures below are the drops, nothing else.
ping_ok "$NS_A" "$B" 2 || abort "control ping $A -> $B failed"

# spoof_case NAME COUNTER SRC-ARG: ping b from a with ping's extra args,
# expect no echo to reach b and COUNTER to grow by the packets sent.
spoof_case() {
	local name=$1 reason=$2
	shift 2
	local c0 e0 c1 e1
	c0=$(counter "$reason")
	e0=$(pod_snmp b Icmp InEchos)
	ping_none "$NS_A" "$B" 5 "$@"
	e1=$(pod_snmp b Icmp InEchos)
	c1=$(counter "$reason")
	if [ "$e1" -eq "$e0" ]; then
		pass "${name}_not_delivered"
	else
		fail "${name}_not_delivered" "pod b received $((e1 - e0)) spoofed echo requests"
	fi
	if [ "$((c1 - c0))" -ge 5 ]; then
		pass "${name}_counted"
	else
		fail "${name}_counted" "$reason +$((c1 - c0)), want >= 5"
	fi
}

# 1. source IP from the pod CIDR that belongs to nobody
px a ip addr add 10.244.1.250/32 dev eth0 || abort "cannot add address in pod a"
spoof_case spoof_unused_ip drop_spoof_ip -I 10.244.1.250
px a ip addr del 10.244.1.250/32 dev eth0

# 2. source IP of another pod on the same node (c): the attack that matters
px a ip addr add "$C/32" dev eth0 || abort "cannot add address in pod a"
spoof_case spoof_other_pod_ip drop_spoof_ip -I "$C"
px a ip addr del "$C/32" dev eth0
# c itself was not hurt by a's attempt
check other_pod_unaffected "pod c cannot reach b after a spoofed c's address" \
	ping_ok "$(pod_ns c)" "$B" 2

# 3. source IP outside every CIDR (the node address, say)
px a ip addr add 203.0.113.9/32 dev eth0 || abort "cannot add address in pod a"
spoof_case spoof_foreign_ip drop_spoof_ip -I 203.0.113.9
px a ip addr del 203.0.113.9/32 dev eth0

# 4. right IP, wrong source MAC. A permanent neighbour entry for the gateway,
# set after the MAC change (which flushes the neighbour table), keeps the
# kernel from re-resolving it: that ARP would be dropped as drop_spoof_arp and
# no IP packet would be sent at all.
gwmac=$(px a ip -j neigh show 169.254.1.1 dev eth0 | jq -r '.[0].lladdr // empty')
mac=$(px a ip -j link show eth0 | jq -r '.[0].address')
if [ -z "$gwmac" ]; then
	fail spoof_mac_setup "pod a has no neighbour entry for the gateway"
else
	if px a ip link set eth0 address 02:00:5e:00:be:ef &&
		px a ip neigh replace 169.254.1.1 lladdr "$gwmac" dev eth0 nud permanent; then
		spoof_case spoof_mac drop_spoof_mac
		px a ip link set eth0 address "$mac"
		px a ip neigh replace 169.254.1.1 lladdr "$gwmac" dev eth0 nud permanent
		check mac_restored_works "ping with the real MAC again failed" \
			ping_ok "$NS_A" "$B" 2
	else
		fail spoof_mac_setup "cannot change eth0 MAC inside pod a"
	fi
	px a ip neigh del 169.254.1.1 dev eth0 2>/dev/null
fi

# 5. ARP claiming another pod's address is not answered for the gateway
# (the kernel ARPs from the spoofed address when it is the ping source)
px a ip neigh flush all >/dev/null 2>&1
px a ip addr add "$C/32" dev eth0
c0=$(counter drop_spoof_arp)
px a ip route replace default via 169.254.1.1 dev eth0 src "$C" 2>/dev/null
ping_none "$NS_A" "$B" 3 -I "$C"
c1=$(counter drop_spoof_arp)
px a ip route replace default via 169.254.1.1 dev eth0
px a ip addr del "$C/32" dev eth0
if [ "$((c1 - c0))" -ge 1 ]; then
	pass spoof_arp_counted
else
	fail spoof_arp_counted "drop_spoof_arp +$((c1 - c0)) after ARP from a with sender $C"
fi
check ping_after_spoof_arp "pod a cannot reach b after the spoofed ARP" ping_ok "$NS_A" "$B" 2

# 6. unused address in the pod CIDR: no endpoint
c0=$(counter drop_no_endpoint)
ping_none "$NS_A" 10.244.1.251 4
c1=$(counter drop_no_endpoint)
if [ "$((c1 - c0))" -ge 4 ]; then
	pass no_endpoint_counted
else
	fail no_endpoint_counted "drop_no_endpoint +$((c1 - c0)), want >= 4"
fi

# 7. counters carry the drop flag and show in the text form too
txt=$(bl stats)
if echo "$txt" | grep -qE '^drop_spoof_ip[[:space:]]+[0-9]+[[:space:]]+[0-9]+[[:space:]]+drop' &&
	[ "$(bl stats --json | jq -r '.counters.drop_spoof_ip.drop')" = true ] &&
	[ "$(bl stats --json | jq -r '.counters.fwd_local.drop')" = false ]; then
	pass stats_format
else
	fail stats_format "stats text/json not as in interfaces.md: $(echo "$txt" | head -3)"
fi

finish
