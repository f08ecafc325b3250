#!/bin/sh
# Resumed handshakes ([node] resume = yes on both nodes; issue 13 part 1).
# Asserts: the first connection is a full handshake, the second resumes
# (event=resumed at both ends) and carries bytes both ways; after the
# outlet node restarts (its tickets gone) the inlet's resumed msg1 is
# answered "unknown", the same connection goes on with a full handshake
# (event=resume-refused) and the client gets its bytes; the next one
# resumes again; a reload that takes the client off the allow-list denies
# the next connection, a resumed one (the allow-list decides every time).
# Through a relay (the service name bound in the prologue) the second
# connection resumes too.  An outlet that drops resumed msg1s (a node
# without resumed handshakes) costs the client nothing but a redial with a
# full handshake, and gets no ticket offered afterwards.
. "$(dirname "$0")/lib.sh"

TARGET_PORT=$(free_port)
start_echo "127.0.0.1:$TARGET_PORT"
tunnel db "127.0.0.1:$TARGET_PORT" "resume = yes" "log_level = debug"

# echo_try(): one client through the inlet gets its 6 bytes back.
echo_try()
{
	_r=$(netkit probe "$INLET" --send-hex 50494e470d0a --timeout 2)
	[ "$(field "$_r" bytes)" = 6 ]
}

echo_ok()
{
	echo_try || die "client did not get its bytes through $INLET"
}

echo_ok
[ "$(log_count "$WORK/in.log" event=resumed)" = 0 ] ||
	die "the first connection resumed"
echo_ok
wait_for_event "$WORK/in.log" 5 event=resumed role=inlet
wait_for_event "$WORK/out.log" 5 event=resumed role=outlet
say "second connection resumed"

# The outlet restarts: it no longer knows the ticket.
stop_pid "$PID_out"
start_node out "$WORK/out.ini"
echo_ok
wait_for_event "$WORK/in.log" 5 event=resume-refused
[ "$(log_count "$WORK/in.log" event=resumed)" = 1 ] ||
	die "resumed with a ticket the outlet forgot"
echo_ok
wait_until 5 test "$(log_count "$WORK/in.log" event=resumed)" = 2 ||
	die "no resumed connection after the fallback"
say "fallback to a full handshake, then resumed again"

# Off the allow-list: the next (resumed) connection is denied.
OTHER_ID=$(make_identity other)
{
	ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT" "resume = yes" \
	    "log_level = debug"
	ini_peers client "$IN_ID" other "$OTHER_ID"
	ini_outlet db "127.0.0.1:$TARGET_PORT" other
} >"$WORK/out.ini.new"
put_file "$WORK/out.ini.new" "$WORK/out.ini"
reload_node out
n=$(log_count "$WORK/in.log" event=resumed)
probe_denied "$INLET"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny reason=not-allowed \
	"peer=$IN_ID" service=db role=outlet
# The resumed attempt is audited on its proven identity (no verified=no);
# refused as not allowed, the inlet drops the ticket and tries a full
# handshake once, which the peer filter refuses on its claim (verified=no)
# and tells too.
line=$(grep "event=audit decision=deny reason=not-allowed peer=$IN_ID" \
    "$WORK/out.log" | head -n 1)
case $line in
*verified=no*) die "a resumed peer audited as unverified: $line" ;;
esac
wait_for_event "$WORK/in.log" 5 event=resume-denied role=inlet \
    reason=remote-not-allowed redial=yes
wait_for_event "$WORK/in.log" 5 event=audit decision=deny \
    reason=remote-not-allowed "peer=$OUT_ID"
# The inlet resumed (it is established once msg3 is out); the outlet's
# allow-list hook refused it on msg3.
[ "$(log_count "$WORK/in.log" event=resumed)" = $((n + 1)) ] ||
	die "the denied connection was not a resumed one"
[ "$(log_count "$WORK/in.log" event=resume-refused)" = 1 ] ||
	die "the reload made the outlet forget its tickets"

# Through a relay: inlet rin -> relay hub -> outlet rout (dialing out);
# config as docs/relay.md.
HUB_PORT=$(free_port)
RIN_PORT=$(free_port)
HUB_ID=$(make_identity hub)
ROUT_ID=$(make_identity rout)
RIN_ID=$(make_identity rin)
HUB="hub@127.0.0.1:$HUB_PORT"
{
	ini_node "$WORK/hub.key" "127.0.0.1:$HUB_PORT" "resume = yes"
	ini_peers rout "$ROUT_ID" rin "$RIN_ID"
	printf '[relay db]\nregister = rout\nallow = rin\n\n'
} >"$WORK/hub.ini"
{
	ini_node "$WORK/rout.key" "" "resume = yes" "log_level = debug"
	ini_peers hub "$HUB_ID" rin "$RIN_ID"
	printf '[outlet db]\ntarget = 127.0.0.1:%s\nrelay = %s\nallow = rin\n\n' \
	    "$TARGET_PORT" "$HUB"
} >"$WORK/rout.ini"
{
	ini_node "$WORK/rin.key" "" "resume = yes" "log_level = debug"
	ini_peers hub "$HUB_ID" rout "$ROUT_ID"
	printf '[inlet db]\nlisten = 127.0.0.1:%s\noutlet = rout\nvia = %s\n\n' \
	    "$RIN_PORT" "$HUB"
} >"$WORK/rin.ini"

start_node hub "$WORK/hub.ini"
start_node rout "$WORK/rout.ini"
start_node rin "$WORK/rin.ini"
wait_for_event "$WORK/rout.log" 10 event=session-open role=outlet kind=register
wait_for_event "$WORK/rin.log" 10 event=session-open role=inlet
INLET="127.0.0.1:$RIN_PORT"
wait_until 10 echo_try || die "no bytes through the relay within 10 s"
echo_ok
wait_for_event "$WORK/rin.log" 5 event=resumed role=inlet
wait_for_event "$WORK/rout.log" 5 event=resumed role=outlet
say "resumed through the relay"

# An outlet that drops a resumed msg1 (as a node without resumed
# handshakes does: EPAYLOAD), stood in for by a frame gate that resets a
# connection whose first frame has the resumed msg1's 65-byte body and
# forwards every other one to outlet gout: the inlet gin forgets the
# ticket, carries the client over a new connection with a full handshake
# (the client gets its bytes), and offers that outlet no ticket after.
GOUT_PORT=$(free_port)
GATE_PORT=$(free_port)
GIN_PORT=$(free_port)
GOUT_ID=$(make_identity gout)
GIN_ID=$(make_identity gin)
{
	ini_node "$WORK/gout.key" "127.0.0.1:$GOUT_PORT" "resume = yes"
	ini_peers gin "$GIN_ID"
	ini_outlet db "127.0.0.1:$TARGET_PORT" gin
} >"$WORK/gout.ini"
{
	ini_node "$WORK/gin.key" "" "resume = yes" "log_level = debug"
	ini_peers gout "$GOUT_ID"
	ini_inlet db "127.0.0.1:$GIN_PORT" "gout@127.0.0.1:$GATE_PORT"
} >"$WORK/gin.ini"
start_node gout "$WORK/gout.ini"
spawn "$WORK/gate.out" netkit frame-gate "127.0.0.1:$GATE_PORT" \
	"127.0.0.1:$GOUT_PORT" --drop-len 65 --log "$WORK/gate.log" \
	--ready "$WORK/gate.ready"
wait_until 10 test -f "$WORK/gate.ready" || die "the frame gate did not start"
start_node gin "$WORK/gin.ini"
INLET="127.0.0.1:$GIN_PORT"
: >"$WORK/gate.log"
echo_ok
echo_ok
wait_for_event "$WORK/gin.log" 5 event=resume-failed role=inlet \
	reason=channel-closed
[ "$(log_count "$WORK/gate.log" dropped)" = 1 ] ||
	die "the gate did not drop exactly one resumed msg1"
echo_ok
echo_ok
[ "$(log_count "$WORK/gate.log" dropped)" = 1 ] ||
	die "the inlet offered a ticket again after a resumed attempt failed"
[ "$(log_count "$WORK/gin.log" event=resumed)" = 0 ] ||
	die "resumed through a peer that drops resumed handshakes"
say "a resumed msg1 dropped: the client carried over a full handshake"
say "ok"
