#!/bin/sh
# Deny: the inlet asks the outlet node for a service it does not expose.
# Asserts: the outlet logs `event=audit decision=deny
# reason=unknown-service service=nosuch`, the client receives zero bytes
# and is closed, and the node's real target sees no connection.
. "$(dirname "$0")/lib.sh"

TARGET_PORT=$(free_port)
accept_log "target" "127.0.0.1:$TARGET_PORT" "$WORK/accepts.log"

OUT_ID=$(make_identity out)
IN_ID=$(make_identity in)
NODE_PORT=$(free_port)
INLET_PORT=$(free_port)
{
	ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT"
	ini_peers client "$IN_ID"
	ini_outlet db "127.0.0.1:$TARGET_PORT" client
} >"$WORK/out.ini"
{
	ini_node "$WORK/in.key"
	ini_peers server "$OUT_ID"
	ini_inlet db "127.0.0.1:$INLET_PORT" "server@127.0.0.1:$NODE_PORT" nosuch
} >"$WORK/in.ini"
start_node out "$WORK/out.ini"
start_node in "$WORK/in.ini"

probe_denied "127.0.0.1:$INLET_PORT"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny \
	reason=unknown-service service=nosuch "peer=$IN_ID" role=outlet
probe_denied "127.0.0.1:$INLET_PORT" "$WORK/accepts.log"
[ "$(log_count "$WORK/out.log" event=audit decision=allow)" = 0 ] ||
	die "the outlet logged an allow decision"
say "ok"
