#!/bin/sh
# PROXY protocol v2 towards the target ([outlet] proxy_protocol = v2,
# docs/config.md).  Asserts: a Python parser behind an outlet gets, before
# any application byte, a header whose every byte is the expected one: the
# client address the inlet saw (source 127.0.0.2 and its port), the
# address it connected to (the inlet's listen address), TLV 0xE0 the
# inlet node's identifier, AUTHORITY the service name, UNIQUE_ID the
# outlet's connection number (conn= of its open line); nginx with
# "listen ... proxy_protocol" logs the inlet-side client address from
# $proxy_protocol_addr; a target with proxy_protocol off gets no header.
. "$(dirname "$0")/lib.sh"
need python3 nginx curl

PP_PORT=$(free_port)
PLAIN_PORT=$(free_port)
HTTP_PORT=$(free_port)
spawn "$WORK/pp.out" python3 "$top_srcdir/tests/helpers/ppv2_target.py" \
    "$PP_PORT" "$WORK/pp.json" "$WORK/pp.ready"
wait_for_file "$WORK/pp.ready" 10
spawn "$WORK/plain.out" python3 "$top_srcdir/tests/helpers/ppv2_target.py" \
    "$PLAIN_PORT" "$WORK/plain.json" "$WORK/plain.ready"
wait_for_file "$WORK/plain.ready" 10

# nginx: PROXY protocol on its listen socket, the address in its log.
mkdir -p "$WORK/www" "$WORK/nginx/tmp"
echo "hello" >"$WORK/www/index.html"
user_line=""
[ "$(id -u)" != 0 ] || user_line="user root root;"
cat >"$WORK/nginx/nginx.conf" <<CONF
$user_line
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log info;
events { worker_connections 64; }
http {
	log_format pp 'pp=\$proxy_protocol_addr:\$proxy_protocol_port remote=\$remote_addr';
	access_log $WORK/nginx/access.log pp;
	client_body_temp_path $WORK/nginx/tmp/body;
	proxy_temp_path $WORK/nginx/tmp/proxy;
	fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
	uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
	scgi_temp_path $WORK/nginx/tmp/scgi;
	server {
		listen 127.0.0.1:$HTTP_PORT proxy_protocol;
		root $WORK/www;
	}
}
CONF
spawn "$WORK/nginx/stderr.log" nginx -e "$WORK/nginx/error.log" \
	-p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
NODE_LOGS="$NODE_LOGS $WORK/nginx/error.log"
wait_for_port "$HTTP_PORT" 10

OUT_ID=$(make_identity out)
IN_ID=$(make_identity in)
NODE_PORT=$(free_port)
P_RAW=$(free_port)
P_PLAIN=$(free_port)
P_WEB=$(free_port)
{
	ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT"
	ini_peers client "$IN_ID"
	ini_outlet raw "127.0.0.1:$PP_PORT" client
	echo "proxy_protocol = v2"
	ini_outlet plain "127.0.0.1:$PLAIN_PORT" client
	echo "proxy_protocol = off"
	ini_outlet web "127.0.0.1:$HTTP_PORT" client
	echo "proxy_protocol = v2"
} >"$WORK/out.ini"
{
	ini_node "$WORK/in.key" ""
	ini_peers server "$OUT_ID"
	ini_inlet raw "127.0.0.1:$P_RAW" "server@127.0.0.1:$NODE_PORT"
	ini_inlet plain "127.0.0.1:$P_PLAIN" "server@127.0.0.1:$NODE_PORT"
	ini_inlet web "127.0.0.1:$P_WEB" "server@127.0.0.1:$NODE_PORT"
} >"$WORK/in.ini"
start_node out "$WORK/out.ini"
start_node in "$WORK/in.ini"

# client(port, srcport): from 127.0.0.2:srcport, send a line, expect it
# back (the header, if any, never reaches the client).
client()
{
	python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.2", int(sys.argv[2])))
s.settimeout(10)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"hello\n")
got = b""
while len(got) < 6:
    d = s.recv(100)
    if not d:
        break
    got += d
sys.exit(0 if got == b"hello\n" else 1)
PY
}
SRC=$(free_port)
client "$P_RAW" "$SRC" || die "echo through the PROXY outlet failed"
SRC2=$(free_port)
client "$P_PLAIN" "$SRC2" || die "echo through the plain outlet failed"

line=$(grep 'event=open role=outlet' "$WORK/out.log" | grep 'name=raw' | head -n 1)
CONN=$(field "$line" conn)
[ -n "$CONN" ] || die "no open line for raw on the outlet"

# Every byte: the whole header rebuilt here, compared with what came.
python3 - "$WORK/pp.json" "$SRC" "$P_RAW" "$IN_ID" "$CONN" <<'PY' ||
import json, socket, struct, sys
rec = json.loads(open(sys.argv[1]).readline())
src, dport, peer, conn = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
assert "error" not in rec, rec
assert rec["header"] and rec["ver_cmd"] == 0x21 and rec["fam"] == 0x11, rec
assert (rec["src"], rec["sport"]) == ("127.0.0.2", src), rec
assert (rec["dst"], rec["dport"]) == ("127.0.0.1", dport), rec
assert rec["tlvs"] == {"e0": peer, "02": "raw", "05": conn}, rec["tlvs"]
def tlv(t, v):
    return struct.pack("!BH", t, len(v)) + v.encode()
body = (socket.inet_aton("127.0.0.2") + socket.inet_aton("127.0.0.1") +
        struct.pack("!HH", src, dport) + tlv(0xE0, peer) + tlv(0x02, "raw") +
        tlv(0x05, conn))
want = b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body
assert rec["raw"] == want.hex(), (rec["raw"], want.hex())
print("header ok: %d bytes" % len(want))
PY
	die "the PROXY v2 header is not the expected one"
grep -q '"header": false' "$WORK/plain.json" ||
	die "proxy_protocol = off: the target got a header"

# nginx logs the inlet-side client address from the header.
WEBSRC=$(free_port)
got=$(curl -sS --max-time 10 --interface 127.0.0.2 --local-port "$WEBSRC" \
    "http://127.0.0.1:$P_WEB/index.html") || die "curl through the PROXY outlet failed"
[ "$got" = hello ] || die "nginx answered '$got'"
wait_for_file "$WORK/nginx/access.log" 5
wait_for_log "$WORK/nginx/access.log" "pp=127.0.0.2:$WEBSRC remote=127.0.0.1" 5
say "ok: header bytes, TLVs, nginx \$proxy_protocol_addr, no header when off"
