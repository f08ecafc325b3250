#!/bin/sh
# Connect timeouts (connect_timeout = 1): a target whose accept queue is
# full never answers the outlet's SYN, and an outlet node address that
# never answers the inlet's.  Asserts: in both cases the client sees its
# connection closed with zero bytes between 0.5 s and 5 s (5 s times
# $SLOW: a loaded machine; still far from the minutes of the kernel's own
# SYN retries); the outlet logs
# `event=target-failed errno=ETIMEDOUT` (not an audit line) for the silent target.
. "$(dirname "$0")/lib.sh"

HOLE_PORT=$(free_port)
spawn "$WORK/hole.out" netkit blackhole "127.0.0.1:$HOLE_PORT" --ready "$WORK/hole.ready"
wait_for_file "$WORK/hole.ready" 10
tunnel db "127.0.0.1:$HOLE_PORT" "connect_timeout = 1"

closed_in_time()
{
	say "$1: $2"
	case $(field "$2" end) in
	eof|reset) ;;
	*) die "$1: the client was not closed: $2" ;;
	esac
	[ "$(field "$2" bytes)" = 0 ] || die "$1: the client received data: $2"
	secs_between "$(field "$2" secs)" 0.5 "$(slow_s 5)" ||
		die "$1: closed after $(field "$2" secs) s, want about 1 s"
}

r=$(netkit probe "$INLET" --send-hex 50494e470d0a \
    --timeout "$(slow_s 10)")
closed_in_time "silent target" "$r"
wait_for_event "$WORK/out.log" 5 event=target-failed role=outlet "peer=$IN_ID" service=db errno=ETIMEDOUT
say "$(grep 'event=target-failed' "$WORK/out.log" | head -n 1)"

# The inlet's own connect to a silent outlet node address.
LOST_INLET=$(free_port)
{
	ini_node "$WORK/in.key" "" "connect_timeout = 1"
	ini_peers server "$OUT_ID"
	ini_inlet lost "127.0.0.1:$LOST_INLET" "server@127.0.0.1:$HOLE_PORT"
} >"$WORK/in2.ini"
start_node in2 "$WORK/in2.ini"
r=$(netkit probe "127.0.0.1:$LOST_INLET" --send-hex 50494e470d0a \
    --timeout "$(slow_s 10)")
closed_in_time "silent outlet node" "$r"
say "ok"
