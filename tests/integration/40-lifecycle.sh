#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Lifecycle: node init is idempotent (also with pods present), pod del leaves
# no trace and is idempotent, a deleted pod's address is reusable, pod del
# after the runtime removed the netns cleans up, node reset leaves no trace in
# the node namespace, the pin dir, the state dir or the kernel (programs,
# maps and links freed), and the whole cycle runs again on the same node.
TEST=lifecycle
. "$(dirname "$0")/lib.sh"
require_bin
require_cmd jq bpftool
mount_bpffs

make_ext_and_node n1 || abort "topology"

# no_trace_of_pod NAME IP HOSTIF LINKS-BEFORE [STATE-FILES-BEFORE]: what pod
# add made is gone (LINKS/STATE-FILES-BEFORE: as they were before pod add)
no_trace_of_pod() {
	local name=$1 ip=$2 hostif=$3 links_before=$4 why="" f
	if [ $# -ge 5 ]; then
		f=$(comm -13 <(echo "$5") <(state_files))
		[ -n "$f" ] && why="$why; state files left: $(echo $f)"
	fi
	f=$(state_files | grep -E "^\./pods/$name(\.[a-z]+)?\$")
	[ -n "$f" ] && why="$why; pod record left: $f"
	bl_links | grep -qx "$hostif" && why="$why; host veth $hostif still in node ns"
	[ -n "$(route_to "$ip")" ] && why="$why; route to $ip/32 left: $(route_to "$ip")"
	ep_has "$ip" && why="$why; endpoints map still has $ip"
	[ -e "$STATE/ipam/$ip" ] && why="$why; ipam/$ip still reserved"
	[ "$(pinned_links)" != "$links_before" ] && why="$why; pinned links differ: $(pinned_links | tr '\n' ' ')"
	[ -n "$(podinfo "$name" ip)" ] && why="$why; pod list still shows $name"
	if [ -e "/run/netns/$(pod_ns "$name")" ] &&
		px "$name" ip link show eth0 >/dev/null 2>&1; then
		why="$why; eth0 still in the pod netns"
	fi
	[ -z "$why" ] && return 0
	echo "${why#; }"
	return 1
}

# node_clean: nothing of bridgeless is left on the node after reset
node_clean() {
	local why="" f
	if [ -d "$PIN" ] && [ -n "$(ls -A "$PIN" 2>/dev/null)" ]; then
		why="$why; pin dir not empty: $(cd "$PIN" && find . -mindepth 1 | tr '\n' ' ')"
	fi
	f=$(state_files)
	[ -n "$f" ] && why="$why; state files left: $(echo "$f" | tr '\n' ' ')"
	[ -n "$(bl_links)" ] && why="$why; links left: $(bl_links | tr '\n' ' ')"
	f=$(bpf_on_dev uplink)
	[ -n "$f" ] && why="$why; uplink still has BPF: $f"
	f=$(ndx ip -4 route show | grep '^10\.244\.1\.')
	[ -n "$f" ] && why="$why; pod routes left: $f"
	[ -z "$why" ] && return 0
	echo "${why#; }"
	return 1
}

for round in 1 2; do
	r=r$round
	# --- node init, twice ---
	if node_init n1 10.244.1.0/24 >/dev/null; then
		pass ${r}_node_init
	else
		abort "round $round: node init failed"
	fi
	st1=$(bl node status --json)
	objs=$(pinned_obj_ids)
	links0=$(pinned_links)
	link_ids0=$(pinned_link_ids)
	if node_init n1 10.244.1.0/24 >/dev/null; then
		st2=$(bl node status --json)
		objs2=$(pinned_obj_ids)
		why=""
		[ "$(echo "$st1" | jq -cS .)" != "$(echo "$st2" | jq -cS .)" ] &&
			why="$why; status changed: $(echo "$st1" | jq -c .) -> $(echo "$st2" | jq -c .)"
		[ "$(echo "$st2" | jq -r .initialized)" != true ] && why="$why; not initialized"
		# maps are reused (their contents are the node's state); programs
		# may be reloaded, but the replaced ones must not stay behind
		[ "$(echo "$objs" | grep '^map' | sort)" != "$(echo "$objs2" | grep '^map' | sort)" ] &&
			why="$why; pinned maps replaced: $(echo $objs) -> $(echo $objs2)"
		mapfile -t old < <(comm -23 <(echo "$objs" | sort) <(echo "$objs2" | sort) | grep .)
		mapfile -t oldl < <(comm -23 <(echo "$link_ids0" | sort) <(pinned_link_ids | sort) | grep .)
		if [ $((${#old[@]} + ${#oldl[@]})) -gt 0 ]; then
			alive=$(wait_gone "${old[@]}" "${oldl[@]}") ||
				why="$why; replaced objects still in the kernel:$alive"
		fi
		[ "$(pinned_links | grep -c .)" != "$(echo "$links0" | grep -c .)" ] &&
			why="$why; pinned links $(echo "$links0" | tr "\n" " ")-> $(pinned_links | tr "\n" " ")"
		if [ -z "$why" ]; then
			pass ${r}_node_init_twice
		else
			fail ${r}_node_init_twice "${why#; }"
		fi
		objs=$objs2
		link_ids0=$(pinned_link_ids)
	else
		fail ${r}_node_init_twice "second node init failed"
	fi
	diag "round $round: kernel objects pinned: $(echo "$objs" $link_ids0 | tr '\n' ' ')"

	# --- pods: b first, then a, so a's own traces are the difference ---
	mkpod b >/dev/null || abort "round $round: pod add b failed"
	links_b=$(pinned_links)
	state_b=$(state_files)
	link_ids_b=$(pinned_link_ids | sort)
	mkpod a >/dev/null || abort "round $round: pod add a failed"
	A=$(pod_ip a)
	B=$(pod_ip b)
	HA=$(podinfo a host_ifname)
	a_link_ids=$(comm -13 <(echo "$link_ids_b") <(pinned_link_ids | sort) | grep .)
	diag "round $round: a=$A ($HA) b=$B; a's pinned links: $(echo "$a_link_ids" | tr '\n' ' ')"
	check ${r}_pods_ping "ping a -> b failed" ping_ok "$(pod_ns a)" "$B" 2

	# init again with pods present: nothing lost, still forwarding
	if node_init n1 10.244.1.0/24 >/dev/null && ep_has "$A" && ep_has "$B" &&
		[ "$(bl pod list --json | jq length)" = 2 ] && ping_ok "$(pod_ns a)" "$B" 2; then
		pass ${r}_node_init_with_pods
	else
		fail ${r}_node_init_with_pods "node init with pods broke them (endpoints: $(ep_keys | tr '\n' ' '))"
	fi
	# every attachment runs the program pinned now (a re-init that reloads
	# programs must move the pods over, not leave them on the old ones)
	cur=$(pinned_obj_ids | awk '$1 == "prog" { print $2 }' | sort)
	stale=""
	while read -r f; do
		pid=$(timeout 10 bpftool -j link show pinned "$f" 2>/dev/null | jq -r '.prog_id')
		echo "$cur" | grep -qx "$pid" || stale="$stale ${f##*/}:prog$pid"
	done < <(find "$PIN/links" -type f 2>/dev/null)
	check ${r}_links_run_current_programs "links on programs that are not pinned:$stale (pinned: $(echo $cur))" \
		[ -z "$stale" ]

	# --- pod del ---
	if bl pod del a >/dev/null; then
		pass ${r}_pod_del
	else
		fail ${r}_pod_del "pod del a exited non-zero"
	fi
	if why=$(no_trace_of_pod a "$A" "$HA" "$links_b" "$state_b"); then
		pass ${r}_pod_del_no_trace
	else
		fail ${r}_pod_del_no_trace "$why"
	fi
	# a's attachment is gone from the kernel, not only unpinned
	if [ -n "$a_link_ids" ]; then
		mapfile -t arr < <(echo "$a_link_ids")
		if alive=$(wait_gone "${arr[@]}"); then
			pass ${r}_pod_del_link_freed
		else
			fail ${r}_pod_del_link_freed "still in the kernel after pod del:$alive"
		fi
	fi
	check ${r}_pod_b_survives "b lost its endpoint after del a" ep_has "$B"
	if bl pod del a >/dev/null; then
		pass ${r}_pod_del_twice
	else
		fail ${r}_pod_del_twice "second pod del a exited non-zero"
	fi

	# --- the address is free again ---
	if mkpod a2 --ip "$A" >/dev/null && [ "$(pod_ip a2)" = "$A" ] &&
		ping_ok "$(pod_ns a2)" "$B" 2 && ping_ok "$(pod_ns b)" "$A" 2; then
		pass ${r}_ip_reusable
	else
		fail ${r}_ip_reusable "pod a2 --ip $A failed or cannot reach b"
	fi

	# --- the runtime removed the netns before pod del (the CNI DEL order) ---
	HB=$(podinfo b host_ifname)
	b_link_ids=$(comm -13 <(echo "$link_ids0" | sort) <(echo "$link_ids_b") | grep .)
	n_before=$(pinned_links | grep -c .)
	[ -n "$(state_files | grep -E '^\./pods/b(\.[a-z]+)?$')" ] ||
		diag "no pod record for b found in $STATE/pods: $(state_files | tr '\n' ' ')"
	ip netns del "$(pod_ns b)"
	for i in $(seq 30); do bl_links | grep -qx "$HB" || break; sleep 0.1; done
	if bl pod del b >/dev/null; then
		why=$(no_trace_of_pod b "$B" "$HB" "$(pinned_links)")
		n_after=$(pinned_links | grep -c .)
		n_b=$(echo "$b_link_ids" | grep -c .)
		[ "$n_after" -ne $((n_before - n_b)) ] &&
			why="$why; pinned links $n_before -> $n_after, want -$n_b"
		if [ -n "$b_link_ids" ]; then
			mapfile -t arr < <(echo "$b_link_ids")
			alive=$(wait_gone "${arr[@]}") || why="$why; b's links still in the kernel:$alive"
		fi
		if [ -z "$why" ]; then
			pass ${r}_pod_del_after_netns_gone
		else
			fail ${r}_pod_del_after_netns_gone "${why#; }"
		fi
	else
		fail ${r}_pod_del_after_netns_gone "pod del b after its netns was deleted exited non-zero"
	fi

	# --- node reset with pods present ---
	mkpod c >/dev/null || fail ${r}_pod_add_c "pod add c failed"
	all_objs="$(pinned_obj_ids) $(pinned_link_ids)"
	all_objs=$(echo "$all_objs" | grep . | sort -u)
	if bl node reset >/dev/null; then
		pass ${r}_node_reset
	else
		fail ${r}_node_reset "node reset exited non-zero"
	fi
	if why=$(node_clean); then
		pass ${r}_node_reset_no_trace
	else
		fail ${r}_node_reset_no_trace "$why"
	fi
	# Programs, maps and links: nothing of this node is left in the kernel.
	# tcx attachments do not show in `bpftool net` of bpftool 7.1, so this is
	# the check that catches a program left attached.
	mapfile -t objarr < <(echo "$all_objs" | grep .)
	if [ "${#objarr[@]}" -eq 0 ]; then
		fail ${r}_node_reset_kernel_objects_freed "found no pinned programs/maps to follow"
	elif alive=$(wait_gone "${objarr[@]}"); then
		pass ${r}_node_reset_kernel_objects_freed
	else
		fail ${r}_node_reset_kernel_objects_freed "still in the kernel after reset:$alive"
	fi
	for p in a2 c; do
		if px "$p" ip link show eth0 >/dev/null 2>&1; then
			fail ${r}_node_reset_pod_eth0_gone "pod $p still has eth0"
		fi
	done
	st=$(bl node status --json 2>/dev/null)
	if [ "$(echo "$st" | jq -r '.initialized' 2>/dev/null)" = false ]; then
		pass ${r}_status_after_reset
	else
		fail ${r}_status_after_reset "node status after reset: '$st'"
	fi
	if bl node reset >/dev/null; then
		pass ${r}_node_reset_twice
	else
		fail ${r}_node_reset_twice "node reset on a reset node exited non-zero"
	fi
	# pod netns of this round go; the next round makes new ones
	for p in a a2 c; do
		ns=$(pod_ns "$p")
		[ -e "/run/netns/$ns" ] && ip netns del "$ns"
	done
done

# node init mounts bpffs when none is mounted. Tried in a private mount
# namespace with /sys/fs/bpf unmounted there, so the machine's bpffs (and
# everything pinned in it) is never touched.
if command -v unshare >/dev/null && command -v mountpoint >/dev/null; then
	make_ext_and_node n9 || abort "topology n9"
	rc=0
	timeout 60 unshare --mount --propagation private bash -c '
		n=0
		while mountpoint -q /sys/fs/bpf && [ $n -lt 5 ]; do
			umount /sys/fs/bpf || exit 3
			n=$((n + 1))
		done
		mountpoint -q /sys/fs/bpf && exit 3
		nsenter --net="$1" "$2" --pin-dir "$3" --state-dir "$4" node init \
			--uplink uplink --pod-cidr 10.244.5.0/24 >/dev/null || exit 4
		mountpoint -q /sys/fs/bpf || exit 5
		[ "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs ] || exit 6
		[ -e "$3/endpoints" ] || exit 7
		nsenter --net="$1" "$2" --pin-dir "$3" --state-dir "$4" node reset >/dev/null || exit 8
	' _ "/run/netns/$(node_ns n9)" "$BIN" "$(pin_of n9)" "$(state_of n9)" || rc=$?
	case $rc in
	0) pass node_init_mounts_bpffs ;;
	3) skip node_init_mounts_bpffs "cannot unmount /sys/fs/bpf in a private mount namespace" ;;
	4) fail node_init_mounts_bpffs "node init failed with no bpffs mounted" ;;
	5 | 6) fail node_init_mounts_bpffs "node init succeeded but mounted no bpffs on /sys/fs/bpf" ;;
	7) fail node_init_mounts_bpffs "node init pinned no endpoints map in the bpffs it mounted" ;;
	8) fail node_init_mounts_bpffs "node reset failed afterwards" ;;
	*) fail node_init_mounts_bpffs "unshare exited $rc" ;;
	esac
fi

finish
