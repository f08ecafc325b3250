#!/usr/bin/env python3
"""relaykit: test-side endpoints of the relay integration tests
(tests/integration/6x-relay-*.sh) that netkit.py does not have.  Each
subcommand prints one `key=value ...` result line on stdout.

  marker-server LISTEN --expect A --reply B --count N --result FILE --ready F
      per connection: read until N copies of marker A arrived (exactly
      N*len(A) bytes), then answer N copies of marker B; append
      "got_a=K bytes=M" to FILE.
  marker-client CONNECT --send A --expect B --count N
      send N copies of A, then read N*len(B) bytes; check they are B*N.
  echo-prefix CONNECT --size S --seed X --pace SECS --progress BYTES
      send S bytes of a seeded stream (spread over SECS seconds) to an echo
      target while reading the echo; at the end (all echoed, EOF, error or
      --timeout) report how many bytes came back and whether they are an
      exact prefix of what was sent (prefix_ok=1): never altered bytes.
      Prints "progress recv=N" (flushed) once N >= BYTES.
"""
import argparse
import os
import random
import socket
import sys
import threading
import time


def parse_addr(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def mark_ready(path):
    if path:
        with open(path + ".tmp", "w") as f:
            f.write("ready\n")
        os.rename(path + ".tmp", path)


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        d = sock.recv(min(65536, n - len(buf)))
        if not d:
            break
        buf += d
    return bytes(buf)


def marker_conn(c, args, out):
    a = args.expect.encode()
    b = args.reply.encode()
    try:
        c.settimeout(args.timeout)
        got = recv_exact(c, len(a) * args.count)
        k = got.count(a)
        with open(out, "a") as f:
            f.write("got_a=%d bytes=%d\n" % (k, len(got)))
        if k == args.count:
            c.sendall(b * args.count)
            # Wait for the client to close first (it has read everything).
            c.recv(1)
    except OSError:
        pass
    finally:
        c.close()


def cmd_marker_server(args):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(parse_addr(args.listen))
    ls.listen(64)
    mark_ready(args.ready)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=marker_conn, args=(c, args, args.result),
                         daemon=True).start()


def cmd_marker_client(args):
    a = args.send.encode()
    b = args.expect.encode()
    s = socket.create_connection(parse_addr(args.connect), args.timeout)
    s.settimeout(args.timeout)
    try:
        s.sendall(a * args.count)
        got = recv_exact(s, len(b) * args.count)
    except OSError as e:
        print("sent=%d got_b=0 error=%s" % (args.count, type(e).__name__))
        return 1
    finally:
        s.close()
    k = got.count(b)
    ok = got == b * args.count
    print("sent=%d got_b=%d bytes=%d ok=%d" % (args.count, k, len(got), ok))
    return 0 if ok else 1


def cmd_echo_prefix(args):
    data = random.Random(args.seed).randbytes(args.size)
    s = socket.create_connection(parse_addr(args.connect), args.timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    state = {"sent": 0, "send_end": None}
    step = 64 * 1024

    def sender():
        t0 = time.monotonic()
        nsteps = max(1, args.size // step)
        try:
            for i, off in enumerate(range(0, args.size, step)):
                if args.pace:
                    delay = t0 + args.pace * i / nsteps - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                s.sendall(data[off:off + step])
                state["sent"] = off + len(data[off:off + step])
            state["send_end"] = "complete"
        except OSError as e:
            state["send_end"] = type(e).__name__

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    got = bytearray()
    end = None
    said = False
    deadline = time.monotonic() + args.timeout
    s.settimeout(0.2)
    while end is None:
        if time.monotonic() > deadline:
            end = "timeout"
            break
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            end = "reset"
            break
        except OSError as e:
            end = "error-" + type(e).__name__
            break
        if not d:
            end = "eof"
            break
        got += d
        if not said and args.progress and len(got) >= args.progress:
            print("progress recv=%d" % len(got), flush=True)
            said = True
        if len(got) == args.size:
            end = "complete"
    s.close()
    ok = bytes(got) == data[:len(got)]
    # The first altered byte, if any (for the report).
    bad = -1
    if not ok:
        for i in range(len(got)):
            if got[i] != data[i]:
                bad = i
                break
    print("sent=%d recv=%d prefix_ok=%d first_bad=%d end=%s send_end=%s" % (
        state["sent"], len(got), ok, bad, end, state["send_end"]), flush=True)
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(prog="relaykit")
    sub = p.add_subparsers(dest="cmd", required=True)

    q = sub.add_parser("marker-server")
    q.set_defaults(fn=cmd_marker_server)
    q.add_argument("listen")
    q.add_argument("--expect", required=True)
    q.add_argument("--reply", required=True)
    q.add_argument("--count", type=int, required=True)
    q.add_argument("--result", required=True)
    q.add_argument("--ready")
    q.add_argument("--timeout", type=float, default=20.0)

    q = sub.add_parser("marker-client")
    q.set_defaults(fn=cmd_marker_client)
    q.add_argument("connect")
    q.add_argument("--send", required=True)
    q.add_argument("--expect", required=True)
    q.add_argument("--count", type=int, required=True)
    q.add_argument("--timeout", type=float, default=20.0)

    q = sub.add_parser("echo-prefix")
    q.set_defaults(fn=cmd_echo_prefix)
    q.add_argument("connect")
    q.add_argument("--size", type=int, required=True)
    q.add_argument("--seed", type=int, default=1)
    q.add_argument("--pace", type=float, default=0.0)
    q.add_argument("--progress", type=int, default=0)
    q.add_argument("--timeout", type=float, default=30.0)

    args = p.parse_args()
    sys.exit(args.fn(args) or 0)


if __name__ == "__main__":
    main()
