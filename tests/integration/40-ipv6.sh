#!/bin/sh
# IPv6: the inlet listens on [::1], the outlet node accepts channels on
# [::1] and the target listens on [::1].  Asserts: 20 concurrent
# connections of 128 KiB each are echoed intact, and the listen events
# show the IPv6 addresses.  Skips (77) without a usable ::1.
. "$(dirname "$0")/lib.sh"

python3 -c 'import socket
s = socket.socket(socket.AF_INET6)
s.bind(("::1", 0))' 2>/dev/null || skip "::1 is not available"

TARGET_PORT=$(free_port ::1)
NODE_PORT=$(free_port ::1)
INLET_PORT=$(free_port ::1)
start_echo "[::1]:$TARGET_PORT"
OUT_ID=$(make_identity out)
IN_ID=$(make_identity in)
{
	ini_node "$WORK/out.key" "[::1]:$NODE_PORT"
	ini_peers client "$IN_ID"
	ini_outlet echo "[::1]:$TARGET_PORT" client
} >"$WORK/out.ini"
{
	ini_node "$WORK/in.key"
	ini_peers server "$OUT_ID"
	ini_inlet echo "[::1]:$INLET_PORT" "server@[::1]:$NODE_PORT"
} >"$WORK/in.ini"
start_node out "$WORK/out.ini"
start_node in "$WORK/in.ini"
log_has "$WORK/in.log" event=listen role=inlet "addr=[::1]:$INLET_PORT" ||
	die "no listen event for [::1]:$INLET_PORT"

res=$(netkit echo-check "[::1]:$INLET_PORT" --count 20 --size 131072 \
	--timeout 20) || die "$res"
say "$res"
log_has "$WORK/out.log" event=audit decision=allow "peer=$IN_ID" ||
	die "no allow audit line"
say "ok"
