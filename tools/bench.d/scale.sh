# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench: scenario 3, scale. Sourced by tools/bench.
#
# The bridge (ipMasq, br-nf on) and bridgeless nodes grow to 10, 100 and
# 1000 pods (--scale-pods LIST; --quick: 10,100): the tx and rx pods of the
# other scenarios plus pods s0, s1, ... added through the CNI plugins (the
# reference bridge plugin with the bridge setup's configuration,
# build/bridgeless-cni with host-local over the same range), one ADD at a
# time, the way a runtime adds them; their netns are made beforehand in one
# `ip -batch` (about 1 ms each), untimed. Each added pod then holds one idle
# TCP connection to ext open through the node's NAT (tools/holdconns, built
# into build/holdconns by tools/bench), so at 1000 pods about 1000 SNAT
# flows (conntrack entries, NAT mappings) are live; each also gets permanent
# neighbour entries (scale_neigh says why). At each size, alternating
# between the setups for the rounds:
#
#   scale-p2p   64-byte UDP packets per second tx -> rx pod (as pod2pod-pps)
#   scale-snat  64-byte UDP packets per second tx pod -> ext (as snat-pps)
#   scale-cps   new TCP connections per second through the NAT (as
#               snat-cps) from the pod in the middle of the added ones: the
#               bridge plugin's ipMasq appends a rule (and a chain) per pod
#               to the nat table's POSTROUTING, which every new connection
#               walks up to its own pod's rule, so a pod added later pays
#               more; the middle one walks what an average pod walks (the
#               tx pod's rule comes first, the last pod's last)
#
# and once per size: the time the CNI ADDs of that step took (total and per
# pod p50), the memory of bridgeless's maps (bpftool's bytes_memlock of the
# maps pinned in this run's pin dir) and, for the bridge, the number of nat
# rules and conntrack entries.
#
# Per-packet cost flatness: for bridgeless, the packets per second at the
# smallest and the largest size (pod to pod and pod to outside) may differ by
# at most 10%.

HOLD_PORT=7000		# holdconns listens here in ext
declare -A scale_n	# pods on the node per setup
declare -A hold_fd	# write end of each setup's holdconns input
declare -A hold_pid	# each setup's holdconns
declare -A hold_lines	# "held" lines expected per setup
SCALE_DONE=""		# sizes measured

# scale_prepare: CNI configurations and tools/holdconns in each ext netns
scale_prepare() {
	local s ext fd
	mkdir -p "$WORK/cni-bin" || return 1
	ln -sf "$CNI_DIR/host-local" "$WORK/cni-bin/host-local" &&
	ln -sf "$BRIDGELESS_CNI" "$WORK/cni-bin/bridgeless" || return 1
	cat >"$WORK/scale-bridgeless.json" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$P-scale",
  $(plugin_json bridgeless),
$(pod_ipam_json)
}
EOF
	jq -e . "$WORK/scale-bridgeless.json" >/dev/null || return 1
	for s in $(setups_of scale); do
		scale_n[$s]=2
		hold_lines[$s]=0
		ext=$(ns "$(short "$s")-ext")
		mkfifo "$WORK/hold-$s.in" || return 1
		"$HOLDCONNS" "/run/netns/$ext" "$SERVER_IP" "$HOLD_PORT" \
			<"$WORK/hold-$s.in" >"$WORK/hold-$s.out" 2>"$WORK/hold-$s.err" &
		hold_pid[$s]=$!
		HOLD_PIDS="$HOLD_PIDS $!"
		exec {fd}>"$WORK/hold-$s.in" || return 1
		hold_fd[$s]=$fd
	done
}

# scale_add SETUP POD: one CNI ADD of a scale pod; sets M_US and M_OUT (the
# CNI result)
scale_add() {
	local t0 t1
	t0=${EPOCHREALTIME/[.,]/}
	case "$1" in
	bridge) M_OUT=$(cni_call bridge ADD "$2" 2>&1) ;;
	bridgeless) M_OUT=$(cnib_call bridgeless ADD "$2" "$WORK/scale-bridgeless.json" 2>&1) ;;
	esac || { log "scale: $1 CNI ADD $2 failed: $M_OUT"; return 1; }
	t1=${EPOCHREALTIME/[.,]/}
	M_US=$(( t1 - t0 ))
}

# scale_neigh SETUP POD: permanent neighbour entries for the pod, from its
# CNI result (M_OUT): its gateway in the pod, and for the bridge the pod on
# the node's cni0 (a line of WORK/neigh-SETUP.batch, for `ip -batch`).
# The kernel's neighbour table is one for all namespaces, with a machine-wide
# limit (net.ipv4.neigh.default.gc_thresh3, 1024 here, which a bench must
# not change): 1000 pods resolving their gateway, and a bridge node
# resolving 1000 pods, would overflow it ("neighbor table overflow", failed
# connections, here and for anything else running on the machine). Permanent
# entries do not count against the limit; a node with that many pods raises
# gc_thresh instead. Per packet the lookup is the same.
scale_neigh() {
	local f
	f=$(echo "$M_OUT" | jq -r '[.interfaces[0].mac,
		([.interfaces[] | select((.sandbox // "") != "")][0].mac),
		(.ips[0].address | split("/")[0]),
		(.ips[0].gateway // ([.routes[]? | select(.dst == "0.0.0.0/0") | .gw][0])
			// "169.254.1.1")] | @tsv') || return 1
	set -- "$1" "$2" $f
	[ $# = 6 ] || { log "scale: $1 $2: unexpected CNI result: $M_OUT"; return 1; }
	ip -n "$(ns "$(short "$1")-$2")" neigh replace "$6" lladdr "$3" dev eth0 nud permanent ||
		return 1
	[ "$1" = bridge ] && echo "neigh replace $5 lladdr $4 dev cni0 nud permanent" \
		>>"$WORK/neigh-$1.batch"
	return 0
}

# scale_hold SETUP FIRST LAST: pods sFIRST..sLAST each open a connection
scale_hold() {
	local s=$1 i n k=0
	for i in $(seq "$2" "$3"); do
		echo "/run/netns/$(ns "$(short "$s")-s$i")"
	done >&"${hold_fd[$s]}"
	echo >&"${hold_fd[$s]}"
	hold_lines[$s]=$(( hold_lines[$s] + 1 ))
	while [ "$(grep -c '^held' "$WORK/hold-$s.out")" -lt "${hold_lines[$s]}" ]; do
		k=$((k + 1))
		[ "$k" -le 1200 ] && kill -0 "${hold_pid[$s]}" 2>/dev/null ||
			{ log "scale: $s: holdconns did not answer:"; cat "$WORK/hold-$s.err" >&2; return 1; }
		sleep 0.1
	done
	n=$(grep '^held' "$WORK/hold-$s.out" | tail -n 1)
	case "$n" in
	*" failed 0") ;;
	*) log "scale: $s: connections failed ($n):"; tail -n 5 "$WORK/hold-$s.err" >&2; return 1 ;;
	esac
	HELD=${n#held }; HELD=${HELD%% *}
}

# scale_grow SETUP SIZE: add pods until SIZE pods are on the node; each
# ADD's time a sample (scale-add@SIZE)
scale_grow() {
	local s=$1 size=$2 first=$(( scale_n[$1] - 2 )) last=$(( $2 - 3 )) i names="" us=""
	[ "$last" -ge "$first" ] || return 0
	for i in $(seq "$first" "$last"); do names="$names $(short "$s")-s$i"; done
	mkns_many $names || return 1
	step "scale: $s: adding $(( last - first + 1 )) pods through CNI (to $size)"
	: >"$WORK/neigh-$s.batch"
	for i in $(seq "$first" "$last"); do
		scale_add "$s" "s$i" || return 1
		sample "scale-add@$size" "$s" "$M_US" us "s$i"
		us="$us $M_US"
		scale_neigh "$s" "s$i" || return 1
		[ $(( (i - first + 1) % 200 )) = 0 ] && [ "$i" != "$last" ] &&
			step "scale: $s: $(( i - first + 1 ))/$(( last - first + 1 )) added," \
				"last ADD $(( M_US / 1000 )) ms"
	done
	if [ -s "$WORK/neigh-$s.batch" ]; then
		ip -n "$(ns "$(short "$s")-node")" -batch "$WORK/neigh-$s.batch" || return 1
	fi
	scale_hold "$s" "$first" "$last" || return 1
	scale_n[$s]=$size
	set -- $(echo "$us" | us_summary)
	step "scale: $s: $size pods, added in ${2:-?} s (p50 ${1:-?} ms per pod)," \
		"$HELD connections held"
}

# scale_state SIZE SETUP: the samples of the node's state: bytes_memlock of
# each map in this run's pin dir (bridgeless, scale-map@SIZE) or the nat
# rules and conntrack entries (bridge)
scale_state() {
	local size=$1 setup=$2 f j
	if [ "$setup" = bridgeless ]; then
		for f in "$PIN"/*; do
			[ -f "$f" ] || continue
			j=$(bpftool -j map show pinned "$f" 2>/dev/null) || continue
			set -- $(echo "$j" | jq -r '"\(.name) \(.bytes_memlock)"')
			[ $# = 2 ] && sample "scale-map@$size" bridgeless "$2" bytes "$1"
		done
	else
		sample "scale-nat-rules@$size" "$setup" "$(nsenter --net="/run/netns/$(ns b-node)" \
			iptables -t nat -S 2>/dev/null | wc -l)" count
		sample "scale-conntrack@$size" "$setup" "$(ct_count)" count
	fi
	return 0
}

# measure_scale: every size, growing the nodes, then the rounds
measure_scale() {
	local size r m s
	scale_prepare || return 1
	for size in $scale_sizes; do
		for s in $(setups_of scale); do
			scale_grow "$s" "$size" || return 1
			scale_state "$size" "$s"
		done
		for r in $(seq 1 "$scale_rounds"); do
			for m in p2p snat cps; do
				for s in $(setups_of scale); do
					case "$m" in
					p2p) measure_pps "pod2pod-$s" "$(ns "$(short "$s")-tx")" \
						"$(ns "$(short "$s")-rx")" || return 1
						sample_pps "scale-p2p@$size" "$s"
						LINE=$(pps_line rx) ;;
					snat) measure_snat snat-pps "$s" "scale-snat@$size" || return 1 ;;
					cps) conn_pod[$s]=s$(( (size - 2) / 2 ))
						measure_snat snat-cps "$s" "scale-cps@$size" || return 1
						conn_pod[$s]="" ;;
					esac
					step "scale $size pods, round $r/$scale_rounds  $(printf '%-5s %-10s' "$m" "$s") $LINE"
				done
			done
		done
		SCALE_DONE="$SCALE_DONE $size"
		run_info scale_done "$SCALE_DONE"
	done
}
