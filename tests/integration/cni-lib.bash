# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# Helpers for the CNI tests, sourced after lib.sh (not a test itself: the
# runner only runs *.sh). They drive the plugin the way a container runtime
# does: CNI_* environment variables, the configuration on stdin, the plugin
# run in the node's network namespace, its stdout read back as JSON.
#
#   cni_setup                      plugin dir for CNI_PATH, per-run dirs
#   cni_conf [VERSION] [JQ-FILTER] a network config for the default node
#   cni CMD CID NETNS IFNAME CONF  run the plugin; sets CNI_OUT, CNI_RC
#   conflist_run CMD LIST CID NETNS IFNAME [RUNTIME-ARGS]
#                                  a whole conflist, as libcni runs it

CNI=${CNI:-$ROOT/${BUILD:-build}/bridgeless-cni}
CNI_BIN=$TMPD/cni-bin                 # CNI_PATH: "bridgeless" + the reference plugins
HL_DATA=$TMPD/host-local              # host-local's dataDir, this run's own
CNI_LOG=$TMPD/bridgeless-cni.log
CNI_CACHE=$TMPD/cni-cache             # ADD results kept for CHECK and DEL, as libcni does
REF=${REF_CNI_DIR:-/usr/lib/cni}      # Debian's containernetworking-plugins
NET=blnet
CNI_OUT=""
CNI_RC=0
# Calls whose configuration cannot even be decoded log here.
export BRIDGELESS_CNI_LOG=$CNI_LOG

require_cni() {
	if [ ! -x "$CNI" ]; then
		fail setup "$CNI not built (run make all)"
		exit 1
	fi
	if [ ! -x "$REF/host-local" ]; then
		skip all "$REF/host-local missing (containernetworking-plugins, tools/install-deps)"
		exit 0
	fi
}

cni_setup() {
	local p
	mkdir -p "$CNI_BIN" "$HL_DATA" "$CNI_CACHE" || return 1
	ln -sf "$CNI" "$CNI_BIN/bridgeless" || return 1
	for p in host-local portmap bandwidth; do
		[ -x "$REF/$p" ] && ln -sf "$REF/$p" "$CNI_BIN/$p"
	done
	return 0
}

# cni_conf [VERSION] [JQ-FILTER]: the plugin's configuration for the default
# node, host-local over its pod CIDR, DNS to pass through
cni_conf() {
	local v=${1:-1.1.0} filter=${2:-.}
	jq -cn --arg v "$v" --arg net "$NET" --arg pin "$PIN" --arg st "$STATE" \
		--arg log "$CNI_LOG" --arg hl "$HL_DATA" '{
		cniVersion: $v, name: $net, type: "bridgeless",
		pinDir: $pin, stateDir: $st, logFile: $log,
		dns: { nameservers: ["10.96.0.10"], search: ["svc.cluster.local"] },
		ipam: { type: "host-local", dataDir: $hl,
			ranges: [[{ subnet: "10.244.1.0/24" }]] } }' | jq -c "$filter"
}

# cni CMD CID NETNS IFNAME CONF [VAR=VALUE...]: run the plugin in the node ns.
# An empty CID/NETNS/IFNAME leaves that variable unset; extra VAR=VALUE pairs
# are added to (VAR= removes from) the environment. Sets CNI_OUT and CNI_RC.
cni() {
	local cmd=$1 cid=$2 ns=$3 ifn=$4 conf=$5
	shift 5
	local -a e=(env -u CNI_COMMAND -u CNI_CONTAINERID -u CNI_NETNS -u CNI_IFNAME
		-u CNI_ARGS -u CNI_PATH) set=("CNI_PATH=$CNI_BIN")
	[ -n "$cmd" ] && set+=("CNI_COMMAND=$cmd")
	[ -n "$cid" ] && set+=("CNI_CONTAINERID=$cid")
	[ -n "$ns" ] && set+=("CNI_NETNS=$ns")
	[ -n "$ifn" ] && set+=("CNI_IFNAME=$ifn")
	local kv
	for kv in "$@"; do
		case $kv in
		*=) set=("${set[@]/#${kv}*/}") ;; # VAR=: leave VAR unset
		*) set+=("$kv") ;;
		esac
	done
	for kv in "${set[@]}"; do [ -n "$kv" ] && e+=("$kv"); done
	CNI_OUT=$(printf '%s' "$conf" | timeout 60 nsenter --net="/run/netns/$(node_ns "$NODE")" \
		"${e[@]}" "$CNI_BIN/bridgeless" 2>"$TMPD/cni.stderr.$BASHPID")
	CNI_RC=$?
	if [ -s "$TMPD/cni.stderr.$BASHPID" ]; then
		diag "bridgeless-cni $cmd $cid stderr: $(head -c 400 "$TMPD/cni.stderr.$BASHPID")"
	fi
	rm -f "$TMPD/cni.stderr.$BASHPID"
	return $CNI_RC
}

# jqt JQ-ARGS...: jq -e, quietly (for check)
jqt() { jq -e "$@" >/dev/null 2>&1; }

# cni_code: the error code of the last call ("" if it printed no error)
cni_code() { echo "$CNI_OUT" | jq -r '.code // empty' 2>/dev/null; }
cni_msg() { echo "$CNI_OUT" | jq -r '.msg // empty' 2>/dev/null; }

# expect_code NAME CODE WORD: the last call failed with CODE, msg mentions WORD
expect_code() {
	local name=$1 code=$2 word=$3 got
	got=$(cni_code)
	if [ "$CNI_RC" -ne 0 ] && [ "$got" = "$code" ] &&
		cni_msg | grep -qi -- "$word"; then
		pass "$name"
	else
		fail "$name" "want exit!=0 code $code msg ~ '$word'; got exit $CNI_RC: $(echo "$CNI_OUT" | tr -d '\n' | head -c 300)"
	fi
}

# cni_add CID NETNS [IFNAME] [CONF]: ADD and keep the result for CHECK/DEL
cni_add() {
	local cid=$1 ns=$2 ifn=${3:-eth0} conf=${4:-$(cni_conf)}
	cni ADD "$cid" "$ns" "$ifn" "$conf" || return 1
	echo "$CNI_OUT" >"$CNI_CACHE/$cid-$ifn"
}

# with_prev CONF CID IFNAME: CONF with the cached ADD result as prevResult
with_prev() {
	local f=$CNI_CACHE/$2-$3
	if [ -s "$f" ]; then
		echo "$1" | jq -c --slurpfile p "$f" '. + {prevResult: $p[0]}'
	else
		echo "$1"
	fi
}

cni_check() {
	local cid=$1 ns=$2 ifn=${3:-eth0} conf=${4:-$(cni_conf)}
	cni CHECK "$cid" "$ns" "$ifn" "$(with_prev "$conf" "$cid" "$ifn")"
}

cni_del() {
	local cid=$1 ns=$2 ifn=${3:-eth0} conf=${4:-$(cni_conf)}
	cni DEL "$cid" "$ns" "$ifn" "$(with_prev "$conf" "$cid" "$ifn")" || return 1
	rm -f "$CNI_CACHE/$cid-$ifn"
}

# hl_reserved: addresses host-local holds for network $NET, sorted
hl_reserved() {
	[ -d "$HL_DATA/$NET" ] || return 0
	(cd "$HL_DATA/$NET" && ls | grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' | sort)
}

# cni_records: attachment records in the state dir
cni_records() {
	[ -d "$STATE/cni" ] || return 0
	(cd "$STATE/cni" && ls)
}

# nspath POD: the netns path a runtime would pass for pod POD
nspath() { echo "/run/netns/$(pod_ns "$1")"; }

# --- a conflist, run as libcni runs it ---------------------------------------

# plugin_conf LIST INDEX PREV RUNTIME-ARGS: plugin INDEX of LIST as the plugin
# sees it: cniVersion and name of the list, runtimeConfig for the
# capabilities it declares, prevResult
plugin_conf() {
	jq -c --argjson i "$2" --argjson prev "$3" --argjson rt "$4" '
		. as $l | $l.plugins[$i] as $p
		| ($p | del(.capabilities)) + { cniVersion: $l.cniVersion, name: $l.name }
		| (if $p.capabilities then
			{ runtimeConfig: ([$p.capabilities | to_entries[]
				| select(.value and ($rt[.key] != null))
				| { (.key): $rt[.key] }] | add // {}) }
		   else {} end) as $r
		| . + (if ($r.runtimeConfig // {}) != {} then $r else {} end)
		| if $prev != null then . + { prevResult: $prev } else . end' <<<"$1"
}

# conflist_run CMD LIST CID NETNS IFNAME [RUNTIME-ARGS]: ADD and CHECK in
# order, DEL in reverse; ADD's final result is kept for CHECK and DEL.
# Sets CNI_OUT/CNI_RC of the last plugin run; stops at the first failure
# (DEL goes on, as runtimes do, and fails at the end). Plugin types listed in
# CHAIN_SKIP are left out; CNI_NODE runs it on another node than the default.
conflist_run() {
	local cmd=$1 list=$2 cid=$3 ns=$4 ifn=$5 rt=${6:-"{}"}
	local n i prev=null conf type order rc=0 cache=$CNI_CACHE/list-$cid-$ifn
	n=$(jq '.plugins | length' <<<"$list")
	[ "$cmd" != ADD ] && [ -s "$cache" ] && prev=$(cat "$cache")
	if [ "$cmd" = DEL ]; then order=$(seq $((n - 1)) -1 0); else order=$(seq 0 $((n - 1))); fi
	for i in $order; do
		conf=$(plugin_conf "$list" "$i" "$prev" "$rt")
		type=$(jq -r '.type' <<<"$conf")
		[[ " ${CHAIN_SKIP:-} " == *" $type "* ]] && continue
		CNI_OUT=$(printf '%s' "$conf" | timeout 60 nsenter --net="/run/netns/$(node_ns "${CNI_NODE:-$NODE}")" \
			env CNI_COMMAND="$cmd" CNI_CONTAINERID="$cid" CNI_NETNS="$ns" \
			CNI_IFNAME="$ifn" CNI_PATH="$LIST_PATH" "$(plugin_path "$type")" 2>"$TMPD/cni.stderr")
		CNI_RC=$?
		if [ $CNI_RC -ne 0 ]; then
			diag "conflist $cmd: $type failed ($CNI_RC): $CNI_OUT $(head -c 300 "$TMPD/cni.stderr")"
			rc=$CNI_RC
			[ "$cmd" = DEL ] || return $rc
		fi
		[ "$cmd" = ADD ] && prev=$CNI_OUT
	done
	if [ "$cmd" = ADD ]; then
		echo "$prev" >"$cache"
	elif [ "$cmd" = DEL ] && [ $rc -eq 0 ]; then
		rm -f "$cache"
	fi
	return $rc
}

# plugin_path TYPE: the executable for TYPE in $LIST_PATH
plugin_path() {
	local d IFS=:
	for d in $LIST_PATH; do
		[ -x "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	echo "/nonexistent/$1"
}
