#!/bin/sh
# Deny: the inlet is pinned to the outlet identity "server", but a rogue
# node with another valid key answers at that address (and would happily
# serve the client).  Asserts: the inlet logs `event=audit decision=deny
# reason=peer-mismatch role=inlet`, the client receives zero bytes and is
# closed, the rogue's target sees no connection and the rogue logs no
# allow decision (the inlet never authenticated itself to it); the line
# names the pinned identifier (expected=) and the one presented
# (presented=, verified=no), with conn= and the client's src=.
. "$(dirname "$0")/lib.sh"

TARGET_PORT=$(free_port)
accept_log "target" "127.0.0.1:$TARGET_PORT" "$WORK/accepts.log"

OUT_ID=$(make_identity out)		# the real outlet: never started
ROGUE_ID=$(make_identity rogue)
IN_ID=$(make_identity in)
NODE_PORT=$(free_port)
INLET_PORT=$(free_port)
{
	ini_node "$WORK/rogue.key" "127.0.0.1:$NODE_PORT"
	ini_peers client "$IN_ID"
	ini_outlet db "127.0.0.1:$TARGET_PORT" client
} >"$WORK/rogue.ini"
{
	ini_node "$WORK/in.key"
	ini_peers server "$OUT_ID"
	ini_inlet db "127.0.0.1:$INLET_PORT" "server@127.0.0.1:$NODE_PORT"
} >"$WORK/in.ini"
start_node rogue "$WORK/rogue.ini"
start_node in "$WORK/in.ini"

probe_denied "127.0.0.1:$INLET_PORT"
wait_for_event "$WORK/in.log" 5 event=audit decision=deny reason=peer-mismatch \
	role=inlet
say "$(grep 'reason=peer-mismatch' "$WORK/in.log" | head -n 1)"
# The pinned identifier and the one presented (unverified), never as peer=.
log_has "$WORK/in.log" event=audit reason=peer-mismatch peer=- \
	"expected=$OUT_ID" "presented=$ROGUE_ID" verified=no ||
	die "the peer-mismatch line does not name the expected and presented ids"
log_has "$WORK/in.log" event=audit reason=peer-mismatch "peer=$ROGUE_ID" &&
	die "the unverified identifier was logged as the peer"
line=$(grep 'reason=peer-mismatch' "$WORK/in.log" | head -n 1)
case $(field "$line" conn) in
[1-9]*) ;;
*) die "no conn= in the peer-mismatch line: $line" ;;
esac
case $(field "$line" src) in
127.0.0.1:[0-9]*) ;;
*) die "no client source address in the peer-mismatch line: $line" ;;
esac
probe_denied "127.0.0.1:$INLET_PORT" "$WORK/accepts.log"
[ "$(log_count "$WORK/rogue.log" event=audit decision=allow)" = 0 ] ||
	die "the rogue outlet authorized the client"
[ "$(log_count "$WORK/in.log" event=open)" = 0 ] ||
	die "the inlet carried a connection"
say "ok"
