#!/bin/sh
# The client is allowed but the target refuses the connection (nothing
# listens on its port).  Asserts: the outlet logs an `event=audit
# reason=target-refused` line for the client, and the client receives zero
# bytes and sees its connection closed promptly (under 2 s).
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
wait_for_event "$WORK/out.log" 5 event=audit reason=target-refused \
	"peer=$IN_ID" service=db role=outlet
say "$(grep 'reason=target-refused' "$WORK/out.log" | head -n 1)"
log_has "$WORK/out.log" event=audit decision=deny reason=target-refused ||
	die "the target-refused audit line is not decision=deny"
say "ok"
