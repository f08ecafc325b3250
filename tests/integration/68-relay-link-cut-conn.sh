#!/bin/sh
# A tunneled connection through a relay survives a cut of the client's link
# the way plain TCP does (issue 14, part 4; docs/relay.md, "Outages").
# keepalive = 2 s everywhere; the client host (inlet) is cut off the
# network (every non-loopback packet dropped) for 15 s:
#   - the inlet's relay session dies (session-close reason=keepalive-timeout
#     on the inlet and on the relay), but the idle connection is not closed:
#     no close line for it anywhere during the cut;
#   - once the link is back the inlet makes a new session by itself and the
#     same connection answers (a second echo on it).
. "$top_srcdir/tests/integration/relaylib.sh"

KEEPALIVE=2
CUT=15
relay3_net
relay3_configs "keepalive = $KEEPALIVE"
start_echo_in server "$TARGET_PORT"
relay3_start
wait_tunnel 10

# A long-lived connection: one echo, then idle until $WORK/go exists.
opens=$(log_count "$WORK/db.log" event=open role=outlet)
held_start $((CUT + 30))
wait_until 5 eval "[ \$(log_count '$WORK/db.log' event=open role=outlet) -gt $opens ]" ||
	die "the held connection did not reach the outlet"
closes() { cat "$WORK/app.log" "$WORK/hub.log" "$WORK/db.log" |
	grep -c 'event=close ' || true; }
closes0=$(closes)
app_before=$(lines_in "$WORK/app.log")
hub_before=$(lines_in "$WORK/hub.log")

# session_dead(log, skip, key=value...): a session-close with these fields
# after the first ${skip} lines of ${log}.
session_dead()
{
	tail -n "+$(($2 + 1))" "$1" >"$1.tail"
	_f=$1
	shift 2
	log_has "$_f.tail" event=session-close "$@"
}

t_cut=$(now_ms)
ns_cut client
limit=$((KEEPALIVE * 3))
wait_until "$limit" session_dead "$WORK/app.log" "$app_before" role=inlet \
    reason=keepalive-timeout ||
	die "the inlet did not log its relay session dead within $(slow_s "$limit") s"
wait_until "$limit" session_dead "$WORK/hub.log" "$hub_before" role=relay \
    kind=client reason=keepalive-timeout ||
	die "the relay did not log the inlet's session dead within $(slow_s "$limit") s"
say "sessions dead after $(($(now_ms) - t_cut)) ms"
# The length of the cut is the scenario, not a synchronisation.
rest=$((CUT * 1000 - ($(now_ms) - t_cut)))
[ "$rest" -le 0 ] || sleep "$((rest / 1000)).$(printf %03d $((rest % 1000)))"
proc_alive "$HELD" || die "the client ended during the cut: $(cat "$WORK/held.out")"
[ "$(closes)" -eq "$closes0" ] ||
	die "a connection was closed during the cut: $(grep -h 'event=close ' "$WORK"/*.log | tail -n 3)"
ns_uncut client
say "link back after $(($(now_ms) - t_cut)) ms"

# The inlet gets a new session (backoff at most 5 s) and the held
# connection answers.
session_open()
{
	tail -n "+$(($app_before + 1))" "$WORK/app.log" >"$WORK/app.log.tail"
	log_has "$WORK/app.log.tail" event=session-open role=inlet
}
wait_until 15 session_open ||
	die "the inlet did not open a new relay session after the cut"
held_finish
wait_tunnel 10
say "ok: an idle connection through the relay survived a ${CUT} s cut"
