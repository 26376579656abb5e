#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A small Kubernetes API server for the tests (test code only).

There is no kube-apiserver among Debian's packages, so the agent's tests
talk to this one. It speaks the documented protocol over HTTPS (a test CA
made with openssl), for the resources the agent follows and for what
kubectl needs to work against it (discovery):

  GET /api/v1/nodes, /api/v1/services, /apis/discovery.k8s.io/v1/endpointslices
      (also per namespace, and one object by name)
      LIST: ?limit=N&continue=TOKEN pages over one snapshot (a page may be
      short on command); metadata.resourceVersion of the snapshot
      WATCH: ?watch=1&resourceVersion=RV[&allowWatchBookmarks=true]
      [&timeoutSeconds=S]: every change after RV as newline-delimited JSON
      events (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR) in a chunked
      answer; RV older than the last compaction: 410 Gone, as an ERROR
      event in a 200 answer (what kube-apiserver does) or as the HTTP status
  Bearer token checked (401 Unauthorized otherwise), or a client
  certificate signed by the CA.

The test drives it through a control socket (HTTP over a UNIX socket, so
it is reachable from any network namespace):

  POST /apply          body: an object, an array or a List: create or update
  POST /delete         body: {"resource": R, "key": "ns/name"}
  POST /delete-namespace?namespace=NS   every object in NS
  POST /bookmark       a BOOKMARK event on every open watch
  POST /compact?gone=event|http   forget history up to now (watches from
                       older RVs and continue tokens get 410); with
                       &expire=1 the open watches get an ERROR 410 and end
  POST /drop?how=end|reset|cut[&resource=R]  end open watches cleanly,
                       reset their TCP connection, or reset it in the middle
                       of an event
  POST /token          body: the token to accept from now on
  POST /down, /up      reset every connection (API unreachable), or not
  POST /short-pages?on=1  LIST pages of fewer items than the limit
  POST /generate?services=N&endpoints=M  N Services with M endpoints each
  GET  /stats          requests seen, TLS handshakes refused, open watches
  GET  /objects        every object, as a List
"""

import argparse
import base64
import json
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESOURCES = {
    "nodes": {"group": "", "version": "v1", "kind": "Node", "namespaced": False},
    "services": {"group": "", "version": "v1", "kind": "Service", "namespaced": True},
    "endpointslices": {"group": "discovery.k8s.io", "version": "v1",
                       "kind": "EndpointSlice", "namespaced": True},
}
KIND_TO_RES = {v["kind"]: k for k, v in RESOURCES.items()}

# Discovery: enough for kubectl to map what deploy/daemonset.yaml holds and
# what the tests get.
DISCOVERY = {
    "v1": [("nodes", "Node", False), ("services", "Service", True),
           ("namespaces", "Namespace", False), ("pods", "Pod", True),
           ("serviceaccounts", "ServiceAccount", True), ("configmaps", "ConfigMap", True)],
    "apps/v1": [("daemonsets", "DaemonSet", True), ("deployments", "Deployment", True)],
    "rbac.authorization.k8s.io/v1": [("clusterroles", "ClusterRole", False),
                                     ("clusterrolebindings", "ClusterRoleBinding", False),
                                     ("roles", "Role", True), ("rolebindings", "RoleBinding", True)],
    "discovery.k8s.io/v1": [("endpointslices", "EndpointSlice", True)],
}
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def api_version(res):
    r = RESOURCES[res]
    return (r["group"] + "/" if r["group"] else "") + r["version"]


def obj_key(obj):
    md = obj.get("metadata") or {}
    ns, name = md.get("namespace"), md.get("name")
    return f"{ns}/{name}" if ns else name


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class State:
    def __init__(self, token):
        self.cond = threading.Condition()
        self.rv = 100
        self.objects = {r: {} for r in RESOURCES}
        self.history = []  # (rv, res, type, obj)
        self.compacted = 0
        self.gone_style = "event"
        self.token = token
        self.down = False
        self.short_pages = False
        self.snapshots = {}
        self.next_snap = 1
        self.watches = []  # open watch handlers
        self.requests = []
        self.tls_failures = []
        self.uid = 0

    # --- changes (callers hold cond) ---------------------------------------
    def _bump(self):
        self.rv += 1
        return self.rv

    def apply(self, obj):
        res = KIND_TO_RES.get(obj.get("kind"))
        if res is None:
            raise ValueError(f"kind {obj.get('kind')!r} is not served")
        obj = json.loads(json.dumps(obj))
        md = obj.setdefault("metadata", {})
        if RESOURCES[res]["namespaced"]:
            md.setdefault("namespace", "default")
        key = obj_key(obj)
        old = self.objects[res].get(key)
        rv = self._bump()
        md["resourceVersion"] = str(rv)
        if old is not None:
            md["uid"] = old["metadata"]["uid"]
            md["creationTimestamp"] = old["metadata"]["creationTimestamp"]
        else:
            self.uid += 1
            md.setdefault("uid", f"00000000-0000-0000-0000-{self.uid:012d}")
            md.setdefault("creationTimestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        obj["apiVersion"] = api_version(res)
        self.objects[res][key] = obj
        self.history.append((rv, res, "MODIFIED" if old is not None else "ADDED", obj))
        return rv

    def delete(self, res, key):
        old = self.objects[res].pop(key, None)
        if old is None:
            return None
        rv = self._bump()
        obj = json.loads(json.dumps(old))
        obj["metadata"]["resourceVersion"] = str(rv)
        self.history.append((rv, res, "DELETED", obj))
        return rv

    def compact(self):
        self.compacted = self.rv
        self.history = []
        self.snapshots = {}


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, addr, handler, state, tls_ctx, family):
        self.address_family = family
        self.state = state
        self.tls_ctx = tls_ctx
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        st = self.state
        if st.down:
            reset(request)
            return
        request.settimeout(10)
        try:
            tls = self.tls_ctx.wrap_socket(request, server_side=True,
                                           do_handshake_on_connect=False)
            tls.do_handshake()
        except (ssl.SSLError, OSError) as e:
            with st.cond:
                st.tls_failures.append(str(e))
            request.close()
            return
        tls.settimeout(None)
        try:
            super().finish_request(tls, client_address)
        except (OSError, ssl.SSLError):
            pass

    def handle_error(self, request, client_address):
        pass  # a client that went away: nothing to tell


def reset(sock):
    """Close with a TCP RST (SO_LINGER 0), as a crashed peer or a middlebox does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bridgeless-test-apiserver"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("apiserver: " + (fmt % args) + "\n")

    # --- answers ------------------------------------------------------------
    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def authorized(self):
        st = self.server.state
        auth = self.headers.get("Authorization", "")
        if auth == "Bearer " + st.token:
            return "token"
        cert = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
        if cert:
            return "cert"
        return None

    def record(self, who, code):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        with st.cond:
            st.requests.append({"path": u.path, "query": dict(urllib.parse.parse_qsl(u.query)),
                                "auth": who, "code": code, "time": time.time()})

    # --- routing ------------------------------------------------------------
    def do_GET(self):
        if self.server.state.down:  # also for a connection made just before
            self.close_connection = True
            return reset(self.connection)
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        who = self.authorized()
        if who is None:
            self.record(None, 401)
            return self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
        path = u.path.rstrip("/")
        if path == "/version":
            self.record(who, 200)
            return self.send_json(200, {"major": "1", "minor": "30",
                                        "gitVersion": "v1.30.0-bridgeless-test",
                                        "platform": "linux/amd64"})
        d = self.discovery(path)
        if d is not None:
            self.record(who, 200)
            return self.send_json(200, d)
        res, ns, name = self.resource_of(path)
        if res is None:
            self.record(who, 404)
            return self.send_json(404, status(404, "NotFound", f"the server could not find {path}"))
        if name is not None:
            return self.get_one(who, res, ns, name)
        if q.get("watch") in ("1", "true"):
            return self.watch(who, res, ns, q)
        return self.list(who, res, ns, q)

    def discovery(self, path):
        if path == "/api":
            return {"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                    "serverAddress": self.server.public}]}
        if path == "/apis":
            groups = []
            for gv in DISCOVERY:
                if "/" not in gv:
                    continue
                g, v = gv.split("/")
                ver = {"groupVersion": gv, "version": v}
                groups.append({"name": g, "versions": [ver], "preferredVersion": ver})
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        gv = path[len("/api/"):] if path.startswith("/api/") else path[len("/apis/"):] \
            if path.startswith("/apis/") else None
        if gv in DISCOVERY:
            return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                    "resources": [{"name": n, "singularName": k.lower(), "namespaced": ns,
                                   "kind": k, "verbs": VERBS} for n, k, ns in DISCOVERY[gv]]}
        return None

    @staticmethod
    def resource_of(path):
        """(resource, namespace or None, name or None) of an object path."""
        for res, r in RESOURCES.items():
            base = "/api/v1" if not r["group"] else f"/apis/{r['group']}/{r['version']}"
            if not path.startswith(base + "/"):
                continue
            rest = path[len(base) + 1:].split("/")
            ns = None
            if r["namespaced"] and len(rest) >= 3 and rest[0] == "namespaces":
                ns, rest = rest[1], rest[2:]
            if rest[0] != res or len(rest) > 2:
                continue
            return res, ns, rest[1] if len(rest) == 2 else None
        return None, None, None

    def get_one(self, who, res, ns, name):
        st = self.server.state
        with st.cond:
            obj = st.objects[res].get(f"{ns}/{name}" if ns else name)
        if obj is None:
            self.record(who, 404)
            return self.send_json(404, status(404, "NotFound", f'{res} "{name}" not found'))
        self.record(who, 200)
        self.send_json(200, obj)

    def list(self, who, res, ns, q):
        st = self.server.state
        limit = int(q.get("limit", "0") or 0)
        with st.cond:
            if "continue" in q:
                try:
                    snap_id, offset = json.loads(base64.b64decode(q["continue"]))
                    rv, items = st.snapshots[snap_id]
                except (ValueError, KeyError):
                    self.record(who, 410)
                    return self.send_json(410, status(
                        410, "Expired", "The provided continue parameter is too old to display a consistent list result."))
            else:
                rv, offset = st.rv, 0
                items = [json.loads(json.dumps(o)) for k, o in sorted(st.objects[res].items())
                         if ns is None or o["metadata"].get("namespace") == ns]
                for o in items:  # a List's items carry no kind (as kube-apiserver's)
                    o.pop("kind", None)
                    o.pop("apiVersion", None)
                snap_id = st.next_snap
                st.next_snap += 1
                if limit and len(items) > limit:
                    st.snapshots[snap_id] = (rv, items)
            n = limit if limit else len(items)
            if limit and st.short_pages and n > 1:
                n = max(1, n // 2 - 1)  # "a page may hold fewer items than the limit"
            page = items[offset:offset + n]
            md = {"resourceVersion": str(rv)}
            if offset + n < len(items):
                md["continue"] = base64.b64encode(json.dumps([snap_id, offset + n]).encode()).decode()
                md["remainingItemCount"] = len(items) - offset - n
        self.record(who, 200)
        self.send_json(200, {"kind": RESOURCES[res]["kind"] + "List",
                             "apiVersion": api_version(res), "metadata": md, "items": page})

    def watch(self, who, res, ns, q):
        st = self.server.state
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true")
        timeout = float(q.get("timeoutSeconds", "1800") or 1800)
        start = q.get("resourceVersion", "")
        me = {"res": res, "drop": None, "bookmark": False, "expire": False}
        with st.cond:
            try:
                from_rv = int(start) if start not in ("", "0") else None
            except ValueError:
                self.record(who, 400)
                return self.send_json(400, status(400, "BadRequest", "bad resourceVersion"))
            gone = from_rv is not None and from_rv < st.compacted
            if gone and st.gone_style == "http":
                self.record(who, 410)
                return self.send_json(410, status(
                    410, "Expired", f"too old resource version: {from_rv} ({st.compacted})"))
            if from_rv is None:  # "" and "0": the current state first, as ADDED
                backlog = [(st.rv, "ADDED", o) for k, o in sorted(st.objects[res].items())]
                at = st.rv
            else:
                backlog = []
                at = from_rv
            st.watches.append(me)
            self.record(who, 200)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        deadline = time.time() + timeout
        try:
            if gone:
                self.chunk(json.dumps({"type": "ERROR", "object": status(
                    410, "Expired", f"too old resource version: {from_rv} ({st.compacted})")}).encode() + b"\n")
                self.chunk(b"")
                return
            for rv, typ, o in backlog:
                self.event(typ, o, ns)
            while True:
                with st.cond:
                    while True:
                        events = [(rv, t, o) for rv, r, t, o in st.history
                                  if r == res and rv > at]
                        if events or me["drop"] or me["bookmark"] or me["expire"] \
                                or time.time() >= deadline:
                            break
                        st.cond.wait(min(0.5, max(0.01, deadline - time.time())))
                    drop, bm, expire = me["drop"], me["bookmark"], me["expire"]
                    if st.down:
                        drop = "reset"
                    me["bookmark"] = False
                    cur = st.rv
                if drop == "cut":
                    # half an event, then the connection dies
                    self.wfile.write(b"40\r\n{\"type\":\"MODIFIED\",\"object\":{\"kind\":")
                    self.wfile.flush()
                    return reset(self.connection)
                if drop == "reset":
                    return reset(self.connection)
                for rv, t, o in events:
                    self.event(t, o, ns)
                    at = rv
                if expire:
                    self.chunk(json.dumps({"type": "ERROR", "object": status(
                        410, "Expired", "too old resource version")}).encode() + b"\n")
                    self.chunk(b"")
                    return
                if bm and bookmarks:
                    kind = RESOURCES[res]["kind"]
                    self.chunk(json.dumps({"type": "BOOKMARK", "object": {
                        "kind": kind, "apiVersion": api_version(res),
                        "metadata": {"resourceVersion": str(cur)}}}).encode() + b"\n")
                    at = max(at, cur)
                if drop == "end" or time.time() >= deadline:
                    self.chunk(b"")
                    return
        except (OSError, ssl.SSLError):
            pass
        finally:
            with st.cond:
                if me in st.watches:
                    st.watches.remove(me)
            self.close_connection = True

    def event(self, typ, obj, ns):
        if ns is not None and obj["metadata"].get("namespace") != ns:
            return
        self.chunk(json.dumps({"type": typ, "object": obj}).encode() + b"\n")


class Control(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def address_string(self):
        return "control"

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        with st.cond:
            if u.path == "/stats":
                return self.reply(200, {
                    "rv": st.rv, "requests": st.requests, "tls_failures": st.tls_failures,
                    "watches": [w["res"] for w in st.watches]})
            if u.path == "/objects":
                items = [o for r in RESOURCES for k, o in sorted(st.objects[r].items())]
                return self.reply(200, {"kind": "List", "apiVersion": "v1", "items": items})
        self.reply(404, {"error": "no such control"})

    def do_POST(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        try:
            with st.cond:
                out = self.control(st, u.path, q, body)
                st.cond.notify_all()
        except (ValueError, KeyError) as e:
            return self.reply(400, {"error": str(e)})
        self.reply(200, out or {"rv": st.rv})

    def control(self, st, path, q, body):
        if path == "/apply":
            doc = json.loads(body)
            items = doc if isinstance(doc, list) else doc.get("items") \
                if doc.get("kind", "").endswith("List") else [doc]
            for o in items:
                st.apply(o)
        elif path == "/delete":
            d = json.loads(body)
            if st.delete(d["resource"], d["key"]) is None:
                raise KeyError(f"no {d['resource']} {d['key']}")
        elif path == "/delete-namespace":
            for res in RESOURCES:
                for key in [k for k, o in st.objects[res].items()
                            if o["metadata"].get("namespace") == q["namespace"]]:
                    st.delete(res, key)
        elif path == "/bookmark":
            for w in st.watches:
                w["bookmark"] = True
        elif path == "/compact":
            st.gone_style = q.get("gone", "event")
            st.compact()
            if q.get("expire") == "1":
                for w in st.watches:
                    w["expire"] = True
        elif path == "/drop":
            for w in st.watches:
                if q.get("resource") in (None, w["res"]):
                    w["drop"] = q.get("how", "end")
        elif path == "/token":
            st.token = body.decode().strip()
        elif path == "/down":
            st.down = True
            for w in st.watches:
                w["drop"] = "reset"
        elif path == "/up":
            st.down = False
        elif path == "/short-pages":
            st.short_pages = q.get("on", "1") == "1"
        elif path == "/generate":
            generate(st, int(q.get("services", "0")), int(q.get("endpoints", "4")),
                     q.get("namespace", "bench"))
        elif path == "/reset-stats":
            st.requests = []
            st.tls_failures = []
        else:
            raise KeyError(f"no such control {path}")
        return None


def generate(st, n_services, n_endpoints, ns):
    """n Services (10.96.x.y) with an EndpointSlice of n_endpoints each (10.244.x.y)."""
    for i in range(n_services):
        name = f"svc-{i:05d}"
        ip = f"10.{96 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}"
        st.apply({"kind": "Service", "metadata": {"name": name, "namespace": ns},
                  "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip],
                           "ports": [{"name": "http", "protocol": "TCP", "port": 80,
                                      "targetPort": "http"}]}})
        eps = []
        for k in range(n_endpoints):
            j = i * n_endpoints + k
            eps.append({"addresses": [f"10.{244 + (j >> 16)}.{(j >> 8) & 255}.{j & 255}"],
                        "conditions": {"ready": True, "serving": True, "terminating": False},
                        "nodeName": f"node-{k}"})
        st.apply({"kind": "EndpointSlice",
                  "metadata": {"name": name + "-abcde", "namespace": ns,
                               "labels": {"kubernetes.io/service-name": name}},
                  "addressType": "IPv4",
                  "ports": [{"name": "http", "protocol": "TCP", "port": 8080}],
                  "endpoints": eps})


class ControlServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser(description="a Kubernetes API server for the tests")
    ap.add_argument("--listen", required=True, help="IP:PORT")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--ca", required=True, help="CA for client certificates")
    ap.add_argument("--token", required=True)
    ap.add_argument("--control", required=True, help="UNIX socket path")
    ap.add_argument("--objects", help="a List to start with")
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()

    st = State(a.token)
    if a.objects:
        with open(a.objects) as f:
            doc = json.load(f)
        for o in doc.get("items", []):
            st.apply(o)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ctx.load_verify_locations(a.ca)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    host, port = a.listen.rsplit(":", 1)
    host = host.strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    api = ApiServer((host, int(port)), Api, st, ctx, fam)
    api.verbose = a.v
    api.public = a.listen
    if os.path.exists(a.control):
        os.unlink(a.control)
    ctl = ControlServer(a.control, Control)
    ctl.state = st
    threading.Thread(target=ctl.serve_forever, daemon=True).start()
    print(f"apiserver: listening on https://{a.listen}, control {a.control}", flush=True)
    try:
        api.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
