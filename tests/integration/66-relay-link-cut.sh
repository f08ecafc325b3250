#!/bin/sh
# Cut the server host off the network (every non-loopback packet dropped:
# no FIN, no RST, no ICMP) with keepalive = 2 s everywhere.
#   - the relay logs the death of the outlet's session within 3 x keepalive;
#   - so does the outlet (its session to the relay);
#   - an idle tunneled connection through that outlet is closed for the
#     client within 3 x keepalive;
#   - after the link comes back, the outlet registers again by itself and
#     the tunnel works (10 s).
. "$top_srcdir/tests/integration/relaylib.sh"

KEEPALIVE=2
relay3_net
relay3_configs "keepalive = $KEEPALIVE"
start_echo_in server "$TARGET_PORT"
relay3_start
wait_tunnel 10

now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# An idle tunneled connection: one echoed request, then nothing.
ns_spawn client "$WORK/held.out" python3 "$NETKIT" probe "$INLET" \
    --send-hex 68656c6c6f0a --timeout 30
HELD=$LAST_PID
wait_until 5 eval "log_has '$WORK/db.log' event=open role=outlet" ||
	die "the held connection did not reach the outlet"
# Not a synchronisation: the path stays idle for one keepalive period, so
# the cut lands on quiet sessions.
say "idle for $KEEPALIVE s, then cutting the server host off"
sleep "$KEEPALIVE"

limit=$((KEEPALIVE * 3))
hub_before=$(grep -c . "$WORK/hub.log")
db_before=$(grep -c . "$WORK/db.log")
t_cut=$(now_ms)
ns_cut server

# session_dead(log, skip, peer): a line after the first ${skip} lines of
# ${log} reports a relay session ended (event=session-close, docs/logging.md)
# with ${peer}.
session_dead()
{
	tail -n "+$(($2 + 1))" "$1" | grep 'event=session-close' |
		grep -q -- "peer=$3"
}
wait_until "$limit" session_dead "$WORK/hub.log" "$hub_before" "$DB_ID" ||
	die "the relay did not log the outlet's session dead within $limit s"
say "relay: $(tail -n "+$((hub_before + 1))" "$WORK/hub.log" |
    grep 'event=session-close' | head -n 1) ($(($(now_ms) - t_cut)) ms)"
wait_until "$limit" session_dead "$WORK/db.log" "$db_before" "$HUB_ID" ||
	die "the outlet did not log its relay session dead within $limit s"
say "outlet: $(tail -n "+$((db_before + 1))" "$WORK/db.log" |
    grep 'event=session-close' | head -n 1) ($(($(now_ms) - t_cut)) ms)"
el=$(($(now_ms) - t_cut))
wait_exit "$HELD" $((limit - el / 1000 > 0 ? limit - el / 1000 : 1)) ||
	die "the idle tunneled connection was not closed within $limit s of the cut"
say "idle tunneled connection: $(cat "$WORK/held.out") ($(($(now_ms) - t_cut)) ms)"

ns_uncut server
wait_tunnel 10
say "ok: the outlet re-registered after the link came back"
