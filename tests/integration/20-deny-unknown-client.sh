#!/bin/sh
# Deny: a client node whose identity the outlet does not know.  The
# stranger's inlet pins the real outlet identity, so the channel completes
# up to the outlet's access check.  Asserts: the outlet logs
# `event=audit decision=deny reason=not-allowed` with the stranger's
# identifier, the client receives zero bytes and is closed, the target sees
# no connection; then the allowed client does reach the target.
. "$(dirname "$0")/lib.sh"

TARGET_PORT=$(free_port)
accept_log "target" "127.0.0.1:$TARGET_PORT" "$WORK/accepts.log"

tunnel db "127.0.0.1:$TARGET_PORT"

# The stranger: a valid key the outlet has never heard of.
STRANGER_ID=$(make_identity stranger)
STRANGER_PORT=$(free_port)
{
	ini_node "$WORK/stranger.key"
	ini_peers server "$OUT_ID"
	ini_inlet db "127.0.0.1:$STRANGER_PORT" "server@127.0.0.1:$NODE_PORT"
} >"$WORK/stranger.ini"
start_node stranger "$WORK/stranger.ini"

probe_denied "127.0.0.1:$STRANGER_PORT"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny reason=not-allowed \
	"peer=$STRANGER_ID" service=db role=outlet
probe_denied "127.0.0.1:$STRANGER_PORT" "$WORK/accepts.log"
[ "$(log_count "$WORK/out.log" event=audit decision=allow)" = 0 ] ||
	die "the outlet logged an allow decision"

# Control: the allowed client gets through to the same target.
netkit probe "$INLET" --send-hex 00 --timeout 0.5 >/dev/null
wait_until 5 test -s "$WORK/accepts.log" || die "the allowed client did not reach the target"
log_has "$WORK/out.log" event=audit decision=allow "peer=$IN_ID" service=db ||
	die "no allow audit line for the allowed client"
say "ok"
