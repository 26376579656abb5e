#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Does the ruleset the kernel holds have the shape of the file loaded?

  loaded.py iptables FILE <iptables-save-output
  loaded.py nftables FILE <nft-j-list-table-ip-kube-proxy-output

iptables: every table of FILE has the same chains in iptables-save's output,
and every chain the same number of rules with the same targets (-j) in the
same order. nftables: table ip kube-proxy has the same chains, every chain
the same number of rules with the same jump/goto targets in the same order,
and every set and map the same number of elements. iptables-save and nft
print rules in their own normal form, so the text itself is not compared.
Prints what differs; exit status 1 if anything does."""

import json
import re
import sys


def ipt_shape(text, only=None):
    tables, cur = {}, None
    for line in text.splitlines():
        if line.startswith("*"):
            cur = tables.setdefault(line[1:], {})
        elif line.startswith(":"):
            cur.setdefault(line.split()[0][1:], [])
        elif line.startswith("-A "):
            w = line.split()
            target = w[w.index("-j") + 1] if "-j" in w else None
            cur.setdefault(w[1], []).append(target)
    if only is not None:
        tables = {t: c for t, c in tables.items() if t in only}
    return tables


def targets(text):
    return re.findall(r"\b(?:jump|goto) (\S+)", text)


def nft_file_shape(text):
    chains, elems = {}, {}
    for line in text.splitlines():
        w = line.split()
        if len(w) < 5 or w[0] != "add":
            continue
        if w[1] == "chain":
            chains.setdefault(w[4], [])
        elif w[1] == "rule":
            chains.setdefault(w[4], []).append(targets(line.split(None, 5)[5]))
        elif w[1] in ("set", "map"):
            elems.setdefault(w[4], 0)
        elif w[1] == "element":
            elems[w[4]] = elems.get(w[4], 0) + 1
    return chains, elems


def json_targets(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("jump", "goto") and isinstance(v, dict) and "target" in v:
                out.append(v["target"])
            else:
                json_targets(v, out)
    elif isinstance(node, list):
        for v in node:
            json_targets(v, out)
    return out


def nft_loaded_shape(doc):
    chains, elems = {}, {}
    for obj in doc.get("nftables", []):
        if "chain" in obj:
            chains.setdefault(obj["chain"]["name"], [])
        elif "rule" in obj:
            chains.setdefault(obj["rule"]["chain"], []).append(
                json_targets(obj["rule"]["expr"], []))
        elif "set" in obj or "map" in obj:
            s = obj.get("set") or obj.get("map")
            elems[s["name"]] = len(s.get("elem", []))
    return chains, elems


def compare(what, want, got, problems):
    for k in sorted(set(want) | set(got)):
        if k not in got:
            problems.append("%s %s: not loaded" % (what, k))
        elif k not in want:
            problems.append("%s %s: loaded, not in the file" % (what, k))
        elif want[k] != got[k]:
            problems.append("%s %s: file %s, loaded %s" % (what, k, str(want[k])[:200],
                                                          str(got[k])[:200]))


def main(argv):
    if len(argv) != 2 or argv[0] not in ("iptables", "nftables"):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        text = f.read()
    problems = []
    if argv[0] == "iptables":
        want = ipt_shape(text)
        got = ipt_shape(sys.stdin.read(), only=set(want))
        for t in sorted(set(want) | set(got)):
            compare("table %s chain" % t, want.get(t, {}), got.get(t, {}), problems)
    else:
        wc, we = nft_file_shape(text)
        gc, ge = nft_loaded_shape(json.load(sys.stdin))
        compare("chain", wc, gc, problems)
        compare("set/map", we, ge, problems)
    for p in problems[:10]:
        print(p)
    if len(problems) > 10:
        print("... and %d more" % (len(problems) - 10))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
