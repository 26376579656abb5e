#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The README stays true: its command overview is `bridgeless --help` as
# built, every document it links exists, and its layout table names every
# folder of user/ and bpf/ and nothing that is not there.
set -u
cd "$(dirname "$0")/../.." || exit 1

if [ ! -x build/bridgeless ]; then
	echo "SKIP readme.usage_is_help: build/bridgeless not built (make test builds it)"
else
	want=$(build/bridgeless --help 2>&1)
	have=$(awk '/^## Using it/ { u = 1 } u && /^```$/ { if (b) exit; b = 1; next } b' README.md)
	if [ "$want" = "$have" ]; then
		echo "PASS readme.usage_is_help"
	else
		echo "FAIL readme.usage_is_help: README's \"Using it\" block differs from bridgeless --help:"
		diff <(echo "$have") <(echo "$want") | head -20
	fi
fi

missing=$(grep -o '](docs/[^)]*)' README.md | sed 's/^](//; s/)$//' | sort -u |
	while read -r f; do [ -e "$f" ] || echo "$f"; done | tr '\n' ' ')
if [ -z "$missing" ]; then
	echo "PASS readme.links_exist"
else
	echo "FAIL readme.links_exist: README links to missing $missing"
fi

bad=
for d in user/*/ bpf/lib/; do
	d=${d%/}
	grep -q "\`$d/\`" README.md || bad+="$d (not in the table) "
done
for d in $(grep -o '^| `[a-z./]*/`' README.md | sed 's/^| `//; s/`$//; s:/$::'); do
	[ -d "$d" ] || bad+="$d (no such folder) "
done
if [ -z "$bad" ]; then
	echo "PASS readme.layout_matches_tree"
else
	echo "FAIL readme.layout_matches_tree: $bad"
fi
