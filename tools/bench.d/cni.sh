# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/bench: the cni scenario, pod setup and teardown cost of the plugins
# themselves. Sourced by tools/bench.
#
# For each pod a CNI ADD then a DEL, run the way a runtime runs them (CNI_*
# environment, the configuration on stdin, the plugin run in the node netns
# with nsenter), for
#
#   bridge      the reference `bridge` plugin (ipMasq, isGateway) on the
#               bridge node netns
#   bridgeless  build/bridgeless-cni (BRIDGELESS_CNI) on the bridgeless node
#               netns, set up with `bridgeless node init`
#
# both with host-local IPAM over the same range (10.244.1.100-250 of the pod
# CIDR, clear of the pods the other scenarios add) and a dataDir of this
# run's own. 200 pods per setup (--quick: 50; --cni-pods N), in batches of 25
# that alternate between the setups (bridge batch, bridgeless batch, ...).
# Each pod's netns is created before its batch and deleted after it, neither
# timed; only the two plugin invocations are (bash's EPOCHREALTIME right
# before the ADD and right after the DEL, so the nsenter + env exec each call
# costs is in both setups' figures alike). One untimed ADD+DEL per setup
# warms up first. The table shows the total, p50 and p99 of the per-pod
# ADD+DEL wall time and the ratio of the p50s.

CNI_BATCH=25		# pods per batch; batches alternate between the setups

# plugin_json SETUP: the plugin part of a network configuration
plugin_json() {
	case "$1" in
	bridge) echo '"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true' ;;
	bridgeless) echo "\"type\": \"bridgeless\", \"pinDir\": \"$PIN\", \"stateDir\": \"$STATE\", \"logFile\": \"$WORK/bridgeless-cni.log\"" ;;
	esac
}

# cnib_conf SETUP: the network configuration of the cni scenario
cnib_conf() {
	cat <<EOC
{
  "cniVersion": "1.0.0",
  "name": "$P-cni-$1",
  $(plugin_json "$1"),
$(pod_ipam_json 10.244.1.100 10.244.1.250)
}
EOC
}

# cnib_prepare: configurations and the CNI_PATH dir of the cni scenario
cnib_prepare() {
	local s
	mkdir -p "$WORK/cni-bin" || return 1
	ln -sf "$CNI_DIR/host-local" "$WORK/cni-bin/host-local" || return 1
	want bridge && { ln -sf "$CNI_DIR/bridge" "$WORK/cni-bin/bridge" || return 1; }
	want bridgeless && { ln -sf "$BRIDGELESS_CNI" "$WORK/cni-bin/bridgeless" || return 1; }
	for s in $(setups_of cni); do
		cnib_conf "$s" >"$WORK/cni-$s.json" || return 1
		jq -e . "$WORK/cni-$s.json" >/dev/null || return 1
	done
}

# cnib_call SETUP ADD|DEL POD [CONF]: one plugin invocation as a runtime
# makes it, in the setup's node netns; the result on stdout
cnib_call() {
	nsenter --net="/run/netns/$(ns "$(short "$1")-node")" env \
		CNI_COMMAND="$2" CNI_CONTAINERID="$P-$3" \
		CNI_NETNS="/run/netns/$(ns "$(short "$1")-$3")" CNI_IFNAME=eth0 \
		CNI_PATH="$WORK/cni-bin" "$WORK/cni-bin/$1" <"${4:-$WORK/cni-$1.json}"
}

# cnib_pod SETUP POD: ADD then DEL of a pod whose netns exists; sets M_US to
# the microseconds from right before the ADD to right after the DEL
cnib_pod() {
	local s=$1 pod=$2 t0 t1 out
	CNI_CUR="$s $pod"
	t0=${EPOCHREALTIME/[.,]/}
	out=$(cnib_call "$s" ADD "$pod" 2>&1) ||
		{ log "cni: $s ADD $pod failed: $out"; return 1; }
	out=$(cnib_call "$s" DEL "$pod" 2>&1) ||
		{ log "cni: $s DEL $pod failed: $out"; return 1; }
	t1=${EPOCHREALTIME/[.,]/}
	CNI_CUR=""
	M_US=$(( t1 - t0 ))
}

# cnib_batch SETUP FIRST N: pods FIRST .. FIRST+N-1; their netns made before
# and deleted after, untimed. Each pod's microseconds a sample (cni-add-del);
# sets BATCH_US to the batch's.
cnib_batch() {
	local s=$1 first=$2 n=$3 i
	BATCH_US=""
	for i in $(seq "$first" $(( first + n - 1 ))); do
		mkns "$(short "$s")-p$i" || return 1
	done
	for i in $(seq "$first" $(( first + n - 1 ))); do
		cnib_pod "$s" "p$i" || return 1
		sample cni-add-del "$s" "$M_US" us "p$i"
		BATCH_US="$BATCH_US $M_US"
	done
	for i in $(seq "$first" $(( first + n - 1 ))); do
		rmns "$(short "$s")-p$i" || return 1
	done
}

# measure_cni: cni_pods pods per setup, batches alternating between setups
measure_cni() {
	local s done=0 n b=0 nb=$(( (cni_pods + CNI_BATCH - 1) / CNI_BATCH ))
	for s in $(setups_of cni); do	# warm-up, not counted
		mkns "$(short "$s")-pw" && cnib_pod "$s" pw || return 1
		rmns "$(short "$s")-pw"
	done
	while [ "$done" -lt "$cni_pods" ]; do
		n=$(( cni_pods - done < CNI_BATCH ? cni_pods - done : CNI_BATCH ))
		b=$(( b + 1 ))
		for s in $(setups_of cni); do
			cnib_batch "$s" "$done" "$n" || return 1
			set -- $(echo "$BATCH_US" | us_summary)
			step "$(printf 'cni batch %d/%d  %-10s %3d pods, ADD+DEL p50 %s ms' "$b" "$nb" "$s" \
				"$n" "${1:-?}")"
		done
		done=$(( done + n ))
	done
}

