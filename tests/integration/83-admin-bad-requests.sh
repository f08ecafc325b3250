#!/bin/sh
# Bad requests at the admin endpoint (docs/config.md, "admin"): POST gets
# 405, garbage 400, a head over 2 KiB 431, HTTP/2.0 505, an unknown path
# 404; a slow client (slowloris) is closed when its head is not in after
# 1 s; and the node keeps serving /healthz after each (54-admin-starved.sh:
# more idle clients than the endpoint serves at once).
. "$(dirname "$0")/lib.sh"
need curl

OUT_ID=$(make_identity out)
make_identity in >/dev/null
ADMIN=$(free_port)
{
	ini_node "$WORK/in.key" "" "admin = 127.0.0.1:$ADMIN"
	ini_peers server "$OUT_ID"
	ini_inlet db "127.0.0.1:$(free_port)" "server@127.0.0.1:$(free_port)"
} >"$WORK/in.ini"
start_node in "$WORK/in.ini"

# ask(bytes-as-python-literal): send them, print the status code of the
# answer, or "close" if the connection ended without one (5 s bound).
ask()
{
	python3 - "$ADMIN" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
try:
    s.sendall(eval(sys.argv[2]))
except OSError:
    pass
data = b""
try:
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
except OSError:
    pass
print(data.split(b" ")[1].decode() if data.startswith(b"HTTP/1.1 ") else "close")
PY
}

healthy()
{
	[ "$(curl -fsS -m 2 "http://127.0.0.1:$ADMIN/healthz")" = ok ] ||
		die "/healthz failed after: $1"
}

check()
{
	got=$(ask "$2")
	[ "$got" = "$1" ] || die "expected $1, got $got for $2"
	healthy "$2"
}
check 405 'b"POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nab"'
check 400 'b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"'
check 400 'b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n"'
check 505 'b"GET /metrics HTTP/2.0\r\n\r\n"'
check 431 'b"GET / HTTP/1.1\r\nX: " + b"a" * 3000'
check 404 'b"GET /nope HTTP/1.1\r\n\r\n"'
check 200 'b"GET /metrics HTTP/1.0\n\n"'

# Slowloris: five clients hold a connection, sending a byte now and then;
# each is closed at 1 s (ADMIN_HEAD_TIMEOUT) without an answer; /healthz
# is served once they are gone.
python3 - "$ADMIN" >"$WORK/slow.out" <<'PY'
import socket, sys, time
t0 = time.monotonic()
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1])))
         for _ in range(5)]
for s in socks:
    s.setblocking(False)
closed = {}
while len(closed) < 5 and time.monotonic() - t0 < 8:
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            s.send(b"G")
            if s.recv(1) == b"":
                closed[i] = time.monotonic() - t0
        except BlockingIOError:
            pass
        except OSError:
            closed[i] = time.monotonic() - t0
    time.sleep(0.1)
print(" ".join("%.1f" % closed.get(i, -1) for i in range(5)))
PY
say "slow clients closed at: $(cat "$WORK/slow.out")"
for t in $(cat "$WORK/slow.out"); do
	awk -v t="$t" 'BEGIN { exit !(t >= 0.7 && t <= 6) }' ||
		die "a slow client was closed at $t s (want about 1 s; -1: never)"
done
healthy slowloris
say "ok"
