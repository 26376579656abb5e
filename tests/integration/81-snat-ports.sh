#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# SNAT port range and table: a two-port range runs out (the next flow is
# dropped with "nat: no free port", counted and visible), live mappings are
# never taken away, and after the flows close and `nat gc` runs a new flow
# works again. NAT ports inside the host's ephemeral range are reserved.
# node init's NAT options are validated; --masquerade off leaves pod traffic
# to the host stack.
TEST=snat_ports
. "$(dirname "$0")/lib.sh"
require_bin
require_cmd jq bpftool perl
mount_bpffs

SRV=203.0.113.10

make_ext_and_node n1 || abort "topology"
node_init n1 10.244.1.0/24 --nat-ports 61000-61001 --nat-max 1024 >/dev/null ||
	abort "node init --nat-ports 61000-61001 --nat-max 1024 failed"
ip -n "$EXT" addr add "$SRV/32" dev lo || abort "server address in ext"
mkpod c >/dev/null || abort "pod add c failed"
C=$(pod_ip c)
NS_C=$(pod_ns c)
diag "pod c=$C"

# --- what init recorded --------------------------------------------------------

# The LRU is per CPU (BPF_F_NO_COMMON_LRU = 2): the kernel sizes the table
# to a multiple of the possible CPUs, and init rounds --nat-max the same way.
CPUS=$(possible_cpus)
rounded() { echo $(( ($1 + CPUS - 1) / CPUS * CPUS )); }

got=$(bl node status --json | jq -c '{masquerade, nat_port_min, nat_port_max, nat_max}')
check status_nat_options "node status --json: $got" \
	[ "$got" = "{\"masquerade\":true,\"nat_port_min\":61000,\"nat_port_max\":61001,\"nat_max\":$(rounded 1024)}" ]
info=$(timeout 10 bpftool -j map show pinned "$PIN/nat" 2>/dev/null | jq -c '{type, max_entries, flags}')
check nat_table_sized "nat map: $info" \
	[ "$info" = "{\"type\":\"lru_hash\",\"max_entries\":$(rounded 1024),\"flags\":2}" ]

# --- helpers ---------------------------------------------------------------------

# hold_conn NAME: a connection from pod c to SRV:7777 that echoes once
# ($TMPD/NAME.ok) and stays open until $TMPD/release exists, then closes
hold_conn() {
	bg_in "$NS_C" 120 bash -c '
		exec 3<>"/dev/tcp/$1/7777" || exit 1
		echo hi >&3
		read -r -t 3 r <&3 && [ "$r" = hi ] && touch "$2.ok"
		while [ ! -e "$3" ]; do sleep 0.1; done
		exec 3>&-
		sleep 2' _ "$SRV" "$TMPD/$1" "$TMPD/release"
}

# wait_file PATH: up to 5 s
wait_file() {
	local i
	for i in $(seq 50); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

tcp_mappings() {
	bl nat list --json | jq --arg r "$SRV:7777" '[.[] | select(.protocol == "tcp" and .remote == $r)] | length'
}

# --- exhaustion --------------------------------------------------------------------

tcp_echo_server "$EXT" "$SRV" 7777 || abort "echo server 7777 in ext"
tcp_echo_server "$EXT" "$SRV" 7778 || abort "echo server 7778 in ext"
hold_conn c1
hold_conn c2
if wait_file "$TMPD/c1.ok" && wait_file "$TMPD/c2.ok"; then
	pass two_flows_fill_range
else
	fail two_flows_fill_range "held connections: c1 $([ -e "$TMPD/c1.ok" ] && echo ok || echo failed), c2 $([ -e "$TMPD/c2.ok" ] && echo ok || echo failed)"
fi
nodes=$(bl nat list --json | jq -r --arg r "$SRV:7777" '[.[] | select(.remote == $r) | .node] | sort | join(" ")')
check range_ports_used "node ports towards $SRV:7777: '$nodes'" \
	[ "$nodes" = "198.51.100.2:61000 198.51.100.2:61001" ]

d0=$(counter drop_nat_no_port)
if tcp_echo "$NS_C" "$SRV" 7777; then
	fail third_flow_dropped "a third connection to $SRV:7777 worked with a two-port range"
else
	pass third_flow_dropped
fi
d1=$(counter drop_nat_no_port)
check no_port_counted "drop_nat_no_port +$((d1 - d0)), want >= 1" [ "$((d1 - d0))" -ge 1 ]
line=$(bl stats | grep '^drop_nat_no_port ')
if echo "$line" | grep -qE '^drop_nat_no_port +[1-9][0-9]* +[1-9][0-9]* +nat: no free port$'; then
	pass no_port_in_stats
else
	fail no_port_in_stats "stats line: '$line'"
fi
isdrop=$(bl stats --json | jq -r '.counters.drop_nat_no_port.drop')
check no_port_is_drop "stats --json drop_nat_no_port.drop = $isdrop" [ "$isdrop" = true ]

# ports are per remote: another server port, and ICMP, still have room
check other_remote_port_works "connection to $SRV:7778 failed while 7777 is full" \
	tcp_echo "$NS_C" "$SRV" 7778
check icmp_unaffected "ping $C -> $SRV failed while TCP to it is full" ping_ok "$NS_C" "$SRV" 2

# gc while the flows are open: nothing live is taken away
out=$(bl nat gc 2>&1)
diag "$out"
n=$(tcp_mappings)
check gc_keeps_live "after nat gc with open flows: $n mappings to $SRV:7777 ($out)" [ "$n" = 2 ]
if tcp_echo "$NS_C" "$SRV" 7777; then
	fail still_full_after_gc "a third connection worked after gc while two are open"
else
	pass still_full_after_gc
fi

# close both: FIN both ways, the closing timeout (10 s) applies
touch "$TMPD/release"
sleep 1
out=$(bl nat gc 2>&1)
n=$(tcp_mappings)
check gc_waits_closing_timeout "right after close: $n mappings to $SRV:7777 ($out)" [ "$n" = 2 ]
sleep 11
out=$(bl nat gc 2>&1)
diag "$out"
n=$(tcp_mappings)
expired=$(echo "$out" | sed -n 's/.*, \([0-9]*\) mappings expired.*/\1/p')
if [ "$n" = 0 ] && [ "${expired:-0}" -ge 2 ] && echo "$out" | grep -q '^nat gc: '; then
	pass gc_expires_closed
else
	fail gc_expires_closed "after close + 11 s: $n mappings to $SRV:7777, gc said: $out"
fi
check new_flow_after_gc "connection to $SRV:7777 after gc failed" tcp_echo "$NS_C" "$SRV" 7777

# --- NAT ports inside the host's ephemeral range are reserved ----------------------

make_ext_and_node n2 || abort "topology n2"
range=$(ndx n2 cat /proc/sys/net/ipv4/ip_local_port_range | tr -s ' \t' ' ')
res0=$(ndx n2 cat /proc/sys/net/ipv4/ip_local_reserved_ports)
diag "n2 ephemeral range '$range', reserved '$res0'"
if node_init n2 10.244.2.0/24 --nat-ports 50000-50099 >/dev/null; then
	res=$(ndx n2 cat /proc/sys/net/ipv4/ip_local_reserved_ports)
	check reserved_ports_set "ip_local_reserved_ports in n2: '$res'" \
		eval 'echo ",$res," | grep -q ",50000-50099,"'
	bln n2 node reset >/dev/null
	res=$(ndx n2 cat /proc/sys/net/ipv4/ip_local_reserved_ports)
	check reserved_ports_restored "after node reset: '$res', was '$res0'" [ "$res" = "$res0" ]
else
	fail reserved_ports_set "node init --nat-ports 50000-50099 failed"
fi
# the default range lies above the default ephemeral range: nothing reserved
if node_init n2 10.244.2.0/24 >/dev/null; then
	res=$(ndx n2 cat /proc/sys/net/ipv4/ip_local_reserved_ports)
	rng=$(bln n2 node status --json | jq -c '[.nat_port_min, .nat_port_max]')
	check default_range_not_reserved "default range $rng, reserved '$res'" \
		eval '[ "$res" = "$res0" ] && [ "$rng" = "[61000,65535]" ]'
	bln n2 node reset >/dev/null
else
	fail default_range_not_reserved "node init n2 failed"
fi

# --- option validation (fresh node: a failure leaves nothing) -------------------------

make_ext_and_node n3 || abort "topology n3"
bad() {
	local name=$1 want=$2
	shift 2
	local err rc
	err=$(node_init n3 10.244.3.0/24 "$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc = 1 ] && [ "$(echo "$err" | wc -l)" = 1 ] &&
		echo "$err" | grep -q "^bridgeless: .*$want" &&
		[ ! -e "$(pin_of n3)/nat" ]; then
		pass "$name"
	else
		fail "$name" "node init $*: rc $rc, '$err' (want 1 and one line matching '$want')"
	fi
}
bad init_nat_ports_reversed 'nat-ports.*61001-61000' --nat-ports 61001-61000
bad init_nat_ports_garbage 'nat-ports.*lots' --nat-ports lots
bad init_nat_ports_too_big 'nat-ports.*70000' --nat-ports 61000-70000
bad init_nat_max_too_small 'nat-max.*3' --nat-max 3
bad init_masquerade_garbage 'masquerade.*maybe' --masquerade maybe
bad init_no_masquerade_host_bits 'no-masquerade.*10.0.0.1/8' --no-masquerade 10.0.0.1/8
bad init_no_masquerade_garbage 'no-masquerade.*nonsense' --no-masquerade nonsense

# --- masquerade off: the host stack gets it, no NAT happens --------------------------

if node_init n3 10.244.3.0/24 --masquerade off >/dev/null && mkpod_on n3 d >/dev/null; then
	m=$(bln n3 node status --json | jq -r .masquerade)
	check masquerade_off_status "node status masquerade: $m" [ "$m" = false ]
	h0=$(counter pass_host n3)
	# ext has no route back to 10.244.3.0/24 and the node ns no iptables
	# MASQUERADE: nothing can come back
	check masquerade_off_no_nat "ping from pod d -> $SRV answered with masquerade off" \
		ping_none "$(pod_ns d)" "$SRV" 2
	h1=$(counter pass_host n3)
	check masquerade_off_pass_host "pass_host +$((h1 - h0)), want >= 2" [ "$((h1 - h0))" -ge 2 ]
	n=$(bln n3 nat list --json | jq length)
	check masquerade_off_no_mappings "nat list has $n mappings" [ "$n" = 0 ]
else
	fail masquerade_off_status "node init --masquerade off / pod add failed"
fi

# --- a size that is no multiple of the CPUs: rounded up, the same again ----------

make_ext_and_node n4 || abort "topology n4"
want=$(rounded 1001)
if node_init n4 10.244.4.0/24 --nat-max 1001 >/dev/null; then
	got=$(timeout 10 bpftool -j map show pinned "$(pin_of n4)/nat" 2>/dev/null | jq .max_entries)
	check nat_max_rounded_to_cpus "nat map max_entries $got, want $want ($CPUS CPUs)" [ "$got" = "$want" ]
	err=$(node_init n4 10.244.4.0/24 --nat-max 1001 2>&1 >/dev/null)
	check nat_max_rounded_reinit "node init again with --nat-max 1001: '$err'" [ -z "$err" ]
else
	fail nat_max_rounded_to_cpus "node init --nat-max 1001 failed"
fi

# --- a NAT table with the shared LRU (an older bridgeless): init refuses -----------

# Swap n4's pinned table for one made the old way (flags 0); the programs
# keep theirs. Init must refuse with one clear line and change nothing.
P4=$(pin_of n4)
if rm -f "$P4/nat" && bpftool map create "$P4/nat" type lru_hash key 16 value 64 \
	entries 1024 name nat >/dev/null 2>&1; then
	progs0=$(ls "$P4" | sort | tr '\n' ' ')
	err=$(node_init n4 10.244.4.0/24 2>&1 >/dev/null)
	rc=$?
	progs1=$(ls "$P4" | sort | tr '\n' ' ')
	flags=$(timeout 10 bpftool -j map show pinned "$P4/nat" 2>/dev/null | jq .flags)
	ok=0
	[ $rc = 1 ] && [ "$(echo "$err" | wc -l)" = 1 ] &&
		echo "$err" | grep -q "shared LRU.*node reset" && ok=1
	check init_refuses_shared_lru_table "rc $rc, '$err'" [ $ok = 1 ]
	check init_refusal_changes_nothing "pins '$progs0' -> '$progs1', nat flags $flags" \
		[ "$progs0|$flags" = "$progs1|0" ]
	bln n4 node reset >/dev/null 2>&1
	err=$(node_init n4 10.244.4.0/24 2>&1 >/dev/null)
	flags=$(timeout 10 bpftool -j map show pinned "$P4/nat" 2>/dev/null | jq .flags)
	check init_after_reset_per_cpu_lru "node init after reset: '$err', nat flags $flags" \
		[ "$err|$flags" = "|2" ]
else
	fail init_refuses_shared_lru_table "could not pin an old-style NAT table"
fi

finish
