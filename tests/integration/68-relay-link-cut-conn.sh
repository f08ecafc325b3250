#!/bin/sh
# An idle tunneled connection (inlet -> relay -> outlet) whose server host is
# cut off the network (every non-loopback packet dropped) is closed for its
# client within 3 x keepalive (keepalive = 2 s everywhere): a cut path must
# not leave clients hanging until an idle timeout.
. "$top_srcdir/tests/integration/relaylib.sh"

KEEPALIVE=2
relay3_net
relay3_configs "keepalive = $KEEPALIVE"
start_echo_in server "$TARGET_PORT"
relay3_start
wait_tunnel 10

# An idle tunneled connection: one echoed request, then nothing.
opens=$(log_count "$WORK/db.log" event=open role=outlet)
ns_spawn client "$WORK/held.out" python3 "$NETKIT" probe "$INLET" \
    --send-hex 68656c6c6f0a --timeout 30
HELD=$LAST_PID
wait_until 5 eval "[ \$(log_count '$WORK/db.log' event=open role=outlet) -gt $opens ]" ||
	die "the held connection did not reach the outlet"
limit=$((KEEPALIVE * 3))
t_cut=$(now_ms)
ns_cut server
wait_exit "$HELD" "$limit" ||
	die "the idle tunneled connection was still open $limit s after the cut"
r=$(cat "$WORK/held.out")
say "idle tunneled connection: $r ($(($(now_ms) - t_cut)) ms after the cut)"
case $(field "$r" end) in
eof|reset|error) ;;
*) die "the held connection was not closed: $r" ;;
esac
say "ok"
