#!/bin/sh
# The connection cap (max_connections = 4 on both nodes): with 4 live
# connections (echoes paced over ~4 s), a fifth local client is not
# accepted and dropped (issue 14): it waits in the inlet's listen backlog
# (event=backlog reason=max-connections; nothing reaches the target while
# the 4 are live) and is served once they are gone.
# Asserts the 4 live connections complete intact, the fifth reaches the
# target only after them and completes intact, and no node refused.
. "$(dirname "$0")/lib.sh"

TARGET_PORT=$(free_port)
start_echo "127.0.0.1:$TARGET_PORT" "$WORK/accepts.log"
tunnel echo "127.0.0.1:$TARGET_PORT" "max_connections = 4"

spawn "$WORK/live.out" netkit echo-check "$INLET" --count 4 --size 262144 \
	--pace 4 --timeout 30
live=$LAST_PID
wait_until 10 eval '[ "$(wc -l <"$WORK/accepts.log")" -ge 4 ]' ||
	die "the 4 live connections did not reach the target"

spawn "$WORK/fifth.out" netkit echo-check "$INLET" --count 1 --size 65536 \
	--seed 5 --timeout 30
fifth=$LAST_PID
wait_for_event "$WORK/in.log" 5 event=backlog role=inlet \
	reason=max-connections
proc_alive "$live" || die "the live connections ended too early for the test"
[ "$(wc -l <"$WORK/accepts.log")" = 4 ] ||
	die "the fifth client reached the target while 4 were live"

wait_exit "$live" 30 || die "the live connections did not finish"
[ "$EXIT_CODE" = 0 ] || die "live connections broke: $(cat "$WORK/live.out")"
say "live: $(cat "$WORK/live.out")"
wait_exit "$fifth" 30 || die "the fifth client was not served"
[ "$EXIT_CODE" = 0 ] || die "the fifth client broke: $(cat "$WORK/fifth.out")"
say "fifth: $(cat "$WORK/fifth.out")"
[ "$(wc -l <"$WORK/accepts.log")" = 5 ] || die "the target did not see 5"
for n in in out; do
	log_has "$WORK/$n.log" event=refuse && die "$n refused a client"
done
say "ok"
