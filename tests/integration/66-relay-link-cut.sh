#!/bin/sh
# Cut the server host off the network (every non-loopback packet dropped:
# no FIN, no RST, no ICMP) with keepalive = 2 s everywhere.
#   - the relay logs the outlet's session dead (event=session-close
#     reason=keepalive-timeout, docs/logging.md) within 3 x keepalive (the
#     waits stretched by $SLOW on a loaded machine: still far below the
#     minutes TCP would take);
#   - so does the outlet, for its session to the relay;
#   - after the link comes back, the outlet registers again by itself and
#     the tunnel works (10 s).
# (An idle tunneled connection over the cut link: 68-relay-link-cut-conn.sh.)
. "$top_srcdir/tests/integration/relaylib.sh"

KEEPALIVE=2
relay3_net
relay3_configs "keepalive = $KEEPALIVE"
start_echo_in server "$TARGET_PORT"
relay3_start
wait_tunnel 10

# session_dead(log, skip, key=value...): a line after the first ${skip}
# lines of ${log} is a session-close with every given field.
session_dead()
{
	_sf=$1
	_ss=$2
	shift 2
	tail -n "+$((_ss + 1))" "$_sf" >"$_sf.tail"
	log_has "$_sf.tail" event=session-close "$@"
}

# Not a synchronisation: the path stays idle for one keepalive period, so
# the cut lands on quiet sessions.
say "idle for $KEEPALIVE s, then cutting the server host off"
sleep "$KEEPALIVE"

limit=$((KEEPALIVE * 3))
hub_before=$(lines_in "$WORK/hub.log")
db_before=$(lines_in "$WORK/db.log")
regs=$(log_count "$WORK/hub.log" event=audit decision=allow reason=registered \
    "peer=$DB_ID" service=postgres)
t_cut=$(now_ms)
ns_cut server

wait_until "$limit" session_dead "$WORK/hub.log" "$hub_before" role=relay \
    kind=register "peer=$DB_ID" service=postgres reason=keepalive-timeout ||
	die "the relay did not log the outlet's session dead (keepalive-timeout) within $(slow_s "$limit") s"
say "relay noticed after $(($(now_ms) - t_cut)) ms:" \
    "$(grep 'event=session-close' "$WORK/hub.log.tail" | head -n 1)"
wait_until "$limit" session_dead "$WORK/db.log" "$db_before" role=outlet \
    kind=register "peer=$HUB_ID" service=postgres reason=keepalive-timeout ||
	die "the outlet did not log its relay session dead (keepalive-timeout) within $(slow_s "$limit") s"
say "outlet noticed after $(($(now_ms) - t_cut)) ms:" \
    "$(grep 'event=session-close' "$WORK/db.log.tail" | head -n 1)"

ns_uncut server
wait_tunnel 10
regs2=$(log_count "$WORK/hub.log" event=audit decision=allow reason=registered \
    "peer=$DB_ID" service=postgres)
[ "$regs2" -gt "$regs" ] || die "no new registration after the link came back"
say "ok: the outlet registered again after the link came back"
