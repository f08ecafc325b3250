#!/bin/sh
# The connection cap (max_connections = 4 on both nodes): with 4 live
# connections (echoes paced over ~4 s), a fifth client is refused: closed
# with zero bytes, and an event=refuse reason=max-connections line.
# Asserts the 4 live connections complete intact, and that once they are
# gone a new client is served again.
. "$(dirname "$0")/lib.sh"

TARGET_PORT=$(free_port)
start_echo "127.0.0.1:$TARGET_PORT" "$WORK/accepts.log"
tunnel echo "127.0.0.1:$TARGET_PORT" "max_connections = 4"

spawn "$WORK/live.out" netkit echo-check "$INLET" --count 4 --size 262144 \
	--pace 4 --timeout 30
live=$LAST_PID
wait_until 10 eval '[ "$(wc -l <"$WORK/accepts.log")" -ge 4 ]' ||
	die "the 4 live connections did not reach the target"

r=$(netkit probe "$INLET" --send-hex 50494e470d0a --timeout 5)
say "fifth client: $r"
case $(field "$r" end) in
connect-error|eof|reset) ;;
*) die "the fifth client was not refused: $r" ;;
esac
[ "$(field "$r" bytes)" = 0 ] || die "the fifth client received data: $r"
wait_until 5 eval 'log_has "$WORK/in.log" event=refuse reason=max-connections ||
	log_has "$WORK/out.log" event=refuse reason=max-connections' ||
	die "no event=refuse reason=max-connections"
[ "$(wc -l <"$WORK/accepts.log")" = 4 ] || die "the fifth client reached the target"

wait_exit "$live" 30 || die "the live connections did not finish"
[ "$EXIT_CODE" = 0 ] || die "live connections broke: $(cat "$WORK/live.out")"
say "live: $(cat "$WORK/live.out")"

# Below the cap again: served.
wait_until 5 eval '[ "$(log_count "$WORK/in.log" event=close role=inlet)" -ge 4 ]' ||
	die "the inlet did not close the 4 connections"
res=$(netkit echo-check "$INLET" --count 1 --size 65536 --timeout 10) ||
	die "a client after the cap was released: $res"
say "ok"
