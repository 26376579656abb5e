#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# One definition of everything: no struct is defined twice in the product
# (include/, bpf/, user/), and the pinned objects are named only through
# the shared header's BL_MAP_*/BL_PROG_* names, on both sides.
set -u
cd "$(dirname "$0")/../.." || exit 1

# struct NAME { at the start of a line (definitions, not uses)
dups=$(grep -rhoE '^(typedef )?struct [a-z_0-9]+ \{' include bpf user |
	sed -E 's/^(typedef )?struct ([a-z_0-9]+) \{/\2/' | sort | uniq -d)
if [ -z "$dups" ]; then
	echo "PASS definitions.structs_once"
else
	echo "FAIL definitions.structs_once: defined more than once:" $dups
	for d in $dups; do grep -rnE "^(typedef )?struct $d \{" include bpf user; done
fi

# Each BL_MAP_/BL_PROG_ name is #defined once, in the shared header.
names=$(grep -rhoE '#define BL_(MAP|PROG)_[A-Z_0-9]+' include bpf user | sort | uniq -c |
	awk '$1 != 1 { print $3 }')
if [ -z "$names" ]; then
	echo "PASS definitions.pin_names_once"
else
	echo "FAIL definitions.pin_names_once: defined more than once:" $names
fi

# User space opens pins by those names, never by a string of its own.
pins='endpoints|config|nomasq|nat|frags|counters|ep_stats|events|trace_cfg|from_pod|from_uplink|to_pod'
lits=$(grep -rnE "(pin_open|bpf_obj_get|remove_pin)\([^)]*\"($pins)\"" user || true)
lits+=$(grep -rnE "\"%s/($pins)\"" user || true)
if [ -z "$lits" ]; then
	echo "PASS definitions.pins_by_shared_name"
else
	echo "FAIL definitions.pins_by_shared_name: $lits"
fi

# The BPF side declares its maps and programs under the same names.
bad=""
for m in $(grep -oE '#define BL_MAP_[A-Z_0-9]+' include/bridgeless.h | awk '{print $2}'); do
	[ "$m" = BL_MAP_TRACE_CFG ] && continue # a data section, see the header
	grep -rqE "\} $m SEC\(\".maps\"\)" bpf || bad="$bad $m"
done
for p in $(grep -oE '#define BL_PROG_[A-Z_0-9]+' include/bridgeless.h | awk '{print $2}'); do
	grep -rqE "int $p\(struct __sk_buff" bpf || bad="$bad $p"
done
if [ -z "$bad" ]; then
	echo "PASS definitions.bpf_declares_by_shared_name"
else
	echo "FAIL definitions.bpf_declares_by_shared_name: not declared through:$bad"
fi
