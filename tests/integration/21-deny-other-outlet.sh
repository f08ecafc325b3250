#!/bin/sh
# Deny: a client allowed on one outlet ("a") asks for another outlet ("b")
# of the same node that allows someone else.  Asserts: the outlet logs
# `event=audit decision=deny reason=not-allowed service=b` with the client's
# identifier and peer name, the client receives zero bytes and is closed,
# target b sees no connection; the same client does reach target a.
. "$(dirname "$0")/lib.sh"

outlets_ab
INLET_A=$(free_port)
INLET_B=$(free_port)
{
	ini_node "$WORK/in.key"
	ini_peers server "$OUT_ID"
	ini_inlet a "127.0.0.1:$INLET_A" "server@127.0.0.1:$NODE_PORT"
	ini_inlet b "127.0.0.1:$INLET_B" "server@127.0.0.1:$NODE_PORT"
} >"$WORK/in.ini"
start_node out "$WORK/out.ini"
start_node in "$WORK/in.ini"

probe_denied "127.0.0.1:$INLET_B"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny reason=not-allowed \
	"peer=$IN_ID" peer_name=client service=b role=outlet
probe_denied "127.0.0.1:$INLET_B" "$WORK/accepts-b.log"

# Control: outlet a lets the same client through.
netkit probe "127.0.0.1:$INLET_A" --send-hex 00 --timeout 0.5 >/dev/null
wait_until 5 test -s "$WORK/accepts-a.log" || die "the client did not reach target a"
log_has "$WORK/out.log" event=audit decision=allow "peer=$IN_ID" service=a ||
	die "no allow audit line for service a"
[ ! -s "$WORK/accepts-b.log" ] || die "target b saw a connection"
say "ok"
