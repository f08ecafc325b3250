#!/bin/sh
# The outlet tells an authenticated inlet why it is refused (one REFUSE
# record, docs/protocol.md 3.4) and the inlet logs it as the outlet's
# verdict (docs/logging.md), direct:
#   - a client allowed on outlet "a" asks for "b" (allows someone else):
#     outlet `audit deny reason=not-allowed`, inlet `audit deny
#     reason=remote-not-allowed peer=<outlet>`;
#   - a client asks for a service the outlet does not have: outlet
#     `reason=unknown-service`, inlet `reason=remote-unknown-service`;
#   - an inlet node whose identity no allow list of the outlet names
#     (refused by the peer filter, before its attestation is checked):
#     outlet `reason=not-allowed verified=no`, and the inlet is told too
#     (`reason=remote-not-allowed`, no `channel-closed`).
# Asserts each audit line carries conn= (the same as the inlet's open and
# close lines, close reason=refused) and src= (the client's address at the
# inlet, the inlet node's at the outlet), and that the client gets no byte.
. "$(dirname "$0")/lib.sh"

outlets_ab
STRANGER_ID=$(make_identity stranger)
INLET_B=$(free_port)
INLET_X=$(free_port)
{
	ini_node "$WORK/in.key"
	ini_peers server "$OUT_ID"
	ini_inlet b "127.0.0.1:$INLET_B" "server@127.0.0.1:$NODE_PORT"
	ini_inlet x "127.0.0.1:$INLET_X" "server@127.0.0.1:$NODE_PORT" nosuch
} >"$WORK/in.ini"
INLET_S=$(free_port)
{
	ini_node "$WORK/stranger.key"
	ini_peers server "$OUT_ID"
	ini_inlet a "127.0.0.1:$INLET_S" "server@127.0.0.1:$NODE_PORT"
} >"$WORK/stranger.ini"
start_node out "$WORK/out.ini"
start_node in "$WORK/in.ini"
start_node stranger "$WORK/stranger.ini"

# check(port, service, outlet_reason): one refused client, both sides.
check()
{
	probe_denied "127.0.0.1:$1"
	wait_for_event "$WORK/out.log" 5 event=audit decision=deny \
		"reason=$3" "peer=$IN_ID" "service=$2" role=outlet
	wait_for_event "$WORK/in.log" 5 event=audit decision=deny \
		"reason=remote-$3" "peer=$OUT_ID" peer_name=server \
		"service=$2" role=inlet
	line=$(grep "reason=remote-$3" "$WORK/in.log" | head -n 1)
	say "inlet: $line"
	conn=$(field "$line" conn)
	[ -n "$conn" ] || die "no conn= in the inlet's audit line"
	case $(field "$line" src) in
	127.0.0.1:[0-9]*) ;;
	*) die "no client address (src=) in the inlet's audit line" ;;
	esac
	log_has "$WORK/in.log" event=open role=inlet "conn=$conn" ||
		die "no open line for conn=$conn"
	wait_for_event "$WORK/in.log" 5 event=close role=inlet "conn=$conn" \
		reason=refused
	oline=$(grep "event=audit decision=deny reason=$3 " "$WORK/out.log" |
		head -n 1)
	say "outlet: $oline"
	[ -n "$(field "$oline" conn)" ] || die "no conn= in the outlet's line"
	case $(field "$oline" src) in
	127.0.0.1:[0-9]*) ;;
	*) die "no source address (src=) in the outlet's audit line" ;;
	esac
}

check "$INLET_B" b not-allowed
check "$INLET_X" nosuch unknown-service

# The stranger: refused on its claim, and told so.
probe_denied "127.0.0.1:$INLET_S"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny \
	reason=not-allowed "peer=$STRANGER_ID" service=a role=outlet \
	verified=no
wait_for_event "$WORK/stranger.log" 5 event=audit decision=deny \
	reason=remote-not-allowed "peer=$OUT_ID" service=a role=inlet
log_has "$WORK/stranger.log" reason=channel-closed &&
	die "the stranger's refusal ends as channel-closed"
[ ! -s "$WORK/accepts-a.log" ] || die "target a saw a connection"
[ ! -s "$WORK/accepts-b.log" ] || die "target b saw a connection"
[ "$(log_count "$WORK/out.log" event=audit decision=allow)" = 0 ] ||
	die "the outlet logged an allow decision"
log_has "$WORK/in.log" reason=channel-closed &&
	die "a refusal still ends as channel-closed at the inlet"
say "ok"
