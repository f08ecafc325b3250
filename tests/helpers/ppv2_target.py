#!/usr/bin/env python3
"""ppv2_target.py PORT OUT READY: a TCP target on 127.0.0.1:PORT that, for
each connection, parses a PROXY protocol v2 header if one comes first
(haproxy's doc/proxy-protocol.txt), checking every byte: the signature,
version/command 0x21, family TCP/IPv4 or TCP/IPv6, the length against the
addresses and the TLVs (which must fill it exactly).  It appends one JSON
line per connection to OUT (header fields, TLVs, the raw header in hex or
"error"), then echoes the application bytes.  READY is created once it
listens.  Written for the sallyport tests; stops when killed."""
import json
import socket
import struct
import sys
import threading

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def read_exact(c, n):
    buf = b""
    while len(buf) < n:
        d = c.recv(n - len(buf))
        if not d:
            raise EOFError("cut short after %d of %d bytes" % (len(buf), n))
        buf += d
    return buf


def parse(c):
    """Return (record, leftover application bytes)."""
    first = b""
    # A byte that leaves the signature means no header: stop reading there.
    while len(first) < 12:
        first += read_exact(c, 1)
        if not SIG.startswith(first):
            return {"header": False, "first": first.decode("latin-1")}, first
    first += read_exact(c, 4)
    ver_cmd, fam, length = first[12], first[13], struct.unpack("!H", first[14:16])[0]
    rec = {"header": True, "ver_cmd": ver_cmd, "fam": fam, "len": length}
    if ver_cmd != 0x21:
        raise ValueError("ver_cmd %#x, want 0x21 (v2, PROXY)" % ver_cmd)
    body = read_exact(c, length)
    rec["raw"] = (first + body).hex()
    if fam == 0x11:
        if length < 12:
            raise ValueError("IPv4 header too short")
        src, dst = socket.inet_ntop(socket.AF_INET, body[0:4]), socket.inet_ntop(socket.AF_INET, body[4:8])
        sport, dport = struct.unpack("!HH", body[8:12])
        pos = 12
    elif fam == 0x21:
        if length < 36:
            raise ValueError("IPv6 header too short")
        src, dst = socket.inet_ntop(socket.AF_INET6, body[0:16]), socket.inet_ntop(socket.AF_INET6, body[16:32])
        sport, dport = struct.unpack("!HH", body[32:36])
        pos = 36
    elif fam == 0x00:
        src = dst = None
        sport = dport = None
        pos = 0
    else:
        raise ValueError("family %#x" % fam)
    rec.update(src=src, dst=dst, sport=sport, dport=dport)
    tlvs = {}
    while pos < length:
        if length - pos < 3:
            raise ValueError("TLV header cut at %d" % pos)
        t, n = body[pos], struct.unpack("!H", body[pos + 1:pos + 3])[0]
        pos += 3
        if n > length - pos:
            raise ValueError("TLV %#x overruns the header" % t)
        if "%02x" % t in tlvs:
            raise ValueError("TLV %#x twice" % t)
        tlvs["%02x" % t] = body[pos:pos + n].decode("ascii")
        pos += n
    if pos != length:
        raise ValueError("trailing bytes")
    rec["tlvs"] = tlvs
    return rec, b""


def serve(c, out, lock):
    try:
        try:
            rec, rest = parse(c)
        except (ValueError, EOFError, UnicodeDecodeError) as e:
            rec, rest = {"error": str(e)}, None
        with lock, open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        if rest is None:
            return
        if rest:
            c.sendall(rest)
        while True:
            d = c.recv(65536)
            if not d:
                break
            c.sendall(d)
    except OSError:
        pass
    finally:
        c.close()


def main():
    port, out, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    open(ready, "w").close()
    lock = threading.Lock()
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, out, lock), daemon=True).start()


if __name__ == "__main__":
    main()
