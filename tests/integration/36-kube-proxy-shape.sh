#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/kube-proxy-rules writes the rules kube-proxy writes: one check per
# behaviour (chain names, endpoint selection, traffic policies, affinity,
# probabilities, large cluster mode, bad input, --generate). Text only: no
# namespace, nothing loaded.
TEST=kube-proxy-shape
cd "$(dirname "$0")" || exit 1
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP $TEST.all: python3 not installed"
	exit 0
fi
exec python3 kube-proxy-rules.d/shape_test.py
