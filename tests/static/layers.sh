#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The layers of user/ (docs/LAYOUT.md), from the top down:
#
#   cli -> agent -> {cni, obs} -> node -> datapath -> netlink -> lib
#
# A file may include headers of its own folder and of any folder below it,
# never above it nor a sibling of the same rank; BPF code and the shared
# header include nothing of user/. A layer's own folders (agent/k8s/) are
# of its rank. Reads the #include lines, prints one PASS/FAIL line per rule.
set -u
cd "$(dirname "$0")/../.." || exit 1

declare -A rank=([lib]=0 [netlink]=1 [datapath]=2 [node]=3 [cni]=4 [obs]=4
		 [agent]=5 [cli]=6)

bad=()
for f in user/*/*.[ch] user/*/*/*.[ch]; do
	dir=${f#user/}
	dir=${dir%%/*}
	[ -n "${rank[$dir]:-}" ] || { bad+=("$f: folder $dir has no layer"); continue; }
	while IFS= read -r inc; do
		to=${inc%%/*}
		[ "$to" = "$inc" ] && { bad+=("$f includes \"$inc\" without its folder"); continue; }
		[ -n "${rank[$to]:-}" ] || { bad+=("$f includes \"$inc\": no such layer"); continue; }
		if [ "$to" != "$dir" ] && [ "${rank[$to]}" -ge "${rank[$dir]}" ]; then
			bad+=("$f ($dir) includes $inc ($to): not a lower layer")
		fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f" |
		grep -v -x -e bridgeless.h -e datapath.skel.h)
done
if [ ${#bad[@]} -eq 0 ]; then
	echo "PASS layers.user_includes_downward"
else
	echo "FAIL layers.user_includes_downward: ${bad[0]} (and $((${#bad[@]} - 1)) more)"
	printf '%s\n' "${bad[@]}"
fi

# The skeleton is the datapath layer's alone.
owners=$(grep -l '#include "datapath.skel.h"' user/*/*.[ch] | grep -v '^user/datapath/' || true)
if [ -z "$owners" ]; then
	echo "PASS layers.skeleton_only_in_datapath"
else
	echo "FAIL layers.skeleton_only_in_datapath: included by" $owners
fi

# BPF code and the shared header stand alone: every quoted include of
# bpf/ is a file of bpf/ or the shared header, the shared header includes
# only kernel UAPI headers.
leaks=()
for f in bpf/*.c $(find bpf/lib -name '*.h'); do
	while IFS= read -r inc; do
		[ -e "$(dirname "$f")/$inc" ] || [ -e "bpf/$inc" ] || [ -e "include/$inc" ] ||
			leaks+=("$f: \"$inc\"")
		case $(realpath -m "$(dirname "$f")/$inc") in
		"$PWD"/bpf/* | "$PWD"/include/*) ;;
		*) [ -e "include/$inc" ] || [ -e "bpf/$inc" ] || leaks+=("$f: \"$inc\" outside bpf/") ;;
		esac
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done
grep -q '^#include "' include/*.h && leaks+=("include/: $(grep -l '^#include "' include/*.h)")
if [ ${#leaks[@]} -eq 0 ]; then
	echo "PASS layers.bpf_and_shared_header_standalone"
else
	echo "FAIL layers.bpf_and_shared_header_standalone: ${leaks[*]}"
fi
