#!/usr/bin/env python3
"""netkit: the test-side network endpoints of sallyport's integration tests
(tests/integration/*.sh call it through lib.sh's `netkit`).  Each
subcommand is one small client or server; clients print one `key=value ...`
result line on stdout and exit 0 when what they checked holds.

Servers: echo, accept-log, bulk-server, halfclose-server, reset-server,
slow-sink, blackhole, marker-server, frame-gate (a forwarder), dns (UDP).  Clients: echo-check, bulk-client,
halfclose-client, reset-client, push, probe, hold, marker-client,
echo-prefix, send-close, burst,
connect-loop.  `netkit.py SUBCOMMAND -h` tells more.

Addresses: "host:port", "[v6]:port" or "unix:/path".  Data is generated from
a seed (random.Random over a pool, sliced at seeded offsets) so both ends can
know what they should see without storing it.
"""
import argparse
import asyncio
import hashlib
import os
import random
import resource
import select
import signal
import socket
import sys
import threading
import time

CHUNK = 256 * 1024


def raise_nofile():
    """Raise the soft fd limit to the hard one (many connections)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def parse_addr(s):
    """(family, sockaddr) for "host:port", "[v6]:port" or "unix:/path"."""
    if s.startswith("unix:"):
        return socket.AF_UNIX, s[5:]
    if s.startswith("["):
        host, _, port = s[1:].partition("]:")
        return socket.AF_INET6, (host, int(port))
    host, _, port = s.rpartition(":")
    return socket.AF_INET, (host, int(port))


def connect(addr, timeout=10.0, source=None):
    fam, sa = parse_addr(addr)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source is not None:
        s.bind((source, 0))
    s.connect(sa)
    if fam != socket.AF_UNIX:
        try:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass        # already reset by the peer: the caller sees it
    return s


def listen(addr, backlog=4096):
    fam, sa = parse_addr(addr)
    s = socket.socket(fam, socket.SOCK_STREAM)
    if fam == socket.AF_UNIX:
        try:
            os.unlink(sa)
        except FileNotFoundError:
            pass
    else:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(sa)
    s.listen(backlog)
    return s


def mark_ready(path, text="ready"):
    """Write ${path} atomically so a poller never sees it half written."""
    if path:
        with open(path + ".tmp", "w") as f:
            f.write(text + "\n")
        os.rename(path + ".tmp", path)


class Stream:
    """A deterministic byte stream of ${size} bytes from ${seed}."""

    def __init__(self, seed, size):
        rng = random.Random(seed)
        self.pool = memoryview(rng.randbytes(8 * 1024 * 1024 + CHUNK))
        self.rng = rng
        self.left = size

    def chunks(self):
        while self.left > 0:
            n = min(CHUNK, self.left)
            off = self.rng.randrange(len(self.pool) - CHUNK)
            self.left -= n
            yield self.pool[off:off + n]


def stream_digest(seed, size):
    h = hashlib.sha256()
    for c in Stream(seed, size).chunks():
        h.update(c)
    return h.hexdigest()


def send_stream(sock, seed, size, pace=0.0, shut=True):
    """Send the stream; spread it over ${pace} seconds if given."""
    h = hashlib.sha256()
    nchunks = max(1, (size + CHUNK - 1) // CHUNK)
    t0 = time.monotonic()
    for i, c in enumerate(Stream(seed, size).chunks()):
        if pace:
            delay = t0 + pace * i / nchunks - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        sock.sendall(c)
        h.update(c)
    if shut:
        sock.shutdown(socket.SHUT_WR)
    return h.hexdigest()


def recv_all(sock):
    """Read until EOF; return (sha256 hex, byte count)."""
    h = hashlib.sha256()
    n = 0
    buf = bytearray(CHUNK)
    while True:
        k = sock.recv_into(buf)
        if k == 0:
            break
        h.update(memoryview(buf)[:k])
        n += k
    return h.hexdigest(), n


def recv_exact(sock, n):
    """Read ${n} bytes, or fewer if EOF comes first."""
    buf = bytearray()
    while len(buf) < n:
        d = sock.recv(min(65536, n - len(buf)))
        if not d:
            break
        buf += d
    return bytes(buf)


def read_chunks(sock, timeout, tick, out):
    """Yield what ${sock} receives (polling every ${tick} s) until EOF, a
    reset, an error or ${timeout} seconds; then out["end"] is "eof",
    "reset", "error-NAME" or "timeout"."""
    deadline = time.monotonic() + timeout
    sock.settimeout(tick)
    while time.monotonic() <= deadline:
        try:
            d = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            out["end"] = "reset"
            return
        except OSError as e:
            out["end"] = "error-" + type(e).__name__
            return
        if not d:
            out["end"] = "eof"
            return
        yield d
    out["end"] = "timeout"


def duplex(sock, seed, size):
    """Send ${size} bytes of stream ${seed} and read until EOF, both at once."""
    out = {}

    def sender():
        try:
            out["sent"] = send_stream(sock, seed, size)
        except OSError as e:
            out["send_error"] = str(e)

    t = threading.Thread(target=sender)
    t.start()
    out["recv"], out["recv_bytes"] = recv_all(sock)
    t.join()
    return out


# ---------------------------------------------------------------- servers


async def echo_handler(reader, writer, log):
    if log:
        log.write("accept\n")
        log.flush()
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        await writer.drain()
        # Keep the socket until the peer closes its side too.
        await reader.read(1)
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def echo_main(args):
    log = open(args.log, "a") if args.log else None
    fam, sa = parse_addr(args.listen)
    handler = lambda r, w: echo_handler(r, w, log)
    if fam == socket.AF_UNIX:
        server = await asyncio.start_unix_server(handler, sock=listen(args.listen))
    else:
        server = await asyncio.start_server(handler, sock=listen(args.listen))
    mark_ready(args.ready)
    async with server:
        await server.serve_forever()


def cmd_echo(args):
    """Echo server: echoes each connection, carries EOF back as a FIN."""
    raise_nofile()
    try:
        asyncio.run(echo_main(args))
    except KeyboardInterrupt:
        pass


def cmd_bulk_server(args):
    """Accept one connection; send ${size} bytes and read to EOF at once."""
    ls = listen(args.listen)
    mark_ready(args.ready)
    ls.settimeout(args.timeout)
    s, _ = ls.accept()
    s.settimeout(args.timeout)
    r = duplex(s, args.seed, args.size)
    s.close()
    print("sent=%s recv=%s recv_bytes=%d" % (r.get("sent"), r["recv"],
                                             r["recv_bytes"]))
    return 0 if "sent" in r else 1


def cmd_halfclose_server(args):
    """client-first: read to EOF, check, then answer and close.
    server-first: send and shut down the write side, then read to EOF."""
    ls = listen(args.listen)
    mark_ready(args.ready)
    ls.settimeout(args.timeout)
    s, _ = ls.accept()
    s.settimeout(args.timeout)
    want = stream_digest(args.expect_seed, args.size)
    if args.mode == "client-first":
        got, n = recv_all(s)
        send_stream(s, args.send_seed, args.size)
    else:
        send_stream(s, args.send_seed, args.size)
        got, n = recv_all(s)
    s.close()
    ok = got == want and n == args.size
    print("halfclose-server mode=%s recv_bytes=%d ok=%d" % (args.mode, n, ok))
    return 0 if ok else 1


def cmd_accept_log(args):
    """Accept connections, log each one, read and discard, never answer."""
    ls = listen(args.listen)
    mark_ready(args.ready)
    conns = [ls]
    with open(args.log, "a") as log:
        while True:
            r, _, _ = select.select(conns, [], [])
            for s in r:
                if s is ls:
                    c, _ = ls.accept()
                    log.write("accept\n")
                    log.flush()
                    conns.append(c)
                else:
                    try:
                        d = s.recv(65536)
                    except OSError:
                        d = b""
                    if not d:
                        conns.remove(s)
                        s.close()


# ---------------------------------------------------------------- clients


def cmd_bulk_client(args):
    s = connect(args.connect, args.timeout)
    r = duplex(s, args.seed, args.size)
    s.close()
    print("sent=%s recv=%s recv_bytes=%d" % (r.get("sent"), r["recv"],
                                             r["recv_bytes"]))
    return 0 if "sent" in r else 1


def cmd_halfclose_client(args):
    s = connect(args.connect, args.timeout)
    want = stream_digest(args.expect_seed, args.size)
    if args.mode == "client-first":
        send_stream(s, args.send_seed, args.size)
        got, n = recv_all(s)
    else:
        got, n = recv_all(s)
        send_stream(s, args.send_seed, args.size)
    s.close()
    ok = got == want and n == args.size
    print("halfclose-client mode=%s recv_bytes=%d ok=%d" % (args.mode, n, ok))
    return 0 if ok else 1


async def echo_one(addr, i, size, seed, pace, timeout):
    fam, sa = parse_addr(addr)
    if fam == socket.AF_UNIX:
        reader, writer = await asyncio.open_unix_connection(sa)
    else:
        reader, writer = await asyncio.open_connection(sa[0], sa[1])
    data = random.Random(seed * 1000003 + i).randbytes(size)

    async def send():
        step = max(1, size // 64)
        for off in range(0, size, step):
            writer.write(data[off:off + step])
            await writer.drain()
            if pace:
                await asyncio.sleep(pace / 64)
        writer.write_eof()

    st = asyncio.ensure_future(send())
    got = bytearray()
    try:
        while True:
            d = await reader.read(65536)
            if not d:
                break
            got += d
        await st
    finally:
        if not st.done():
            st.cancel()
        elif not st.cancelled():
            st.exception()      # retrieved: the reader's error is reported
        writer.close()
    return bytes(got) == data, len(got)


async def echo_check_main(args):
    tasks = [asyncio.wait_for(echo_one(args.connect, i, args.size, args.seed,
                                       args.pace, args.timeout), args.timeout)
             for i in range(args.count)]
    res = await asyncio.gather(*tasks, return_exceptions=True)
    good = sum(1 for r in res if r is not None and not isinstance(r, BaseException)
               and r[0])
    errs = [r for r in res if isinstance(r, BaseException)]
    bad = [r for r in res if not isinstance(r, BaseException) and not r[0]]
    print("echo-check count=%d ok=%d mismatched=%d errors=%d%s" % (
        args.count, good, len(bad), len(errs),
        (" first_error=%s" % type(errs[0]).__name__) if errs else ""))
    return 0 if good == args.count else 1


def cmd_echo_check(args):
    """${count} concurrent connections, each sending distinct data to an echo
    target, shutting down its write side, and checking the echo."""
    raise_nofile()
    return asyncio.run(echo_check_main(args))


def cmd_probe(args):
    """Connect, send some bytes, optionally shut down the write side, then
    read until EOF, reset or ${timeout}; report what came back and when."""
    t0 = time.monotonic()
    try:
        s = connect(args.connect, args.timeout, args.source)
    except ConnectionResetError:
        # Accepted, then reset before connect() returned: a close.
        print("bytes=0 end=reset secs=%.3f" % (time.monotonic() - t0))
        return 0
    except OSError as e:
        print("bytes=0 end=connect-error errno=%s secs=%.3f" % (
            e.errno, time.monotonic() - t0))
        return 0
    payload = b""
    if args.send_hex:
        payload += bytes.fromhex(args.send_hex)
    if args.send_random:
        payload += random.Random(args.seed).randbytes(args.send_random)
    if args.send_zero:
        payload += bytes(args.send_zero)
    end = None
    try:
        if payload:
            s.sendall(payload)
        if args.shut:
            s.shutdown(socket.SHUT_WR)
    except (ConnectionResetError, BrokenPipeError):
        end = "reset"           # the peer closed before we finished
    except OSError:
        end = "send-error"
    n = 0
    t0 = time.monotonic()
    if end is None:
        r = {}
        for d in read_chunks(s, args.timeout, 0.1, r):
            n += len(d)
        end = "error" if r["end"].startswith("error-") else r["end"]
    secs = time.monotonic() - t0
    s.close()
    print("bytes=%d end=%s secs=%.3f" % (n, end, secs))
    return 0


async def hold_one(addr, source, send, echo, timeout):
    fam, sa = parse_addr(addr)
    if fam == socket.AF_UNIX:
        r, w = await asyncio.wait_for(asyncio.open_unix_connection(sa), timeout)
    else:
        r, w = await asyncio.wait_for(asyncio.open_connection(
            sa[0], sa[1], local_addr=(source, 0) if source else None), timeout)
    if send:
        w.write(send)
        await w.drain()
    if echo:
        w.write(b"x")
        await w.drain()
        d = await asyncio.wait_for(r.readexactly(1), timeout)
        assert d == b"x"
    return r, w


async def refill_slot(args, send, first, stop, counts):
    """One slot of a refilled flood: open, send, wait until the peer closes
    it, open again, until ${stop}; ${first} is set once the first opening
    is done (or failed)."""
    while not stop.done():
        try:
            r, w = await hold_one(args.connect, args.source, send, False,
                                  args.timeout)
        except (OSError, asyncio.TimeoutError):
            counts["errors"] += 1
            if not first.done():
                first.set_result(None)
            await asyncio.sleep(0.01)
            continue
        if not first.done():
            first.set_result(None)
        try:
            rd = asyncio.ensure_future(r.read(65536))
            while not stop.done():
                done, _ = await asyncio.wait({rd, stop},
                                             return_when=asyncio.FIRST_COMPLETED)
                if rd in done:
                    if not rd.exception() and rd.result():
                        rd = asyncio.ensure_future(r.read(65536))
                        continue
                    break
            if not rd.done():
                rd.cancel()
        except OSError:
            pass
        counts["closed"] += 1
        w.close()


async def refill_main(args):
    """hold --refill: keep ${count} connections open, reopening each one the
    peer closes, until SIGTERM or ${hold} seconds."""
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM,
                            lambda: stop.done() or stop.set_result(None))
    loop.call_later(args.hold, lambda: stop.done() or stop.set_result(None))
    send = bytes.fromhex(args.send_hex or "")
    counts = {"closed": 0, "errors": 0}
    firsts = [loop.create_future() for _ in range(args.count)]
    t0 = time.monotonic()
    tasks = [asyncio.ensure_future(refill_slot(args, send, f, stop, counts))
             for f in firsts]
    await asyncio.gather(*firsts)
    text = "held=%d errors=%d secs=%.2f refill=1" % (
        args.count, counts["errors"], time.monotonic() - t0)
    print(text, flush=True)
    mark_ready(args.ready, text)
    await stop
    await asyncio.gather(*tasks, return_exceptions=True)
    print("closed_by_peer=%d connect_errors=%d" % (
        counts["closed"], counts["errors"]), flush=True)
    return 0


async def hold_main(args):
    if args.refill:
        return await refill_main(args)
    sem = asyncio.Semaphore(args.parallel)
    # --also: more addresses; connections go to each in turn.
    addrs = [args.connect] + (args.also or [])

    async def one(i):
        async with sem:
            return await hold_one(addrs[i % len(addrs)], args.source,
                                  bytes.fromhex(args.send_hex or ""),
                                  args.echo, args.timeout)

    t0 = time.monotonic()
    res = await asyncio.gather(*[one(i) for i in range(args.count)],
                               return_exceptions=True)
    conns = [r for r in res if not isinstance(r, BaseException)]
    errs = [r for r in res if isinstance(r, BaseException)]
    text = "held=%d errors=%d secs=%.2f%s" % (
        len(conns), len(errs), time.monotonic() - t0,
        (" first_error=%r" % errs[0]) if errs else "")
    print(text, flush=True)
    mark_ready(args.ready, text)
    # Hold until killed or ${hold} seconds; count the ones the peer closed.
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(
        signal.SIGTERM, lambda: stop.done() or stop.set_result(None))
    try:
        await asyncio.wait_for(stop, args.hold)
    except asyncio.TimeoutError:
        pass
    closed = 0
    for r, w in conns:
        if r.at_eof() or w.is_closing():
            closed += 1
    if args.end_echo:
        # Does every one still carry data?  One byte there and back on
        # each, all at once (bounded by the semaphore and --timeout).
        async def again(r, w):
            async with sem:
                w.write(b"y")
                await w.drain()
                d = await asyncio.wait_for(r.readexactly(1), args.timeout)
                assert d == b"y"
        t1 = time.monotonic()
        res = await asyncio.gather(*[again(r, w) for r, w in conns],
                                   return_exceptions=True)
        bad = [e for e in res if isinstance(e, BaseException)]
        print("end_ok=%d end_failed=%d end_secs=%.2f%s" % (
            len(res) - len(bad), len(bad), time.monotonic() - t1,
            (" end_first_error=%r" % bad[0]) if bad else ""), flush=True)
    for r, w in conns:
        w.close()
    print("closed_by_peer=%d" % closed, flush=True)
    return 0


def cmd_hold(args):
    """Open ${count} connections (optionally from ${source}, optionally
    sending the bytes ${send_hex} or checking one echoed byte) and hold
    them; write the ready file once all are up; exit on SIGTERM (with
    --end-echo, after checking one more echoed byte on each).  --also
    ADDR (repeatable) spreads the connections over more addresses.  With
    --refill each one the peer closes is opened again at once (a flood
    that keeps its connections open whatever the node does)."""
    raise_nofile()
    return asyncio.run(hold_main(args))


def wait_closed(sock, timeout):
    """Read until EOF or reset; return (end, bytes, seconds)."""
    t0 = time.monotonic()
    n = 0
    sock.settimeout(0.05)
    while time.monotonic() - t0 < timeout:
        try:
            d = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return "reset", n, time.monotonic() - t0
        if not d:
            return "eof", n, time.monotonic() - t0
        n += len(d)
    return "timeout", n, time.monotonic() - t0


def abort(sock):
    """Close with a TCP reset (SO_LINGER 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    (1).to_bytes(4, "little") + (0).to_bytes(4, "little"))
    sock.close()


def cmd_reset_server(args):
    """server-resets: read 5 bytes, then reset the connection.
    client-resets: read 5 bytes, answer "ok", then time how long the
    client's reset takes to arrive as EOF or reset."""
    ls = listen(args.listen)
    mark_ready(args.ready)
    ls.settimeout(args.timeout)
    s, _ = ls.accept()
    s.settimeout(args.timeout)
    got = b""
    while len(got) < 5:
        d = s.recv(5 - len(got))
        if not d:
            break
        got += d
    if args.mode == "server-resets":
        abort(s)
        print("reset-server mode=%s got=%d" % (args.mode, len(got)))
        return 0 if len(got) == 5 else 1
    s.sendall(b"ok")
    end, n, secs = wait_closed(s, args.timeout)
    s.close()
    print("reset-server mode=%s end=%s bytes=%d secs=%.3f" % (args.mode, end,
                                                            n, secs))
    return 0


def cmd_reset_client(args):
    s = connect(args.connect, args.timeout)
    s.sendall(b"hello")
    if args.mode == "server-resets":
        end, n, secs = wait_closed(s, args.timeout)
        s.close()
        print("reset-client mode=%s end=%s bytes=%d secs=%.3f" % (
            args.mode, end, n, secs))
        return 0
    got = b""
    s.settimeout(args.timeout)
    while len(got) < 2:
        d = s.recv(2 - len(got))
        if not d:
            break
        got += d
    abort(s)
    print("reset-client mode=%s got=%r" % (args.mode, got))
    return 0 if got == b"ok" else 1


def cmd_slow_sink(args):
    """Accept one connection and read nothing until ${go} exists; then
    read to EOF and print what came."""
    ls = listen(args.listen)
    mark_ready(args.ready)
    ls.settimeout(args.timeout)
    s, _ = ls.accept()
    t0 = time.monotonic()
    while not os.path.exists(args.go):
        if time.monotonic() - t0 > args.timeout:
            print("slow-sink: no go file")
            return 1
        time.sleep(0.05)
    s.settimeout(args.timeout)
    h, n = recv_all(s)
    s.close()
    print("recv=%s recv_bytes=%d" % (h, n))
    return 0


def cmd_push(args):
    """Send ${size} bytes of stream ${seed}; once sending has made no
    progress for ${quiet} seconds, write "stalled=BYTES" to ${stalled};
    then go on (blocking) until everything is sent and print its hash."""
    s = connect(args.connect, args.timeout)
    s.setblocking(False)
    h = hashlib.sha256()
    sent = 0
    last = time.monotonic()
    flagged = False
    t0 = time.monotonic()
    for c in Stream(args.seed, args.size).chunks():
        h.update(c)
        off = 0
        while off < len(c):
            try:
                k = s.send(c[off:])
                off += k
                sent += k
                last = time.monotonic()
            except BlockingIOError:
                if not flagged and time.monotonic() - last >= args.quiet:
                    mark_ready(args.stalled, "stalled=%d" % sent)
                    flagged = True
                if time.monotonic() - t0 > args.timeout:
                    print("push: timed out at %d bytes" % sent)
                    return 1
                select.select([], [s], [], 0.05)
    s.setblocking(True)
    s.shutdown(socket.SHUT_WR)
    s.settimeout(args.timeout)
    recv_all(s)
    s.close()
    print("sent=%s sent_bytes=%d stalled=%d" % (h.hexdigest(), sent, flagged))
    return 0 if flagged else 1


def cmd_blackhole(args):
    """A listener whose accept queue is full and never drained: further
    connects get no SYN-ACK and hang (for connect timeouts)."""
    ls = listen(args.listen, backlog=0)
    fam, sa = parse_addr(args.listen)
    filler = socket.socket(fam, socket.SOCK_STREAM)
    filler.connect(ls.getsockname())
    probe = socket.socket(fam, socket.SOCK_STREAM)
    probe.settimeout(0.5)
    try:
        probe.connect(ls.getsockname())
        print("blackhole: the queue did not fill")
        return 1
    except OSError:
        pass
    probe.close()
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGINT])
    mark_ready(args.ready)
    signal.sigwait([signal.SIGTERM, signal.SIGINT])
    return 0


# ------------------------------------------- resolver tests (79-*.sh)


def dns_qname(q):
    """(name, end of the question) of the DNS query ${q}, or (None, 0)."""
    labels, i = [], 12
    try:
        while q[i] != 0:
            if q[i] >= 64:
                return None, 0      # no compression in a question
            labels.append(q[i + 1:i + 1 + q[i]].decode("ascii"))
            i += 1 + q[i]
    except (IndexError, UnicodeDecodeError):
        return None, 0
    if i + 5 > len(q):
        return None, 0
    return ".".join(labels).lower(), i + 5


def dns_reply(q, qend, rcode, ip):
    """The reply to ${q}: its question, and one A record of ${ip} when it
    asks for A (another type, or ip None: no answer)."""
    an = ip is not None and q[qend - 4:qend - 2] == b"\x00\x01"
    head = q[:2] + bytes([0x84 | (q[2] & 0x01), 0x80 | rcode])
    head += b"\x00\x01" + (b"\x00\x01" if an else b"\x00\x00") + b"\x00" * 4
    out = head + q[12:qend]
    if an:
        out += b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x05\x00\x04"
        out += socket.inet_aton(ip)
    return out


def cmd_dns(args):
    """DNS server (UDP) for the resolver tests: --answer NAME=IPV4 answers
    NAME (A: the address; other types: no data); --hold NAME=FILE answers
    it only once FILE exists; --drop NAME never answers; any other name:
    NXDOMAIN.  Each query is appended to --log as "NAME TYPE"."""
    fam, sa = parse_addr(args.listen)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(sa)
    answers = dict(a.lower().split("=", 1) for a in args.answer or [])
    holds = dict(h.split("=", 1) for h in args.hold or [])
    holds = {k.lower(): v for k, v in holds.items()}
    drops = set(d.lower() for d in args.drop or [])
    held = []
    mark_ready(args.ready)
    while True:
        r, _, _ = select.select([s], [], [], 0.05)
        if r:
            q, peer = s.recvfrom(4096)
            name, qend = dns_qname(q)
            if name is None:
                continue
            if args.log:
                with open(args.log, "a") as f:
                    f.write("%s %d\n" % (name, q[qend - 3]))
            if name in drops:
                continue
            if name in holds and not os.path.exists(holds[name]):
                held.append((q, qend, peer, holds[name], answers.get(name)))
                continue
            ip = answers.get(name)
            s.sendto(dns_reply(q, qend, 0 if ip else 3, ip), peer)
        for h in [h for h in held if os.path.exists(h[3])]:
            held.remove(h)
            s.sendto(dns_reply(h[0], h[1], 0 if h[4] else 3, h[4]), h[2])


# ------------------------------------------- relay tests (6x-relay-*.sh)


def marker_conn(c, args):
    a = args.expect.encode()
    b = args.reply.encode()
    try:
        c.settimeout(args.timeout)
        got = recv_exact(c, len(a) * args.count)
        k = got.count(a)
        with open(args.result, "a") as f:
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
    """Per connection: read until ${count} copies of marker ${expect}
    arrived (exactly count*len(expect) bytes), then answer ${count} copies
    of marker ${reply}; append "got_a=K bytes=M" to ${result}."""
    ls = listen(args.listen, backlog=64)
    mark_ready(args.ready)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=marker_conn, args=(c, args),
                         daemon=True).start()


def cmd_marker_client(args):
    """Send ${count} copies of ${send}, then read count*len(${expect})
    bytes and check they are ${expect} * ${count}."""
    a = args.send.encode()
    b = args.expect.encode()
    s = connect(args.connect, args.timeout)
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
    """Send ${size} bytes of a seeded stream (spread over ${pace} seconds)
    to an echo target while reading the echo; at the end (all echoed, EOF,
    error or ${timeout}) report how many bytes came back and whether they
    are an exact prefix of what was sent (prefix_ok=1): never altered
    bytes.  Prints "progress recv=N" (flushed) once N >= ${progress}."""
    data = random.Random(args.seed).randbytes(args.size)
    s = connect(args.connect, args.timeout)
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
    r = {}
    said = False
    for d in read_chunks(s, args.timeout, 0.2, r):
        got += d
        if not said and args.progress and len(got) >= args.progress:
            print("progress recv=%d" % len(got), flush=True)
            said = True
        if len(got) == args.size:
            r["end"] = "complete"
            break
    end = r["end"]
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

def send_close_one(addr, payload, timeout):
    """Connect, send ${payload}, close (a FIN, like a shell redirection to
    /dev/tcp); return None or the error's name."""
    try:
        s = connect(addr, timeout)
    except OSError as e:
        return type(e).__name__
    try:
        s.sendall(payload)
    except OSError as e:
        return type(e).__name__
    finally:
        s.close()
    return None


def cmd_send_close(args):
    """${count} connections, ${parallel} at a time (each thread walks its
    own share in order), each sending ${format} % i and closing at once
    without reading: a client that sends and hangs up."""
    raise_nofile()
    fmt = args.format.encode().decode("unicode_escape")
    errs = []
    lock = threading.Lock()

    def worker(k):
        for i in range(k + 1, args.count + 1, args.parallel):
            e = send_close_one(args.connect, (fmt % i).encode(), args.timeout)
            if e is not None:
                with lock:
                    errs.append(e)

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker, args=(k,))
          for k in range(args.parallel)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("sent=%d errors=%d secs=%.2f%s" % (
        args.count - len(errs), len(errs), time.monotonic() - t0,
        (" first_error=%s" % errs[0]) if errs else ""))
    return 1 if errs else 0


def cmd_burst(args):
    """Open ${count} connections at once (non-blocking connects, all in
    flight together), send ${send_hex} on each as soon as it is connected
    and read until ${expect_hex} came back whole, then close it.  Report how
    many were answered and how the others ended (reset, eof, error,
    timeout); exit 0 only if every one was answered."""
    import selectors
    raise_nofile()
    fam, sa = parse_addr(args.connect)
    req = bytes.fromhex(args.send_hex)
    want = bytes.fromhex(args.expect_hex)
    sel = selectors.DefaultSelector()
    got = {}
    ends = {"answered": 0, "reset": 0, "eof": 0, "error": 0, "timeout": 0}
    t0 = time.monotonic()
    for _ in range(args.count):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(sa)
        except BlockingIOError:
            pass
        except OSError:
            ends["error"] += 1
            s.close()
            continue
        got[s] = None           # None: not yet connected
        sel.register(s, selectors.EVENT_WRITE)

    def end(s, how):
        ends[how] += 1
        sel.unregister(s)
        del got[s]
        s.close()

    while got and time.monotonic() - t0 < args.timeout:
        for key, _ in sel.select(0.2):
            s = key.fileobj
            if got[s] is None:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err != 0:
                    end(s, "reset" if err == 104 else "error")
                    continue
                try:
                    s.send(req)  # small: fits the empty send buffer
                except OSError:
                    end(s, "reset")
                    continue
                got[s] = b""
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                end(s, "reset")
                continue
            except OSError:
                end(s, "error")
                continue
            if not d:
                end(s, "eof")
                continue
            got[s] += d
            if len(got[s]) >= len(want):
                end(s, "answered" if got[s][:len(want)] == want else "error")
    for s in list(got):
        end(s, "timeout")
    print("count=%d %s secs=%.2f" % (
        args.count, " ".join("%s=%d" % kv for kv in ends.items()),
        time.monotonic() - t0))
    return 0 if ends["answered"] == args.count else 1


def cmd_connect_loop(args):
    """One connection after the other to an echo target (through a tunnel):
    connect, send 16 bytes, shut down the write side, read the echo back;
    until the file ${stop} exists, ${count} connections were made or
    ${timeout} seconds passed.  Counts refused connects (ECONNREFUSED or a
    reset before any byte) and other failures; exits 0 only if every
    connection round-tripped and at least one was made."""
    t0 = time.monotonic()
    ok = refused = failed = 0
    first = ""
    i = 0
    while i < args.count and time.monotonic() - t0 < args.timeout:
        if args.stop and os.path.exists(args.stop) and ok + refused + failed:
            break
        i += 1
        payload = ("%015d\n" % i).encode()
        try:
            s = connect(args.connect, args.io_timeout)
        except ConnectionRefusedError as e:
            refused += 1
            first = first or "refused:%s" % e.errno
            continue
        except OSError as e:
            failed += 1
            first = first or "connect:%s" % type(e).__name__
            continue
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            got = b""
            while True:
                d = s.recv(4096)
                if not d:
                    break
                got += d
        except OSError as e:
            got = b"<%s>" % type(e).__name__.encode()
        finally:
            s.close()
        if got == payload:
            ok += 1
        else:
            failed += 1
            first = first or "echo:%r" % got[:40]
    print("connect-loop count=%d ok=%d refused=%d failed=%d secs=%.2f%s" % (
        i, ok, refused, failed, time.monotonic() - t0,
        (" first_error=%s" % first) if first else ""), flush=True)
    return 0 if ok and not refused and not failed else 1


def cmd_echo_twice(args):
    """A long-lived connection to an echo target: send a line and read it
    back, write the file ${ready}, wait (at most ${timeout} s) until the
    file ${go} exists, then send a second line and read it back.  Report
    how each round ended (ok, reset, eof, error, timeout)."""
    rounds = []
    try:
        s = connect(args.connect, args.timeout)
    except OSError as e:
        print("first=connect-error errno=%s second=-" % e.errno)
        return 1

    def round_trip(payload):
        try:
            s.sendall(payload)
            got = b""
            while len(got) < len(payload):
                d = s.recv(4096)
                if not d:
                    return "eof"
                got += d
            return "ok" if got == payload else "error"
        except ConnectionResetError:
            return "reset"
        except socket.timeout:
            return "timeout"
        except OSError:
            return "error"

    s.settimeout(args.timeout)
    rounds.append(round_trip(b"first\n"))
    mark_ready(args.ready)
    t0 = time.monotonic()
    while not os.path.exists(args.go) and time.monotonic() - t0 < args.timeout:
        time.sleep(0.05)
    t1 = time.monotonic()
    rounds.append(round_trip(b"second\n") if rounds[0] == "ok" else "-")
    s.close()
    print("first=%s second=%s held=%.1f secs=%.3f" % (
        rounds[0], rounds[1], time.monotonic() - t0, time.monotonic() - t1),
        flush=True)
    return 0 if rounds == ["ok", "ok"] else 1


def cmd_frame_gate(args):
    """A forwarder from ${listen} to ${connect} that stands in for a peer
    which drops some first messages: a connection whose first frame
    announces a body of ${drop_len} bytes (its 2-byte big-endian length
    prefix) is read up to that prefix and then reset, having forwarded
    nothing; every other one is carried both ways until either end closes.
    Counts the dropped ones in ${log} (one line each).  With ${route_to},
    such a connection is carried to that address instead of dropped
    (logged "routed"): two responders, one for those first frames."""
    ls = listen(args.listen)
    mark_ready(args.ready)

    def pump(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def serve(c):
        c.settimeout(args.timeout)
        head = b""
        try:
            while len(head) < 2:
                d = c.recv(2 - len(head))
                if not d:
                    c.close()
                    return
                head += d
        except OSError:
            c.close()
            return
        to = args.connect
        if int.from_bytes(head, "big") == args.drop_len:
            with open(args.log, "a") as f:
                f.write("routed\n" if args.route_to else "dropped\n")
            if not args.route_to:
                abort(c)
                return
            to = args.route_to
        try:
            u = connect(to, args.timeout)
            u.sendall(head)
        except OSError:
            abort(c)
            return
        c.settimeout(None)
        u.settimeout(None)
        t = threading.Thread(target=pump, args=(u, c), daemon=True)
        t.start()
        pump(c, u)
        t.join()
        c.close()
        u.close()

    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def main():
    p = argparse.ArgumentParser(prog="netkit")
    sub = p.add_subparsers(dest="cmd", required=True)

    def add(name, fn, *opts):
        q = sub.add_parser(name)
        q.set_defaults(fn=fn)
        for o in opts:
            o(q)
        return q

    lis = lambda q: q.add_argument("listen")
    con = lambda q: q.add_argument("connect")
    ready = lambda q: q.add_argument("--ready")
    tmo = lambda q: q.add_argument("--timeout", type=float, default=30.0)
    size = lambda q: q.add_argument("--size", type=int, default=1 << 20)
    seed = lambda q: q.add_argument("--seed", type=int, default=1)

    def hc(q):
        q.add_argument("--mode", choices=["client-first", "server-first"],
                       required=True)
        q.add_argument("--send-seed", type=int, required=True)
        q.add_argument("--expect-seed", type=int, required=True)

    add("echo", cmd_echo, lis, ready, lambda q: q.add_argument("--log"))
    add("accept-log", cmd_accept_log, lis, ready,
        lambda q: q.add_argument("--log", required=True))
    add("bulk-server", cmd_bulk_server, lis, ready, tmo, size, seed)
    add("bulk-client", cmd_bulk_client, con, tmo, size, seed)
    add("halfclose-server", cmd_halfclose_server, lis, ready, tmo, size, hc)
    add("halfclose-client", cmd_halfclose_client, con, tmo, size, hc)
    add("echo-check", cmd_echo_check, con, tmo, size, seed,
        lambda q: q.add_argument("--count", type=int, default=1),
        lambda q: q.add_argument("--pace", type=float, default=0.0))

    def probe_opts(q):
        q.add_argument("--send-hex")
        q.add_argument("--send-random", type=int, default=0)
        q.add_argument("--send-zero", type=int, default=0)
        q.add_argument("--shut", action="store_true")
        q.add_argument("--source")
        q.add_argument("--timeout", type=float, default=5.0)

    add("probe", cmd_probe, con, seed, probe_opts)

    def hold_opts(q):
        q.add_argument("--count", type=int, required=True)
        q.add_argument("--source")
        q.add_argument("--send-hex")
        q.add_argument("--echo", action="store_true")
        q.add_argument("--end-echo", action="store_true")
        q.add_argument("--also", action="append")
        q.add_argument("--refill", action="store_true")
        q.add_argument("--parallel", type=int, default=200)
        q.add_argument("--hold", type=float, default=60.0)
        q.add_argument("--timeout", type=float, default=20.0)

    add("hold", cmd_hold, con, ready, hold_opts)
    add("send-close", cmd_send_close, con,
        lambda q: q.add_argument("--count", type=int, required=True),
        lambda q: q.add_argument("--parallel", type=int, default=1),
        lambda q: q.add_argument("--format", required=True),
        lambda q: q.add_argument("--timeout", type=float, default=30.0))
    add("burst", cmd_burst, con,
        lambda q: q.add_argument("--count", type=int, required=True),
        lambda q: q.add_argument("--send-hex", required=True),
        lambda q: q.add_argument("--expect-hex", required=True),
        lambda q: q.add_argument("--timeout", type=float, default=60.0))

    def rmode(q):
        q.add_argument("--mode", choices=["server-resets", "client-resets"],
                       required=True)

    add("blackhole", cmd_blackhole, lis, ready)
    add("dns", cmd_dns, lis, ready,
        lambda q: q.add_argument("--answer", action="append"),
        lambda q: q.add_argument("--hold", action="append"),
        lambda q: q.add_argument("--drop", action="append"),
        lambda q: q.add_argument("--log"))
    add("frame-gate", cmd_frame_gate, lis, con, ready, tmo,
        lambda q: q.add_argument("--drop-len", type=int, required=True),
        lambda q: q.add_argument("--route-to"),
        lambda q: q.add_argument("--log", required=True))
    add("reset-server", cmd_reset_server, lis, ready, tmo, rmode)
    add("reset-client", cmd_reset_client, con, tmo, rmode)
    add("slow-sink", cmd_slow_sink, lis, ready, tmo,
        lambda q: q.add_argument("--go", required=True))
    add("push", cmd_push, con, tmo, size, seed,
        lambda q: q.add_argument("--stalled", required=True),
        lambda q: q.add_argument("--quiet", type=float, default=1.0))

    tmo20 = lambda q: q.add_argument("--timeout", type=float, default=20.0)
    count = lambda q: q.add_argument("--count", type=int, required=True)

    def marker_opts(q):
        q.add_argument("--expect", required=True)
        q.add_argument("--reply", required=True)
        q.add_argument("--result", required=True)

    add("marker-server", cmd_marker_server, lis, ready, tmo20, count,
        marker_opts)
    add("marker-client", cmd_marker_client, con, tmo20, count,
        lambda q: q.add_argument("--send", required=True),
        lambda q: q.add_argument("--expect", required=True))

    def prefix_opts(q):
        q.add_argument("--size", type=int, required=True)
        q.add_argument("--pace", type=float, default=0.0)
        q.add_argument("--progress", type=int, default=0)

    add("echo-prefix", cmd_echo_prefix, con, tmo, seed, prefix_opts)
    add("connect-loop", cmd_connect_loop, con,
        lambda q: q.add_argument("--stop"),
        lambda q: q.add_argument("--count", type=int, default=100000),
        lambda q: q.add_argument("--io-timeout", type=float, default=10.0),
        lambda q: q.add_argument("--timeout", type=float, default=120.0))
    add("echo-twice", cmd_echo_twice, con,
        lambda q: q.add_argument("--ready", required=True),
        lambda q: q.add_argument("--go", required=True),
        lambda q: q.add_argument("--timeout", type=float, default=60.0))
    args = p.parse_args()
    sys.exit(args.fn(args) or 0)


if __name__ == "__main__":
    main()
