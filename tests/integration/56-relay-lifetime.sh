#!/bin/sh
# Lifetimes and unlinkable preambles through a relay on loopback
# (docs/security.md, "Lifetimes" and "Unlinkable data connections"):
#   inlet app -> tap -> relay hub -> outlet db -> echo
# with attestations that live 12 s (SALLYPORT_TEST_LIFETIME).  A Python
# tap between the inlet and the relay keeps the first bytes of every
# connection.  Asserts that two client data connections' preambles share
# no 16-byte substring (neither a session id nor a counter in clear), and
# that the sessions end at the attestation expiry (reason=expired at the
# relay and at both nodes), are made again on their own, and that a new
# connection through the relay works afterwards.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=relaylib.sh
. "$top_srcdir/tests/integration/relaylib.sh"
need python3

export SALLYPORT_TEST_LIFETIME=12

echo_port=$(free_port)
hub_port=$(free_port)
tap_port=$(free_port)
in_port=$(free_port)

id_app=$(make_identity app)
id_db=$(make_identity db)
id_hub=$(make_identity hub)

# The tap: forwards each connection to the relay and writes the hex of its
# first 97 bytes from the client side, one line per connection.
cat >"$WORK/tap.py" <<'PY'
import socket, sys, threading
listen, up, out, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
lock = threading.Lock()
def pump(a, b, keep):
    got = b""
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            if keep is not None and len(got) < 97:
                got += d[:97 - len(got)]
                if len(got) == 97:
                    with lock, open(out, "a") as f:
                        f.write(got.hex() + "\n")
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
def serve(c):
    u = socket.create_connection(("127.0.0.1", up))
    threading.Thread(target=pump, args=(u, c, None), daemon=True).start()
    pump(c, u, True)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", listen))
s.listen(64)
open(ready, "w").close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
spawn "$WORK/tap.out" python3 "$WORK/tap.py" "$tap_port" "$hub_port" \
    "$WORK/tap.hex" "$WORK/.tap-ready"
wait_for_file "$WORK/.tap-ready" 10
start_echo "127.0.0.1:$echo_port"

{
	ini_node "$WORK/hub.key" "127.0.0.1:$hub_port"
	ini_peers db "$id_db" app "$id_app"
	ini_relay echo register=db allow=app
} >"$WORK/hub.ini"
{
	ini_node "$WORK/db.key"
	ini_peers hub "$id_hub" app "$id_app"
	ini_outlet_relay echo "127.0.0.1:$echo_port" \
	    "hub@127.0.0.1:$hub_port" app
} >"$WORK/db.ini"
{
	ini_node "$WORK/app.key"
	ini_peers hub "$id_hub" db "$id_db"
	ini_inlet_via echo "127.0.0.1:$in_port" db "hub@127.0.0.1:$tap_port"
} >"$WORK/app.ini"
start_node hub "$WORK/hub.ini"
start_node db "$WORK/db.ini"
start_node app "$WORK/app.ini"
log_has "$WORK/app.log" "test_lifetime=12" ||
	die "the test lifetime was not taken"

# echo_through: one short echo through the inlet.
echo_through()
{
	netkit echo-check "127.0.0.1:$in_port" --count 1 --size 64 \
	    --timeout 3 >/dev/null 2>&1
}

wait_until 10 echo_through || die "no echo through the relay within 10 s"
echo_through || die "second echo failed"
echo_through || die "third echo failed"

# Unlinkability: the client preambles (type 'c') the tap saw.
python3 - "$WORK/tap.hex" <<'PY' || die "two preambles share 16 bytes"
import sys
pres = [bytes.fromhex(l) for l in open(sys.argv[1]) if l.startswith("63")]
if len(pres) < 2:
    sys.exit("only %d client preambles captured" % len(pres))
for i in range(len(pres)):
    for j in range(i + 1, len(pres)):
        a, b = pres[i], pres[j]
        subs = {a[k:k + 16] for k in range(len(a) - 15)}
        if any(b[k:k + 16] in subs for k in range(len(b) - 15)):
            sys.exit("preambles %d and %d share 16 bytes" % (i, j))
print("%d client preambles, pairwise unlinkable" % len(pres))
PY
say "preambles share no 16-byte substring"

# Lifetimes: every session ends at the 12 s attestation expiry.
wait_for_log "$WORK/hub.log" 'event=session-close role=relay.*reason=expired' 30 ||
	die "the relay did not end a session at its expiry"
wait_for_log "$WORK/app.log" 'event=session-close.*reason=expired' 30 ||
	die "the inlet's session did not end at its expiry"
wait_for_log "$WORK/db.log" 'event=session-close.*reason=expired' 30 ||
	die "the outlet's session did not end at its expiry"
# ... and both nodes make a new one on their own.
wait_for_log "$WORK/app.log" 'event=session-open' 15 2 ||
	die "the inlet did not open a new session"
wait_for_log "$WORK/db.log" 'event=session-open' 15 2 ||
	die "the outlet did not register again"
wait_until 10 echo_through || die "no echo after the sessions were renewed"
log_has "$WORK/hub.log" "reason=EEXPIRED" && die "a handshake saw an expired attestation"
say "ok"
