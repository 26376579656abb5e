#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The two ends of 35-kube-proxy-rules' traffic, stdlib only.

  netpeer.py serve NAME PORT
      answers every TCP connection and UDP datagram on PORT with
      "NAME CLIENT-IP", CLIENT-IP being the source it saw (so masquerading
      shows), until killed.
  netpeer.py ask tcp|udp IP PORT [COUNT]
      asks COUNT times (each time a new socket, so a new source port) and
      prints one line each: the answer and " via PEER-IP:PORT" (the address
      the answer came from), "refused" (ICMP port unreachable: connect() or
      recv() got ECONNREFUSED), "timeout" (nothing in 2 s) or "error ERRNO"
      (e.g. EHOSTUNREACH)."""

import errno
import socket
import sys
import threading


def serve(name, port):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("0.0.0.0", port))
    tcp.listen(128)

    def udp_loop():
        while True:
            _, addr = udp.recvfrom(2048)
            udp.sendto(("%s %s" % (name, addr[0])).encode(), addr)

    threading.Thread(target=udp_loop, daemon=True).start()
    while True:
        conn, addr = tcp.accept()
        with conn:
            conn.sendall(("%s %s" % (name, addr[0])).encode())


def ask(proto, ip, port):
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as s:
        s.settimeout(2)
        try:
            # a connected UDP socket takes answers from IP:PORT only and
            # reports an ICMP port unreachable as ECONNREFUSED
            s.connect((ip, port))
            if proto == "udp":
                s.send(b"?")
            data, peer = s.recvfrom(2048)
            peer = peer or s.getpeername()
            return "%s via %s:%d" % (data.decode(), peer[0], peer[1])
        except ConnectionRefusedError:
            return "refused"
        except (socket.timeout, TimeoutError):
            return "timeout"
        except OSError as e:  # unreachable and the like: say which
            return "error %s" % errno.errorcode.get(e.errno, e.errno)


def main(argv):
    if len(argv) == 3 and argv[0] == "serve":
        serve(argv[1], int(argv[2]))
    elif len(argv) in (4, 5) and argv[0] == "ask" and argv[1] in ("tcp", "udp"):
        for _ in range(int(argv[4]) if len(argv) == 5 else 1):
            print(ask(argv[1], argv[2], int(argv[3])), flush=True)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
