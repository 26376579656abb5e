#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Both ends of a service connection, for the services tests.

  svc-peer.py serve NAME PORT
      TCP and UDP on PORT: every line (TCP) or datagram (UDP) is answered
      with "NAME <the peer's address>:<port>", so the client learns which
      backend answered and the backend which source it saw.
  svc-peer.py tcp HOST PORT [TIMEOUT]
      Connect, send one line, print the answer. Exit 0; 2 if refused
      (ECONNREFUSED, e.g. an ICMP port unreachable); 3 on a timeout.
  svc-peer.py udp HOST PORT [TIMEOUT]
      The same over UDP with a connected socket: an answer from any other
      address than HOST:PORT never reaches it (a reply that was not
      translated back times out).
  svc-peer.py long HOST PORT SECONDS [FLAG]
      One TCP connection kept busy for SECONDS: a line every 0.1 s, each
      answer read back. Prints "ok N BACKEND" or "broken after N: why".
      With FLAG (a file), the file is created once the connection is up.

Only the Python standard library; nothing leaves the namespaces the test
made.
"""

import errno
import os
import socket
import socketserver
import sys
import threading
import time


def serve(name, port):
    class TCP(socketserver.StreamRequestHandler):
        def handle(self):
            for line in self.rfile:
                peer = "%s:%d" % self.client_address[:2]
                self.wfile.write(("%s %s\n" % (name, peer)).encode())

    class UDP(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            peer = "%s:%d" % self.client_address[:2]
            sock.sendto(("%s %s" % (name, peer)).encode(), self.client_address)

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    tcp = socketserver.ThreadingTCPServer(("0.0.0.0", port), TCP)
    udp = socketserver.UDPServer(("0.0.0.0", port), UDP)
    threading.Thread(target=udp.serve_forever, daemon=True).start()
    print("listening", flush=True)
    tcp.serve_forever()


def refused(e):
    return isinstance(e, ConnectionRefusedError) or getattr(e, "errno", 0) == errno.ECONNREFUSED


def tcp(host, port, timeout):
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"hello\n")
            answer = s.makefile().readline().strip()
            if not answer:
                print("closed without an answer")
                return 4
            print(answer)
            return 0
    except OSError as e:
        print("error: %s" % e)
        if refused(e):
            return 2
        return 3 if isinstance(e, socket.timeout) else 1


def udp(host, port, timeout):
    # Sent again every second until the timeout, as a resolver does: the
    # kernel rate-limits ICMP errors per destination (net.ipv4.icmp_ratelimit,
    # a burst of 6, then one a second), so one datagram after a few refusals
    # to the same pod may get no answer at all, wherever the REJECT ran.
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect((host, port))
            while True:
                s.send(b"hello")
                left = deadline - time.monotonic()
                s.settimeout(max(0.01, min(1.0, left)))
                try:
                    print(s.recv(512).decode())
                    return 0
                except socket.timeout:
                    if time.monotonic() >= deadline:
                        raise
        except OSError as e:
            print("error: %s" % e)
            if refused(e):
                return 2
            return 3 if isinstance(e, socket.timeout) else 1


def long_conn(host, port, seconds, flag):
    n = 0
    backend = "?"
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            f = s.makefile()
            if flag:
                open(flag, "w").close()
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                s.sendall(b"ping\n")
                answer = f.readline().strip()
                if not answer:
                    print("broken after %d: closed" % n)
                    return 1
                backend = answer.split()[0]
                n += 1
                time.sleep(0.1)
    except OSError as e:
        print("broken after %d: %s" % (n, e))
        return 1
    print("ok %d %s" % (n, backend))
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "serve":
        serve(argv[2], int(argv[3]))
        return 0
    if len(argv) >= 4 and argv[1] in ("tcp", "udp"):
        timeout = float(argv[4]) if len(argv) > 4 else 3.0
        fn = tcp if argv[1] == "tcp" else udp
        return fn(argv[2], int(argv[3]), timeout)
    if len(argv) >= 5 and argv[1] == "long":
        flag = argv[5] if len(argv) > 5 else None
        return long_conn(argv[2], int(argv[3]), float(argv[4]), flag)
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
