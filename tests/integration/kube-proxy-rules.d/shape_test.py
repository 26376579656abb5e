#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Checks of tools/kube-proxy-rules' text, no namespace needed: one check per
behaviour of kube-proxy's that the tool reproduces (chain names, endpoint
selection, traffic policies, affinity, probabilities, large cluster mode,
skipped services, bad input, --generate). Expectations are written here
from how kube-proxy behaves, with no text taken from kube-proxy.

Prints "PASS kube-proxy-shape.NAME" / "FAIL kube-proxy-shape.NAME: why" lines
for tests/run; exit status 1 if anything failed."""

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TOOL = os.path.join(ROOT, "tools", "kube-proxy-rules")
TEST = "kube-proxy-shape"


class Fail(Exception):
    pass


def run(args, stdin=None):
    p = subprocess.run([sys.executable, TOOL] + args, input=stdin, capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def rules(args, objects):
    rc, out, err = run(["--services", "-"] + args, json.dumps(objects))
    if rc != 0:
        raise Fail("exit %d: %s" % (rc, err.strip()))
    return out


def ipt_parse(text):
    """{table: ([chain declarations], {chain: [rules in order]})}"""
    tables, cur = {}, None
    for line in text.splitlines():
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            cur = tables.setdefault(line[1:], ([], {}))
        elif line.startswith(":"):
            cur[0].append(line.split()[0][1:])
        elif line.startswith("-A "):
            cur[1].setdefault(line.split()[1], []).append(line)
        else:
            raise Fail("not an iptables-restore line: " + line)
    return tables


def check(cond, msg):
    if not cond:
        raise Fail(msg)


# --- behaviours ----------------------------------------------------------------------


def svc(name, ports=None, **spec):
    spec.setdefault("clusterIP", "10.96.0.10")
    spec["ports"] = ports or [{"name": "http", "port": 80, "protocol": "TCP"}]
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"namespace": "default", "name": name}, "spec": spec}


def eps(name, endpoints, ports=None):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"namespace": "default", "name": name + "-x",
                         "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ip], "nodeName": node,
                           "conditions": dict(zip(("ready", "serving", "terminating"), c))}
                          for ip, node, c in endpoints],
            "ports": ports or [{"name": "http", "port": 8080, "protocol": "TCP"}]}


READY = (True, True, False)
SERVING_TERMINATING = (False, True, True)
TERMINATING = (False, False, True)
NODE = ["--node-name", "n1", "--node-ip", "198.51.100.2", "--cluster-cidr", "10.244.0.0/16"]


def dnats(text):
    return sorted(re.findall(r"--to-destination (\S+)", text))


def nft_dnats(text):
    return sorted(re.findall(r"dnat to (\S+)", text))


def test_ready_endpoints_before_terminating():
    objs = [svc("a"), eps("a", [("10.244.1.2", "n1", READY),
                                ("10.244.2.2", "n2", SERVING_TERMINATING)])]
    for mode, find in (("iptables", dnats), ("nftables", nft_dnats)):
        got = find(rules(NODE + ["--mode", mode], objs))
        check(got == ["10.244.1.2:8080"], "%s: ready and terminating: %s" % (mode, got))
    objs = [svc("a"), eps("a", [("10.244.1.2", "n1", SERVING_TERMINATING),
                                ("10.244.2.2", "n2", TERMINATING),
                                ("10.244.2.3", "n2", (False, False, False))])]
    got = dnats(rules(NODE, objs))
    check(got == ["10.244.1.2:8080"], "no ready: serving+terminating only, got %s" % got)
    objs = [svc("a"), eps("a", [("10.244.2.2", "n2", TERMINATING)])]
    out = rules(NODE, objs)
    check(not dnats(out) and '"default/a:http has no endpoints"' in out and "-j REJECT" in out,
          "nothing usable: no REJECT rule")


def test_no_endpoints_reject():
    objs = [svc("a", type="NodePort", externalIPs=["192.0.2.7"],
                ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}])]
    f = ipt_parse(rules(NODE, objs))["filter"][1]
    want = ['-A KUBE-SERVICES -m comment --comment "default/a:http has no endpoints" '
            "-m tcp -p tcp -d 10.96.0.10 --dport 80 -j REJECT"]
    check(f["KUBE-SERVICES"] == want, "KUBE-SERVICES %s" % f.get("KUBE-SERVICES"))
    ext = f.get("KUBE-EXTERNAL-SERVICES", [])
    check(len(ext) == 2 and all(r.endswith("-j REJECT") for r in ext) and
          "-d 192.0.2.7" in ext[0] and "--dst-type LOCAL" in ext[1] and "--dport 30080" in ext[1],
          "KUBE-EXTERNAL-SERVICES %s" % ext)
    n = ipt_parse(rules(NODE, objs))["nat"]
    check(not [c for c in n[0] if c.startswith(("KUBE-SVC", "KUBE-SEP", "KUBE-EXT"))],
          "nat chains for a service without endpoints: %s" % n[0])
    out = rules(NODE + ["--mode", "nftables"], objs)
    for e in ('no-endpoint-services { 10.96.0.10 . tcp . 80 comment "default/a:http" : '
              "goto reject-chain }",
              'no-endpoint-services { 192.0.2.7 . tcp . 80 comment "default/a:http" : '
              "goto reject-chain }",
              'no-endpoint-nodeports { tcp . 30080 comment "default/a:http" : goto reject-chain }'):
        check(e in out, "nftables: no element " + e)
    check("add element ip kube-proxy service-ips" not in out, "nftables: a service-ips element")


def test_internal_traffic_policy_local():
    objs = [svc("a", internalTrafficPolicy="Local"),
            eps("a", [("10.244.1.2", "n1", READY), ("10.244.2.2", "n2", READY)])]
    n = ipt_parse(rules(NODE, objs))["nat"]
    svl = [c for c in n[0] if c.startswith("KUBE-SVL-")]
    check(len(svl) == 1 and not [c for c in n[0] if c.startswith("KUBE-SVC-")],
          "chains %s" % n[0])
    check(n[1]["KUBE-SERVICES"][0].endswith("-j " + svl[0]), "KUBE-SERVICES does not jump to SVL")
    check(dnats("\n".join(sum(n[1].values(), []))) == ["10.244.1.2:8080"],
          "SVL endpoints not only the local one")
    out = rules(NODE + ["--mode", "nftables"], objs)
    check(nft_dnats(out) == ["10.244.1.2:8080"] and "goto local-" in out, "nftables local chain")
    # endpoints only on another node: dropped, not rejected, and only ClusterIP
    objs = [svc("a", internalTrafficPolicy="Local"), eps("a", [("10.244.2.2", "n2", READY)])]
    f = ipt_parse(rules(NODE, objs))["filter"][1]["KUBE-SERVICES"]
    check(f == ['-A KUBE-SERVICES -m comment --comment "default/a:http has no local endpoints" '
                "-m tcp -p tcp -d 10.96.0.10 --dport 80 -j DROP"], "filter %s" % f)
    out = rules(NODE + ["--mode", "nftables"], objs)
    check('no-endpoint-services { 10.96.0.10 . tcp . 80 comment "default/a:http" : drop }' in out,
          "nftables: no drop element")


def test_external_traffic_policy_local():
    objs = [svc("a", type="NodePort", externalTrafficPolicy="Local",
                ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}]),
            eps("a", [("10.244.1.2", "n1", READY), ("10.244.2.2", "n2", READY)])]
    n = ipt_parse(rules(NODE, objs))["nat"]
    ext = [c for c in n[0] if c.startswith("KUBE-EXT-")][0]
    svl = [c for c in n[0] if c.startswith("KUBE-SVL-")][0]
    r = n[1][ext]
    check(len(r) == 4 and "-s 10.244.0.0/16" in r[0] and "--src-type LOCAL" in r[1] and
          r[3] == "-A %s -j %s" % (ext, svl), "EXT chain %s" % r)
    # the Local chain balances over the local endpoint only
    check(len(n[1][svl]) == 1, "SVL chain %s: not one local endpoint" % n[1][svl])
    sep = n[1][svl][0].split()[-1]
    check(dnats("\n".join(n[1][sep])) == ["10.244.1.2:8080"], "SVL -> %s not local" % sep)


def test_session_affinity():
    objs = [svc("a", sessionAffinity="ClientIP",
                sessionAffinityConfig={"clientIP": {"timeoutSeconds": 600}}),
            eps("a", [("10.244.1.2", "n1", READY), ("10.244.2.2", "n2", READY)])]
    n = ipt_parse(rules(NODE, objs))["nat"][1]
    svcc = [c for c in n if c.startswith("KUBE-SVC-")][0]
    rc = [r for r in n[svcc] if "--rcheck" in r]
    check(len(rc) == 2 and all("--seconds 600 --reap" in r for r in rc), "rcheck rules %s" % rc)
    sets = [r for c, rr in n.items() if c.startswith("KUBE-SEP-") for r in rr if "--set" in r]
    check(len(sets) == 2, "recent --set rules %s" % sets)
    out = rules(NODE + ["--mode", "nftables"], objs)
    check(out.count("flags dynamic,timeout ; timeout 600s ;") == 2 and
          out.count("update @affinity-") == 2, "nftables affinity sets/updates")
    objs[0]["spec"].pop("sessionAffinityConfig")
    check("--seconds 10800" in rules(NODE, objs), "default timeout not 10800")


def test_probabilities():
    objs = [svc("a"), eps("a", [("10.244.1.%d" % i, "n1", READY) for i in (2, 3, 10)])]
    r = [x for c, rr in ipt_parse(rules(NODE, objs))["nat"][1].items()
         if c.startswith("KUBE-SVC-") for x in rr if "->" in x]
    p = [re.search(r"--probability (\S+)", x) for x in r]
    check([m.group(1) if m else None for m in p] == ["0.3333333333", "0.5000000000", None],
          "probabilities %s" % r)
    # endpoints in kube-proxy's order: sorted as "ip:port" strings
    check([re.search(r"-> (\S+)\"", x).group(1) for x in r] ==
          ["10.244.1.10:8080", "10.244.1.2:8080", "10.244.1.3:8080"], "order %s" % r)


def test_large_cluster_mode():
    def objs(n):
        out = []
        for i in range(n):
            out += [svc("s%d" % i, clusterIP="10.96.1.%d" % (i % 250) if i < 250 else
                        "10.96.2.%d" % (i % 250)),
                    eps("s%d" % i, [("10.244.1.2", "n1", READY), ("10.244.2.2", "n2", READY)])]
        return out
    small = ipt_parse(rules(NODE, objs(500)))["nat"][1]  # 1000 endpoints: comments kept
    big = ipt_parse(rules(NODE, objs(501)))["nat"][1]  # 1002: kube-proxy drops them
    sep = [c for c in small if c.startswith("KUBE-SEP-")][0]
    check("--comment" in small[sep][0], "comments gone at 1000 endpoints")
    sep = [c for c in big if c.startswith("KUBE-SEP-")][0]
    svcc = [c for c in big if c.startswith("KUBE-SVC-")][0]
    check("--comment" not in big[sep][0] and "--comment" not in big[svcc][-1],
          "comments kept above 1000 endpoints: %s" % big[sep][0])
    check('"default/s0:http cluster IP"' in big["KUBE-SERVICES"][0],
          "KUBE-SERVICES lost its comment")


def kube_chain(prefix, *parts):
    """kube-proxy's chain name: prefix + base32(sha256(what)) cut to 16."""
    digest = hashlib.sha256("".join(parts).encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:16]


def test_chain_names():
    objs = [svc("web", ports=[{"name": "http", "port": 80}]),
            eps("web", [("10.244.1.2", "n1", READY)], ports=[{"name": "http", "port": 8080}])]
    out = rules(NODE, objs)
    svc_chain = kube_chain("KUBE-SVC-", "default/web:http", "tcp")
    sep_chain = kube_chain("KUBE-SEP-", "default/web:http", "tcp", "10.244.1.2:8080")
    for c in (svc_chain, sep_chain):
        check(c in out, "no chain " + c)
    objs = [svc("a", ports=[{"port": 80}]), eps("a", [("10.244.1.2", "n1", READY)],
                                                ports=[{"name": "", "port": 8080}])]
    out = rules(NODE, objs)
    check('"default/a cluster IP"' in out and dnats(out) == ["10.244.1.2:8080"],
          "unnamed port: comment or endpoint wrong")


def test_skipped_services():
    objs = [svc("headless", clusterIP="None"), svc("ext", type="ExternalName", clusterIP=""),
            svc("v6", clusterIP="fd00::10", clusterIPs=["fd00::10"]), svc("ok")]
    out = rules(NODE, objs)
    check(out.count("cluster IP") == 0 and out.count("has no endpoints") == 1 and
          "default/ok:http" in out, "skipped services show up")


def test_one_element_per_key():
    objs = [svc("a", ports=[{"name": "tcp", "port": 53, "protocol": "TCP"},
                            {"name": "udp", "port": 53, "protocol": "UDP"}]),
            eps("a", [("10.244.1.2", "n1", READY)],
                ports=[{"name": "tcp", "port": 53, "protocol": "TCP"},
                       {"name": "udp", "port": 53, "protocol": "UDP"}])]
    out = rules(NODE + ["--mode", "nftables"], objs)
    check(out.count("add element ip kube-proxy cluster-ips { 10.96.0.10 }") == 1,
          "cluster-ips element not written once")
    check(sorted(nft_dnats(out)) == ["10.244.1.2:53", "10.244.1.2:53"] and
          "meta l4proto udp dnat" in out, "TCP and UDP ports not both served")


def test_bad_input():
    with tempfile.TemporaryDirectory() as d:
        outp = os.path.join(d, "out")
        for stdin, args, msg in (
                ("{", [], "not JSON"),
                (json.dumps([svc("a", ports=[{"port": 70000}])]), [],
                 "Service default/a: spec.ports[0].port: 70000 is not a number in 1..65535"),
                (json.dumps([svc("a", clusterIP="10.96.0.300")]), [],
                 "Service default/a: spec.clusterIP: '10.96.0.300' is not an IP address"),
                (json.dumps([svc("a", sessionAffinity="Sticky")]), [],
                 "Service default/a: spec.sessionAffinity 'Sticky' is not None or ClientIP"),
                ("[]", ["--mode", "nftables"], "needs --node-ip"),
                ("[]", ["--cluster-cidr", "10.244.0.0/33"], "--cluster-cidr '10.244.0.0/33'")):
            rc, out, err = run(["--services", "-", "-o", outp] + args, stdin)
            lines = err.strip().splitlines()
            check(rc != 0 and msg in err and not out, "%r: rc %d, stderr %r" % (msg, rc, err))
            check(len([x for x in lines if "kube-proxy-rules" in x and "usage" not in x]) == 1,
                  "%r: not one error line: %r" % (msg, err))
            check(not os.listdir(d), "%r: left %s behind" % (msg, os.listdir(d)))


def test_generate():
    rc, out, err = run(["--generate", "5", "--endpoints-per-service", "3",
                        "--node", "a=10.244.1.0/24", "--node", "b=10.244.2.0/24",
                        "--pods-per-node", "4", "--service-cidr", "10.96.0.0/12"])
    check(rc == 0, "exit %d: %s" % (rc, err))
    doc = json.loads(out)
    svcs = [i for i in doc["items"] if i["kind"] == "Service"]
    slices = [i for i in doc["items"] if i["kind"] == "EndpointSlice"]
    check(len(svcs) == 5 and len(slices) == 5, "%d services, %d slices" % (len(svcs), len(slices)))
    check([s["spec"]["clusterIP"] for s in svcs] == ["10.96.0.%d" % (16 + i) for i in range(5)],
          "cluster IPs")
    e0 = [(e["addresses"][0], e["nodeName"]) for e in slices[0]["endpoints"]]
    check(e0 == [("10.244.1.2", "a"), ("10.244.2.2", "b"), ("10.244.1.3", "a")], "svc 0: %s" % e0)
    for s in slices:
        ips = [e["addresses"][0] for e in s["endpoints"]]
        check(len(set(ips)) == 3, "duplicate endpoints %s" % ips)
    got = rules(NODE, doc)
    check(len(dnats(got)) == 15 and got.count("cluster IP\" -m tcp") == 10,
          "the generated list does not give 5 services of 3 endpoints")
    rc, out, err = run(["--generate", "5", "--endpoints-per-service", "4", "--pods-per-node", "1"])
    check(rc == 1 and "--pods-per-node 1" in err and not out, "too few pods accepted: %s" % err)


def main():
    failed = 0
    for name, fn in sorted(globals().items()):
        if not name.startswith("test_"):
            continue
        try:
            fn()
            print("PASS %s.%s" % (TEST, name[5:]))
        except Fail as e:
            print("FAIL %s.%s: %s" % (TEST, name[5:], e))
            failed += 1
        except Exception as e:  # a broken check must show, not stop the others
            print("FAIL %s.%s: %s: %s" % (TEST, name[5:], type(e).__name__, e))
            failed += 1
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
