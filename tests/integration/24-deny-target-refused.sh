#!/bin/sh
# The client is allowed but the target refuses the connection (nothing
# listens on its port).  Asserts: the client receives zero bytes and sees
# its connection closed promptly (under 2 s); the outlet logs
# `event=target-failed` with the target's address and the errno text, and
# no access decision other than none at all (a target that is down is not
# a denial: issue 9); the inlet learns it from the outlet's REFUSE record
# (`event=target-failed role=inlet side=remote`, joined by conn= with its
# open and close, close reason=refused).
. "$(dirname "$0")/lib.sh"

DEAD_PORT=$(free_port)		# nobody listens here
tunnel db "127.0.0.1:$DEAD_PORT"
port_listening "$DEAD_PORT" && skip "port $DEAD_PORT got taken"

r=$(netkit probe "$INLET" --send-hex 50494e470d0a --timeout 5)
say "client: $r"
[ "$(field "$r" bytes)" = 0 ] || die "the client received data: $r"
case $(field "$r" end) in
eof|reset) ;;
*) die "the client was not closed: $r" ;;
esac
awk -v s="$(field "$r" secs)" 'BEGIN { exit !(s < 2.0) }' ||
	die "the client was closed only after $(field "$r" secs) s"
wait_for_event "$WORK/out.log" 5 event=target-failed role=outlet \
	"peer=$IN_ID" service=db "addr=127.0.0.1:$DEAD_PORT" \
	errno=ECONNREFUSED 'error="Connection'
say "$(grep 'event=target-failed' "$WORK/out.log" | head -n 1)"
log_has "$WORK/out.log" event=audit reason=target-refused &&
	die "the outlet still logs a target failure as an access decision"
log_has "$WORK/out.log" event=audit decision=deny &&
	die "the outlet logged a deny for an allowed client"
# The inlet: told by the outlet, on the same conn= as its open and close.
wait_for_event "$WORK/in.log" 5 event=target-failed role=inlet side=remote \
	"peer=$OUT_ID" service=db
line=$(grep 'event=target-failed' "$WORK/in.log" | head -n 1)
conn=$(field "$line" conn)
[ -n "$conn" ] || die "no conn= in the inlet's target-failed line: $line"
wait_for_event "$WORK/in.log" 5 event=close role=inlet "conn=$conn" \
	reason=refused
log_has "$WORK/in.log" event=audit decision=deny &&
	die "the inlet logged a deny for a target that is down"
say "ok"
