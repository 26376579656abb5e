# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench --services: pod -> ClusterIP, a run of its own. Sourced by
# tools/bench, which hands over to svc_main when --services is given.
#
# Four setups, side by side, each a node netns with a client pod (cl,
# 10.244.1.10) and two backend pods (be1 10.244.1.2, be2 10.244.1.3) on it:
#
#   bridge-iptables        the reference CNI bridge plugin (host-local,
#                          ipMasq, isGateway, bridge-nf-call-iptables=1, as
#                          Kubernetes nodes run it) with kube-proxy's
#                          iptables rules (how most clusters run)
#   bridge-nftables        the same bridge with kube-proxy's nftables rules
#   bridgeless-kube-proxy  bridgeless without a BPF service table: the
#                          service CIDR goes to the host stack, where
#                          kube-proxy's iptables rules translate it
#   bridgeless-bpf         bridgeless with the agent given the services file
#                          (--services): ClusterIPs load-balanced in BPF,
#                          kube-proxy's iptables rules still loaded beside it
#
# and, with bridgeless-bpf, a control: bridgeless-pod-ip, the same client
# on the same node connecting to the backends' pod IPs (no service at all;
# port 8096, see svc-cps below), measured for conn/s in the same rounds.
# The machine's other load drifts over the minutes between the sizes; the
# control drifts with it, so bridgeless-bpf's conn/s as a share of the
# control's, round by round, is what the service path itself costs at each
# size (the flatness target is read from it; the raw figures are in the
# report too).
#
# The iptables here is Debian's default, iptables-nft (iptables rules as
# nf_tables rules, walked one by one as iptables-legacy walks them).
#
# At each size (--sizes, default 100, 1000 and 10000 Services; --quick
# 100 and 10000) the services come from `tools/kube-proxy-rules --generate`
# (one TCP port 80 each, 2 ready endpoints: be1 and be2 on targetPort 8080),
# the 16 the connections go to on 8080 + k instead (k = 0..15, see
# svc-cps), the last one on 11111 (sockperf's). The same
# list is the agent's --services file and the input of kube-proxy-rules for
# the rules in kube-proxy v1.31's shapes: iptables-restore of the whole
# file (the filter, nat and mangle tables replaced), then the node's own
# rules from before (the bridge plugin's ipMasq chains) again with
# --noflush, after kube-proxy's jumps as on a node where kube-proxy inserted
# them at its start (kube-proxy itself restores with --noflush, which
# iptables-nft 1.8.9 takes minutes for at 10,000 services); nft -f of the
# nftables table (which replaces the last one). Loading takes time (nft:
# about a minute for 10,000 services here), so it happens once per size for
# all setups at once (the iptables loads one after the other while nft
# loads), and each load's time is a sample (svc-load@N).
#
# Measured at each size, alternating between the setups (A B C D A B C D)
# for --rounds rounds (default 5 of 3 s; --quick 2 of 2 s), client on CPU 0,
# servers on CPU 1:
#
#   svc-cps@N   new TCP connections per second with tools/connrate: 32 in
#               flight, each connect, 1 byte, the server closes, close;
#               to 16 services spread evenly over the table (the
#               ((k + 1/2) / 16)-th of it, k = 0..15, in turn): iptables
#               walks KUBE-SERVICES rule by rule for each new connection,
#               and these services sit where an average one sits. Every
#               connection has a 5-tuple of its own (connrate -i continues
#               over the rounds), so each is a new conntrack entry or BPF
#               service flow; and one of its own at the backend too, which
#               sees client:port -> backend:targetPort whichever cluster IP
#               the client chose: so each of the 16 services has a
#               targetPort of its own. (With one targetPort for all, a
#               backend met the same 4-tuple again every ~56,000
#               connections, in TIME_WAIT (the server closes first: 60 s),
#               with the client's TCP timestamps of another cluster IP
#               (Linux offsets them per address pair): PAWS refused about
#               half of those SYNs, each stalling a connection for the
#               client's 1 s SYN retransmission, whatever the datapath.)
#   svc-lat-p50@N, svc-lat-p99@N   TCP request/response latency, sockperf
#               ping-pong (one connection, 12-byte messages, one in flight)
#               to the last service: microseconds of sockperf's own figure,
#               half the round trip. One established connection: what each
#               packet pays (conntrack, the bridge, BPF), not the rule walk.
#
# and, for bridgeless-bpf, the agent: the time from the services file's
# rename to its log line saying the table is in the maps (its own figure for
# the sync beside it), and once, after the last size, an agent started on
# that size's file with empty maps: start -> maps synced, peak RSS (VmHWM)
# and CPU, against an agent on an empty table (svc-agent).
#
# Other load: the CPU time of processes this script did not start, beside
# each sample (as the main bench's TCP runs). Conntrack: its drops in the
# node netns over each connection run are a sample too (the machine's
# nf_conntrack_max holds per netns; a bench must not raise it).

SVC_SETUPS_ALL="bridge-iptables,bridge-nftables,bridgeless-kube-proxy,bridgeless-bpf"
SVC_TARGETS=16
SVC_PORT=80
SVC_CONN_PORT=8080
SVC_LAT_PORT=11111
SVC_CONTROL_PORT=$((SVC_CONN_PORT + SVC_TARGETS))	# the control's, after the targets' ports
SVC_CIDR=10.96.0.0/12
SVC_POD_CIDR=10.244.1.0/24
SVC_CLUSTER_CIDR=10.244.0.0/16
SVC_CL_IP=10.244.1.10
SVC_BE_IPS="10.244.1.2 10.244.1.3"
SVC_NODE_NAME=node1
KPR=$repo/tools/kube-proxy-rules

svc_short() {
	case $1 in
	bridge-iptables) echo si ;; bridge-nftables) echo sn ;;
	bridgeless-kube-proxy) echo sk ;; bridgeless-bpf | bridgeless-pod-ip) echo sb ;;
	esac
}
SVC_CONTROL=bridgeless-pod-ip
svc_is_bridge() { case $1 in bridge-*) return 0 ;; esac; return 1; }
svc_mode() { [ "$1" = bridge-nftables ] && echo nftables || echo iptables; }
svc_node() { ns "$(svc_short "$1")-node"; }
svc_pin() { echo "$PIN-$(svc_short "$1")"; }
svc_state() { echo "$STATE-$(svc_short "$1")"; }
svc_bl() {
	local s=$1
	shift
	nsenter --net="/run/netns/$(svc_node "$s")" "$BRIDGELESS" --pin-dir "$(svc_pin "$s")" \
		--state-dir "$(svc_state "$s")" "$@"
}
# svc_ip INDEX: the cluster IP of generated service INDEX (network + 16 + i)
svc_ip() { local v=$((16 + $1)); echo "10.96.$((v / 256)).$((v % 256))"; }
# svc_target_index N K: the index of the K-th service the connections go to
# (of the N - 1 before the latency service, the ((K + 1/2) / 16)-th)
svc_target_index() { echo $(( (2 * $2 + 1) * ($1 - 1) / (2 * SVC_TARGETS) )); }
# svc_targets N: the cluster IPs the connections go to, comma-separated
svc_targets() {
	local n=$1 k out=""
	for ((k = 0; k < SVC_TARGETS; k++)); do
		out="$out${out:+,}$(svc_ip "$(svc_target_index "$n" "$k")")"
	done
	echo "$out"
}

svc_usage() {
	cat <<'EOF'
Usage: tools/bench --services [--quick] [--sizes LIST] [--rounds N] [--seconds S]
                   [--setups LIST] [--inflight N] [--docs DIR | --no-docs]
       tools/bench --services --report-only [DIR] [--docs DIR | --no-docs]
  --quick          2 rounds of 2 s at 100 and 10000 services (about 5 minutes)
  --sizes LIST     service counts, increasing (default 100,1000,10000)
  --rounds N       rounds per size (default 5)
  --seconds S      seconds per measurement (default 3)
  --setups LIST    subset of bridge-iptables,bridge-nftables,
                   bridgeless-kube-proxy,bridgeless-bpf
  --inflight N     connections in flight (default 32)
  --docs DIR       where BENCHMARKS-SERVICES.md and its chart go (default docs/)
  --no-docs        only build/bench-services-result.txt
  --report-only [DIR]  measure nothing: the report from DIR (default
                   build/bench-services)
Samples: build/bench-services/raw.tsv and meta.tsv (samples.sh), the report
by tools/bench-report.
EOF
	exit "${1:-0}"
}

# ------------------------------------------------------------ setups

# svc_conf SETUP: the bridge plugin's network for a bridge setup
svc_conf() {
	cat <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$P-$1",
  "type": "bridge",
  "bridge": "cni0",
  "isGateway": true,
  "ipMasq": true,
  "ipam": {
    "type": "host-local",
    "ranges": [ [ { "subnet": "$SVC_POD_CIDR" } ] ],
    "routes": [ { "dst": "0.0.0.0/0" } ],
    "dataDir": "$IPAM/$1"
  }
}
EOF
}

# svc_pod_ip POD: its address
svc_pod_ip() {
	case $1 in cl) echo "$SVC_CL_IP" ;; be1) set -- $SVC_BE_IPS; echo "$1" ;;
	be2) set -- $SVC_BE_IPS; echo "$2" ;; esac
}

svc_setup_bridge() {
	local s=$1 x=$(svc_short "$1") pod out
	modprobe br_netfilter 2>/dev/null	# may be built in
	mkns "$x-node" || return 1
	for pod in be1 be2 cl; do
		mkns "$x-$pod" || return 1
		out=$(svc_conf "$s" | nsenter --net="/run/netns/$(ns "$x-node")" env \
			CNI_COMMAND=ADD CNI_CONTAINERID="$P-$x-$pod" \
			CNI_NETNS="/run/netns/$(ns "$x-$pod")" CNI_IFNAME=eth0 \
			CNI_ARGS="IgnoreUnknown=1;IP=$(svc_pod_ip $pod)" \
			CNI_PATH="$CNI_DIR" "$CNI_DIR/bridge" 2>&1) ||
			{ log "$s: CNI ADD $pod failed: $out"; return 1; }
	done
	bridge_nf "$x-node" 1
}

svc_setup_bridgeless() {
	local s=$1 x=$(svc_short "$1") pod out bpf=off
	[ "$s" = bridgeless-bpf ] && bpf=on
	mkns "$x-node" && mkns "$x-ext" || return 1
	ip -n "$(ns "$x-node")" link add uplink type veth peer name eth0 netns "$(ns "$x-ext")" &&
	ip -n "$(ns "$x-ext")" addr add "$EXT_IP/24" dev eth0 &&
	ip -n "$(ns "$x-ext")" link set eth0 up &&
	ip -n "$(ns "$x-node")" addr add "$NODE_IP/24" dev uplink &&
	ip -n "$(ns "$x-node")" link set uplink up || return 1
	out=$(svc_bl "$s" node init --uplink uplink --pod-cidr "$SVC_POD_CIDR" \
		--cluster-cidr "$SVC_CLUSTER_CIDR" --bpf-services "$bpf" 2>&1) ||
		{ log "$s: node init failed: $out"; return 1; }
	SVC_BL_INIT="$SVC_BL_INIT $s"
	for pod in be1 be2 cl; do
		mkns "$x-$pod" || return 1
		out=$(svc_bl "$s" pod add "$P-$x-$pod" --netns "$(ns "$x-$pod")" \
			--ip "$(svc_pod_ip $pod)" 2>&1) ||
			{ log "$s: pod add $pod failed: $out"; return 1; }
	done
}

# svc_own_rules SETUP: the node's iptables rules before kube-proxy's (the
# bridge plugin's), to be put back after each of kube-proxy's loads
svc_own_rules() {
	[ "$(svc_mode "$1")" = iptables ] || return 0
	ip netns exec "$(svc_node "$1")" iptables-save >"$WORK/$1-own.ipt" || return 1
	grep -q '^-A ' "$WORK/$1-own.ipt" || : >"$WORK/$1-own.ipt"
}

SVC_AGENT_PID=""
SVC_AGENT_LOG=""
# svc_agent_start LOG FILE [agent args]: the bridgeless-bpf node's agent
svc_agent_start() {
	local log=$1 file=$2
	shift 2
	: >"$log"
	nsenter --net="/run/netns/$(svc_node bridgeless-bpf)" "$BRIDGELESS" \
		--pin-dir "$(svc_pin bridgeless-bpf)" --state-dir "$(svc_state bridgeless-bpf)" \
		agent --config /dev/null --node-name "$SVC_NODE_NAME" --services "$file" \
		--metrics off "$@" 2>"$log" &
	SVC_AGENT_PID=$!
	SVC_AGENT_LOG=$log
}
svc_agent_stop() {
	stop_pid "$SVC_AGENT_PID"
	SVC_AGENT_PID=""
}
# svc_wait_log LOG REGEX SECONDS: poll every 5 ms until a line matches
svc_wait_log() {
	local end=$(( ${EPOCHSECONDS:-0} + $3 ))
	until grep -Eq -- "$2" "$1"; do
		[ "${EPOCHSECONDS:-0}" -lt "$end" ] || return 1
		sleep 0.005
	done
}

svc_servers() {
	local s=$1 x=$(svc_short "$1") pod ip i
	for pod in be1 be2; do
		ip=$(svc_pod_ip $pod)
		ip netns exec "$(ns "$x-$pod")" taskset -c "$SERVER_CPU" "$CONNRATE" server \
			"$ip" "$SVC_CONN_PORT" $((SVC_TARGETS + 1)) >"$WORK/$s-$pod.connrate.log" 2>&1 &
		SERVER_PIDS="$SERVER_PIDS $!"
		ip netns exec "$(ns "$x-$pod")" taskset -c "$SERVER_CPU" sockperf server --tcp \
			-i "$ip" -p "$SVC_LAT_PORT" >"$WORK/$s-$pod.sockperf.log" 2>&1 &
		SERVER_PIDS="$SERVER_PIDS $!"
	done
	for i in $(seq 50); do
		for pod in be1 be2; do
			grep -q ready "$WORK/$s-$pod.connrate.log" &&
			ip netns exec "$(ns "$x-$pod")" ss -Hltn "sport = :$SVC_LAT_PORT" | grep -q . ||
				continue 2
		done
		return 0
	done
	log "$s: servers did not start"
	cat "$WORK/$s"-be*.log >&2
	return 1
}

# ------------------------------------------------------------ the tables

# svc_make SIZE: the services file, the iptables and the nftables rules of SIZE
svc_make() {
	local n=$1 f=$WORK/svc-$1 k idx=""
	for ((k = 0; k < SVC_TARGETS; k++)); do idx="$idx $(svc_target_index "$n" "$k")"; done
	"$KPR" --generate "$n" --endpoints-per-service 2 --node "$SVC_NODE_NAME=$SVC_POD_CIDR" \
		--pods-per-node 2 --target-port "$SVC_CONN_PORT" --port "$SVC_PORT" \
		--service-cidr "$SVC_CIDR" | python3 -c '
import json, sys
d = json.load(sys.stdin)
slices = [o for o in d["items"] if o["kind"] == "EndpointSlice"]
# the targets: a targetPort each; the last service: sockperf
for k, i in enumerate(sys.argv[3:]):
    slices[int(i)]["ports"][0]["port"] = int(sys.argv[1]) + k
slices[-1]["ports"][0]["port"] = int(sys.argv[2])
json.dump(d, sys.stdout)' "$SVC_CONN_PORT" "$SVC_LAT_PORT" $idx >"$f.json.tmp" &&
	mv "$f.json.tmp" "$f.json" || return 1
	"$KPR" --services "$f.json" --mode iptables --node-name "$SVC_NODE_NAME" \
		--node-ip "$NODE_IP" --cluster-cidr "$SVC_CLUSTER_CIDR" -o "$f.ipt" &
	local p1=$!
	"$KPR" --services "$f.json" --mode nftables --node-name "$SVC_NODE_NAME" \
		--node-ip "$NODE_IP" --cluster-cidr "$SVC_CLUSTER_CIDR" --service-cidr "$SVC_CIDR" \
		-o "$f.nft" || return 1
	wait "$p1"
}

# svc_load_rules SETUP SIZE: kube-proxy's rules of SIZE into SETUP's node;
# SVC_T is how long it took (s)
svc_load_rules() {
	local s=$1 f=$WORK/svc-$2 t0 rc
	t0=$(now)
	if [ "$(svc_mode "$s")" = nftables ]; then
		ip netns exec "$(svc_node "$s")" nft -f "$f.nft"
	else
		ip netns exec "$(svc_node "$s")" iptables-restore <"$f.ipt" &&
		{ [ ! -s "$WORK/$s-own.ipt" ] ||
			ip netns exec "$(svc_node "$s")" iptables-restore --noflush <"$WORK/$s-own.ipt"; }
	fi
	rc=$?
	SVC_T=$(elapsed "$t0" "$(now)")
	return $rc
}

# svc_agent_table SIZE: the running agent given the file of SIZE (renamed
# into place, as a ConfigMap update does); the time to its log line saying
# the maps hold the table, and the sync's own figure from that line
svc_agent_table() {
	local n=$1 nlines t0 line ms s=bridgeless-bpf
	nlines=$(grep -c "services: $n services in BPF" "$SVC_AGENT_LOG")
	t0=$(now)
	cp "$WORK/svc-$n.json" "$WORK/agent-services.json.tmp" &&
	mv "$WORK/agent-services.json.tmp" "$WORK/agent-services.json" || return 1
	until [ "$(grep -c "services: $n services in BPF" "$SVC_AGENT_LOG")" -gt "$nlines" ]; do
		kill -0 "$SVC_AGENT_PID" 2>/dev/null ||
			{ log "agent died: $(tail -3 "$SVC_AGENT_LOG")"; return 1; }
		[ "$(elapsed "$t0" "$(now)" | cut -d. -f1)" -lt 120 ] ||
			{ log "agent: no sync of $n services: $(tail -3 "$SVC_AGENT_LOG")"; return 1; }
		sleep 0.005
	done
	SVC_T=$(elapsed "$t0" "$(now)")
	line=$(grep "services: $n services in BPF" "$SVC_AGENT_LOG" | tail -1)
	ms=$(sed -n 's/.*(\([0-9.]*\) ms)$/\1/p' <<<"$line")
	sample "svc-load@$n" "$s" "$SVC_T" s file
	sample "svc-load@$n" "$s" "${ms:-0}" ms sync
	step "$(printf '%-22s' "$s") $n services: file -> maps synced in $(printf '%.2f' "$SVC_T") s (the sync itself ${ms:-?} ms): ${line#*services: }"
}

# svc_load SIZE: every setup's table of SIZE; the times are samples. nft
# loads in the background (one CPU, mostly in the kernel) while the
# iptables loads run one after the other; the agent gets its file once
# they are all done, so its figure is its own.
svc_load() {
	local n=$1 s nft_pid=""
	if inlist bridge-nftables "$setups"; then
		( svc_load_rules bridge-nftables "$n" && echo "$SVC_T" >"$WORK/nft-load.t" ) \
			>"$WORK/nft-load.log" 2>&1 &
		nft_pid=$!
	fi
	for s in $svc_order; do
		[ "$s" = bridge-nftables ] && continue
		svc_load_rules "$s" "$n" || { log "$s: iptables-restore failed"; return 1; }
		sample "svc-load@$n" "$s" "$SVC_T" s rules
		step "$(printf '%-22s' "$s") $n services: kube-proxy's iptables rules loaded in $(printf '%.1f' "$SVC_T") s"
	done
	if [ -n "$nft_pid" ]; then
		wait "$nft_pid" && [ -s "$WORK/nft-load.t" ] ||
			{ log "bridge-nftables: nft -f failed: $(tail -5 "$WORK/nft-load.log")"; return 1; }
		SVC_T=$(cat "$WORK/nft-load.t")
		rm -f "$WORK/nft-load.t"
		sample "svc-load@$n" bridge-nftables "$SVC_T" s rules
		step "$(printf '%-22s' bridge-nftables) $n services: kube-proxy's nftables table loaded in $(printf '%.1f' "$SVC_T") s"
	fi
	if inlist bridgeless-bpf "$setups"; then
		svc_agent_table "$n" || return 1
	fi
}

# ------------------------------------------------------------ measurements

declare -A svc_next	# next connrate tuple index per setup

svc_ct_drops() {	# drop + early_drop + insert_failed in SETUP's node (hex, summed)
	ip netns exec "$(svc_node "$1")" cat /proc/net/stat/nf_conntrack 2>/dev/null |
		awk 'function hex(x,   i, v) { v = 0; x = tolower(x)
			for (i = 1; i <= length(x); i++)
				v = v * 16 + index("0123456789abcdef", substr(x, i, 1)) - 1
			return v }
		NR == 1 { for (i = 1; i <= NF; i++)
			if ($i == "drop" || $i == "early_drop" || $i == "insert_failed") c[i]
			next }
		{ for (i in c) s += hex($i) }
		END { print s + 0 }'
}
svc_ct_count() {
	ip netns exec "$(svc_node "$1")" cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null ||
		echo 0
}

# svc_conn SETUP SIZE SECONDS [connrate options]: a connrate client in the
# setup's client pod to the size's targets (the control: to the backends'
# pod IPs); sets C_* as conn_run does
svc_conn() {
	local s=$1 n=$2 secs=$3 out cl=$(ns "$(svc_short "$1")-cl") range dst port=$SVC_PORT
	shift 3
	dst=$(svc_targets "$n")
	if [ "$s" = "$SVC_CONTROL" ]; then
		dst=${SVC_BE_IPS// /,} port=$SVC_CONTROL_PORT
	fi
	range=$(ip netns exec "$cl" sysctl -n net.ipv4.ip_local_port_range | awk '{ print $1 "-" $2 }')
	run_fg ip netns exec "$cl" taskset -c "$SENDER_CPU" "$CONNRATE" client \
		"$dst" "$port" 1 "$secs" -i "${svc_next[$s]:-0}" -p "$range" \
		"$@" >"$WORK/$s.connrate.out" 2>&1
	out=$(cat "$WORK/$s.connrate.out")
	case "$out" in
	conns=*) ;;
	*) log "$s: connrate failed: $out"; return 1 ;;
	esac
	C_rate="" C_failed="" C_timeouts="" C_next=""
	eval "$(echo "$out" | tr ' ' '\n' | sed -n 's/^\([a-z]*\)=\([0-9.]*\)$/C_\1=\2/p')"
	[ -n "$C_next" ] || { log "$s: connrate output: $out"; return 1; }
	svc_next[$s]=$C_next
}

# svc_check SETUP SIZE: the services answer, through the path the setup says
svc_check() {
	local s=$1 n=$2 c0 c1 what
	case $s in
	bridgeless-bpf) what=svc_new ;;
	bridgeless-kube-proxy) what=pass_svc_host ;;
	*) what="" ;;
	esac
	[ -z "$what" ] || c0=$(svc_bl "$s" stats --json | jq -r ".counters.$what.packets")
	svc_conn "$s" "$n" 0.3 -w 0 -c 4 || return 1
	if [ "${C_rate%.*}" -le 0 ] || [ "$C_failed" != 0 ] || [ "$C_timeouts" != 0 ]; then
		log "$s: connections to the services fail: rate $C_rate, failed $C_failed, timeouts $C_timeouts"
		return 1
	fi
	if [ -n "$what" ]; then
		c1=$(svc_bl "$s" stats --json | jq -r ".counters.$what.packets")
		[ "$c1" -gt "$c0" ] || { log "$s: $what did not move: not the path it should be"; return 1; }
	fi
}

# svc_measure SCENARIO SETUP SIZE: one measurement, its samples; sets LINE
svc_measure() {
	local sc=$1 s=$2 n=$3 m d0 d1 ct="" lat
	case $sc in
	cps)
		m=svc-cps@$n
		svc_is_bridge "$s" || [ "$s" = bridgeless-kube-proxy ] && ct=1
		[ -n "$ct" ] && d0=$(svc_ct_drops "$s")
		others_during svc_conn "$s" "$n" "$seconds" -c "$inflight" -w 0.5 || return 1
		sample "$m" "$s" "$C_rate" conn/s
		sample "$m.failed" "$s" "$C_failed" count
		sample "$m.timeouts" "$s" "$C_timeouts" count
		sample_others "$m" "$s"
		LINE=$(printf '%8s conn/s  (failed %s, timeouts %s' "$C_rate" "$C_failed" "$C_timeouts")
		if [ -n "$ct" ]; then
			d1=$(svc_ct_drops "$s")
			sample "$m.conntrack_drops" "$s" $((d1 - d0)) count
			LINE="$LINE; conntrack $(svc_ct_count "$s") entries, drops +$((d1 - d0))"
		fi
		LINE="$LINE; other processes: $M_OTHERS% of a CPU)" ;;
	lat)
		lat=$(svc_ip $((n - 1)))
		others_during svc_sockperf "$s" "$lat" || return 1
		sample "svc-lat-p50@$n" "$s" "$M_P50" us
		sample "svc-lat-p99@$n" "$s" "$M_P99" us
		sample_others "svc-lat@$n" "$s"
		LINE=$(printf '%8s us p50, %s us p99  (other processes: %d%% of a CPU)' \
			"$M_P50" "$M_P99" "$M_OTHERS") ;;
	esac
}

# svc_sockperf SETUP IP: sockperf ping-pong from the client pod to IP:80;
# sets M_P50 and M_P99 (us)
svc_sockperf() {
	local s=$1
	run_fg ip netns exec "$(ns "$(svc_short "$s")-cl")" taskset -c "$SENDER_CPU" \
		sockperf ping-pong --tcp -i "$2" -p "$SVC_PORT" -t "$seconds" \
		>"$WORK/$s.sockperf.log" 2>&1
	M_P50=$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' "$WORK/$s.sockperf.log")
	M_P99=$(sed -n 's/.*percentile 99.000 = *\([0-9.]*\).*/\1/p' "$WORK/$s.sockperf.log")
	if [ -z "$M_P50" ] || [ -z "$M_P99" ]; then
		log "$s: sockperf failed:"; tail -n 20 "$WORK/$s.sockperf.log" >&2
		return 1
	fi
	sleep 0.3
}

# svc_report DIR: the report of the samples in DIR (tools/bench-report)
svc_report() {
	local docs=(--no-docs)
	[ -z "$DOCS" ] || docs=(--docs "$DOCS")
	command -v python3 >/dev/null || die "missing python3 (run tools/install-deps)"
	python3 "$repo/tools/bench-report" --text "$RESULT" "${docs[@]}" "$1"
}

# svc_agent_load SIZE: an agent with empty maps given the file of SIZE:
# start -> maps synced, peak RSS, CPU; and an agent on an empty table
svc_agent_load() {
	local n=$1 t0 t1 line ms hwm rss cpu empty_hwm
	echo '{"apiVersion": "v1", "kind": "List", "items": []}' >"$WORK/empty.json"
	svc_agent_stop
	# as on a new node: no table saved by an earlier agent to compare with
	rm -f "$(svc_state bridgeless-bpf)/services.json"
	svc_agent_start "$WORK/agent-empty.log" "$WORK/empty.json"
	svc_wait_log "$WORK/agent-empty.log" 'services: 0 services in BPF' 60 ||
		{ log "agent on an empty table: $(tail -3 "$WORK/agent-empty.log")"; return 1; }
	sleep 0.5
	empty_hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$SVC_AGENT_PID/status")
	svc_agent_stop
	rm -f "$(svc_state bridgeless-bpf)/services.json"
	t0=$(now)
	svc_agent_start "$WORK/agent-cold.log" "$WORK/svc-$n.json"
	svc_wait_log "$WORK/agent-cold.log" "services: $n services in BPF" 120 ||
		{ log "agent with $n services: $(tail -3 "$WORK/agent-cold.log")"; return 1; }
	t1=$(now)
	hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$SVC_AGENT_PID/status")
	rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$SVC_AGENT_PID/status")
	cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' \
		"/proc/$SVC_AGENT_PID/stat")
	line=$(grep "services: $n services in BPF" "$WORK/agent-cold.log" | tail -1)
	ms=$(sed -n 's/.*(\([0-9.]*\) ms)$/\1/p' <<<"$line")
	sample svc-agent bridgeless-bpf "$n" count services
	sample svc-agent bridgeless-bpf "$(elapsed "$t0" "$t1")" s total
	sample svc-agent bridgeless-bpf "${ms:-0}" ms sync
	sample svc-agent bridgeless-bpf "$hwm" kB rss_peak
	sample svc-agent bridgeless-bpf "$rss" kB rss
	sample svc-agent bridgeless-bpf "$cpu" s cpu
	sample svc-agent bridgeless-bpf "$empty_hwm" kB rss_peak_empty
	step "agent: $n services, start -> maps synced in $(printf '%.2f' "$(elapsed "$t0" "$t1")") s (the sync ${ms:-?} ms), peak RSS $((hwm / 1024)) MiB (empty table $((empty_hwm / 1024)) MiB), CPU $cpu s"
	svc_agent_stop
}

svc_cleanup() {
	local rc=$? s
	svc_agent_stop
	for s in $SVC_BL_INIT; do
		svc_bl "$s" node reset >/dev/null 2>&1 || log "$s: node reset failed"
		rm -rf "$(svc_pin "$s")" "$(svc_state "$s")"
	done
	(exit "$rc")
	cleanup
}

# svc_run_start: the report's metadata
svc_run_start() {
	local cpu os commit
	raw_init || die "cannot write $RAW_DIR"
	cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
	os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
	commit=$(git -C "$repo" rev-parse HEAD 2>/dev/null) &&
		[ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ] &&
		commit="$commit (with uncommitted changes)"
	run_info format 1
	run_info kind services
	run_info date "$DATE0"
	run_info t_start "$T_START"
	run_info command "$CMDLINE"
	run_info commit "${commit:-?}"
	run_info cpu "${cpu:-?}"
	run_info cores "$(nproc)"
	run_info threads "$(lscpu 2>/dev/null | sed -n 's/^Thread(s) per core: */threads per core: /p')"
	run_info mem_kb "$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
	run_info kernel "$(uname -r)"
	run_info os "${os:-?}"
	run_info scenarios services
	run_info setups "$setups"
	run_info order "$svc_order"
	run_info setups.services "$svc_order${svc_control:+ $svc_control}"
	run_info control "$svc_control"
	run_info rounds "$rounds"
	run_info seconds "$seconds"
	run_info inflight "$inflight"
	run_info sizes "$sizes"
	run_info targets "$SVC_TARGETS"
	run_info iptables "$(iptables --version 2>/dev/null)"
	run_info nft "$(nft --version 2>/dev/null)"
	run_info sample_cpu "$SAMPLE_CPU"
	run_info load_before "$LOAD0"
}

# ------------------------------------------------------------ the run

svc_main() {
	local quick=0 report_only="" s n r sc prev tools t done_sizes=""
	rounds=5 seconds=3 inflight=32 sizes="" setups=$SVC_SETUPS_ALL
	CMDLINE="tools/bench${*:+ $*}"
	T_START=${EPOCHSECONDS:-0}
	DATE0=$(date -u '+%Y-%m-%d %H:%M UTC')
	while [ $# -gt 0 ]; do
		case "$1" in
		--services) ;;
		--quick) quick=1 rounds=2 seconds=2 sizes=${sizes:-100 10000} ;;
		--sizes) sizes=${2:?}; sizes=${sizes//,/ }; shift ;;
		--rounds) rounds=${2:?}; shift ;;
		--seconds) seconds=${2:?}; shift ;;
		--setups) setups=${2:?}; shift ;;
		--inflight) inflight=${2:?}; shift ;;
		--docs) DOCS=$(realpath -m "${2:?}"); shift ;;
		--no-docs) DOCS="" ;;
		--report-only) report_only=$RAW_DIR
			case "${2:-}" in "" | -*) ;; *) report_only=$2; shift ;; esac ;;
		-h | --help) svc_usage 0 ;;
		*) echo "bench: --services: unknown option $1" >&2; svc_usage 2 >&2 ;;
		esac
		shift
	done
	RESULT=$repo/build/bench-services-result.txt
	if [ -n "$report_only" ]; then
		svc_report "$report_only"
		return
	fi
	sizes=${sizes:-100 1000 10000}
	case "$rounds$seconds$inflight${sizes// /}" in
	*[!0-9]*) die "--rounds, --seconds, --inflight and --sizes take whole numbers" ;;
	esac
	[ "$rounds" -ge 1 ] && [ "$seconds" -ge 1 ] && [ "$inflight" -ge 1 ] ||
		die "--rounds, --seconds and --inflight must be >= 1"
	prev=1
	for n in $sizes; do
		[ "$n" -gt "$prev" ] && [ "$n" -gt $((2 * SVC_TARGETS)) ] && [ "$n" -le 30000 ] ||
			die "--sizes: increasing counts from $((2 * SVC_TARGETS + 1)) to 30000"
		prev=$n
	done
	svc_order=""
	for s in ${SVC_SETUPS_ALL//,/ }; do inlist "$s" "$setups" && svc_order="$svc_order $s"; done
	for s in ${setups//,/ }; do inlist "$s" "$SVC_SETUPS_ALL" || die "unknown setup $s"; done
	svc_order=${svc_order# }
	[ -n "$svc_order" ] || die "--setups: nothing to run"
	svc_control=""
	inlist bridgeless-bpf "$setups" && svc_control=$SVC_CONTROL
	[ "$(id -u)" = 0 ] || die "must run as root"

	tools="ip jq nsenter taskset awk python3 sockperf iptables-restore ss"
	inlist bridge-nftables "$setups" && tools="$tools nft"
	[ -n "$DOCS" ] && tools="$tools gnuplot"
	for t in $tools; do
		command -v "$t" >/dev/null && continue
		step "missing $t: running tools/install-deps"
		"$repo/tools/install-deps" >&2 || die "tools/install-deps failed"
		break
	done
	for t in $tools; do command -v "$t" >/dev/null || die "missing tool: $t (run tools/install-deps)"; done
	case " $svc_order " in *" bridge-"*)
		for p in bridge host-local; do
			[ -x "$CNI_DIR/$p" ] || die "missing CNI plugin $CNI_DIR/$p (containernetworking-plugins)"
		done ;;
	esac
	case " $svc_order " in *" bridgeless-"*)
		[ -x "$BRIDGELESS" ] || die "missing $BRIDGELESS (run make all)" ;;
	esac
	build_helper "$repo/tools/connrate.c" "$CONNRATE"
	SAMPLE_CPU=$(( $(nproc) > 1 ? 1 : 0 ))
	SERVER_CPU=$SAMPLE_CPU

	P="blsv$$x$RANDOM"
	WORK=/tmp/$P-bench
	PIN=/sys/fs/bpf/$P
	STATE=/tmp/$P-state
	IPAM=/tmp/$P-ipam
	SVC_BL_INIT=""
	mkdir -p "$WORK" "$IPAM" || die "cannot create $WORK"
	trap svc_cleanup EXIT
	trap 'exit 130' INT TERM

	LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
	svc_run_start
	step "services: sizes $sizes; setups $svc_order; $rounds rounds x $seconds s"
	for s in $svc_order; do
		step "building setup $s"
		if svc_is_bridge "$s"; then svc_setup_bridge "$s"; else svc_setup_bridgeless "$s"; fi ||
			die "building setup $s failed"
		svc_own_rules "$s" || die "$s: iptables-save failed"
		svc_servers "$s" || die "$s: servers"
	done
	if inlist bridgeless-bpf "$setups"; then
		echo '{"apiVersion": "v1", "kind": "List", "items": []}' >"$WORK/agent-services.json"
		svc_agent_start "$WORK/agent.log" "$WORK/agent-services.json" --reconcile-interval 5
		svc_wait_log "$WORK/agent.log" 'info: agent: running' 30 ||
			die "agent: $(tail -3 "$WORK/agent.log")"
	fi
	run_info attach "$(svc_bl bridgeless-bpf node status --json 2>/dev/null | jq -r '.attach // "?"')"

	for n in $sizes; do
		step "$n services: making the services file and kube-proxy's rules"
		svc_make "$n" || die "cannot make the tables of $n services"
		svc_load "$n" || die "loading $n services failed"
		for s in $svc_order $svc_control; do
			svc_check "$s" "$n" || die "$s: the services do not answer at $n services"
		done
		for r in $(seq 1 "$rounds"); do
			for sc in cps lat; do
				for s in $svc_order $svc_control; do
					[ "$sc.$s" = "lat.$SVC_CONTROL" ] && continue
					svc_measure "$sc" "$s" "$n" || die "measurement $sc $s at $n failed"
					step "$n services, round $r/$rounds  $(printf '%-4s %-22s' "$sc" "$s") $LINE"
				done
			done
		done
		done_sizes="${done_sizes:+$done_sizes }$n"
		run_info sizes_done "$done_sizes"
		rm -f "$WORK/svc-$n.ipt" "$WORK/svc-$n.nft"
	done
	if inlist bridgeless-bpf "$setups"; then
		n=${sizes##* }
		step "agent: empty maps, then the file of $n services"
		svc_agent_load "$n" || die "agent load measurement failed"
	fi
	run_end
	svc_report "$RAW_DIR" || die "tools/bench-report failed; the samples are in ${RAW_DIR#$repo/}"
}
