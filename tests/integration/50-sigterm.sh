#!/bin/sh
# SIGTERM with a live connection (shutdown_grace = 60): a client is in the
# middle of a 2 MiB echo paced over ~3 s when both nodes get SIGTERM.
# Asserts: each node logs event=shutdown live=1, stops accepting (a new
# client is refused or closed with no data), the live connection completes
# intact, and
# both nodes then exit with code 0 well within the grace period (in under
# half of it: a wide margin for a loaded machine and ASan, and still far
# from a node that waits its grace out).  Then, with
# shutdown_grace = 2 and an idle connection that never ends, the node exits
# 0 after about 2 s.
. "$(dirname "$0")/lib.sh"

TARGET_PORT=$(free_port)
start_echo "127.0.0.1:$TARGET_PORT" "$WORK/accepts.log"
tunnel echo "127.0.0.1:$TARGET_PORT" "shutdown_grace = 60"

spawn "$WORK/live.out" netkit echo-check "$INLET" --count 1 --size 2097152 \
	--pace 3 --timeout 20
live=$LAST_PID
wait_until 10 test -s "$WORK/accepts.log" || die "the live connection did not reach the target"
wait_for_event "$WORK/out.log" 5 event=open role=outlet

t0=$(date +%s)
kill -TERM "$PID_in" "$PID_out"
wait_for_event "$WORK/in.log" 5 event=shutdown live=1
wait_for_event "$WORK/out.log" 5 event=shutdown live=1
# A new client is refused or closed at once, never served nor left hanging.
r=$(netkit probe "$INLET" --send-hex 00 --timeout "$(slow_s 3)")
case $(field "$r" end) in
connect-error) ;;
eof|reset) [ "$(field "$r" bytes)" = 0 ] || die "new client got data after SIGTERM: $r" ;;
*) die "a new connection was left hanging after SIGTERM: $r" ;;
esac

wait_exit "$live" 20 || die "the live connection did not finish"
[ "$EXIT_CODE" = 0 ] || die "the live connection broke: $(cat "$WORK/live.out")"
say "live connection: $(cat "$WORK/live.out")"
for n in in out; do
	eval "pid=\$PID_$n"
	wait_exit "$pid" 10 || die "node $n did not exit after its connection ended"
	[ "$EXIT_CODE" = 0 ] || die "node $n exited with $EXIT_CODE"
done
secs=$(($(date +%s) - t0))
[ "$secs" -lt 30 ] || die "the nodes took ${secs}s to exit; the connection ended sooner"
log_has "$WORK/out.log" event=close role=outlet || die "no close event on the outlet"

# The grace period is bounded: an idle connection that never ends.
{
	ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT" "shutdown_grace = 2"
	ini_peers client "$IN_ID"
	ini_outlet echo "127.0.0.1:$TARGET_PORT" client
} >"$WORK/out2.ini"
{
	ini_node "$WORK/in.key" "" "shutdown_grace = 2"
	ini_peers server "$OUT_ID"
	ini_inlet echo "$INLET" "server@127.0.0.1:$NODE_PORT"
} >"$WORK/in2.ini"
start_node out2 "$WORK/out2.ini"
start_node in2 "$WORK/in2.ini"
spawn "$WORK/idle.out" netkit hold "$INLET" --count 1 --echo --hold 60 \
	--ready "$WORK/idle.ready"
wait_for_file "$WORK/idle.ready" 10
[ "$(field "$(cat "$WORK/idle.ready")" held)" = 1 ] || die "idle connection: $(cat "$WORK/idle.ready")"
t0=$(date +%s)
kill -TERM "$PID_in2"
wait_exit "$PID_in2" 8 || die "the inlet node outlived its 2 s grace period"
[ "$EXIT_CODE" = 0 ] || die "the inlet node exited with $EXIT_CODE after the grace period"
secs=$(($(date +%s) - t0))
[ "$secs" -ge 1 ] || die "the inlet node exited after ${secs}s, before its grace period"
say "idle connection: inlet node exited 0 after ${secs}s (grace 2 s)"
say "ok"
