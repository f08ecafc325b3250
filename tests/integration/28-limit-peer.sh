#!/bin/sh
# Limits per peer and per service at the outlet (issue 22, section 3;
# docs/config.md "Limits per peer"), with redis behind two outlets:
#   [outlet capped]  max_connections_per_peer = 3
#   [outlet rated]   new_connections_per_second = 1, new_connections_burst = 2
# reached by two inlet nodes a and b (two identities).
# Asserts:
#   - a holds 3 live connections (redis-cli BLPOP, blocked); its 4th is
#     refused: REFUSE limit, the inlet logs deny reason=remote-limit, the
#     outlet audits deny reason=limit limit=peer-connections and counts it
#     in sallyport_refused_total{reason="peer-connections"}; nothing
#     reached redis for it;
#   - b is served meanwhile (PING), and the 3 held connections of a are
#     undisturbed: each gets its BLPOP answer when b pushes;
#   - once one of a's ends, a new one of a is served;
#   - rate: a makes 20 connections one after the other to "rated"; at most
#     burst + rate x elapsed + 1 are served (a wide bound, no wall-clock
#     budget), at least one is refused (reason=remote-limit); b, right
#     after, gets its own burst of 2 served;
#   - a reload that lowers the cap below what is open logs
#     event=limit-below-open and cuts nothing.
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli curl

start_redis

ADMIN_PORT=$(free_port)
peers_ab "admin = 127.0.0.1:$ADMIN_PORT"
mv "$WORK/out.ini" "$WORK/out.head"
# write_out(cap): out.ini with max_connections_per_peer = ${cap} on capped.
write_out()
{
	{
		cat "$WORK/out.head"
		ini_outlet capped "127.0.0.1:$REDIS_PORT" a b
		echo "max_connections_per_peer = $1"
		echo
		ini_outlet rated "127.0.0.1:$REDIS_PORT" a b
		echo "new_connections_per_second = 1"
		echo "new_connections_burst = 2"
	} | write_ini "$WORK/out.ini"
}
write_out 3
inlet_node a capped rated
inlet_node b capped rated
start_node out "$WORK/out.ini"
start_node a "$WORK/a.ini"
start_node b "$WORK/b.ini"

cli()
{
	timeout "$(slow_s 20)" redis-cli -h 127.0.0.1 -p "$@"
}

# --- the cap of live connections ---
for i in 1 2 3; do
	spawn "$WORK/held$i.out" timeout "$(slow_s 120)" redis-cli \
	    -h 127.0.0.1 -p "$P_a_capped" BLPOP "list$i" 0
	eval "HELD$i=\$LAST_PID"
done
wait_until 20 eval '[ "$(log_count "$WORK/out.log" event=open role=outlet \
    name=capped)" -ge 3 ]' || die "a's 3 connections did not open"

clients0=$(redis-cli -p "$REDIS_PORT" INFO clients |
    sed -n 's/^connected_clients:\([0-9]*\).*/\1/p')
r=$(cli "$P_a_capped" PING 2>&1) && die "a's 4th connection was served: $r"
say "a's 4th connection: $r"
wait_for_event "$WORK/a.log" 10 event=audit decision=deny \
    reason=remote-limit role=inlet service=capped
wait_for_event "$WORK/out.log" 10 event=audit decision=deny reason=limit \
    limit=peer-connections "peer=$A_ID" service=capped live=3 max=3
clients1=$(redis-cli -p "$REDIS_PORT" INFO clients |
    sed -n 's/^connected_clients:\([0-9]*\).*/\1/p')
[ "$clients1" = "$clients0" ] ||
	die "redis saw the refused connection: clients $clients0 -> $clients1"
[ "$(cli "$P_b_capped" PING)" = PONG ] || die "b was not served while a is capped"
metrics=$(curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics") ||
	die "no metrics"
# redis-cli may try a refused connection twice: 1 or more.
n=$(printf '%s\n' "$metrics" | sed -n \
    's/^sallyport_refused_total{role="outlet",reason="peer-connections"} //p')
[ "${n:-0}" -ge 1 ] ||
	die "refusal not counted: $(printf '%s\n' "$metrics" | grep refused)"

# A reload that lowers the cap to 1 cuts nothing, and says so.
write_out 1
reload_node out
wait_for_event "$WORK/out.log" 10 event=limit-below-open role=outlet \
    name=capped "peer=$A_ID" live=3 max_connections_per_peer=1

# The held ones are intact: each gets its answer.
for i in 1 2 3; do
	[ "$(cli "$P_b_capped" RPUSH "list$i" "v$i")" = 1 ] || die "RPUSH list$i"
	eval "wait_exit \$HELD$i 20" || die "held connection $i did not end"
	[ "$EXIT_CODE" = 0 ] || die "held connection $i broke: $EXIT_CODE"
	grep -q "^v$i\$" "$WORK/held$i.out" ||
		die "held connection $i: $(cat "$WORK/held$i.out")"
done
say "3 held connections of a answered after the refusals"
# All ended: a is served again (cap 1 now).
wait_until 10 eval '[ "$(cli "$P_a_capped" PING 2>/dev/null)" = PONG ]' ||
	die "a was not served once its connections ended"

# --- the rate of new connections ---
t0=$(now_ms)
ok=0
refused=0
for i in $(seq 20); do
	if [ "$(cli "$P_a_rated" PING 2>/dev/null)" = PONG ]; then
		ok=$((ok + 1))
	else
		refused=$((refused + 1))
	fi
done
t1=$(now_ms)
# burst 2 + 1 per second + 1 for the edges, with 1 s more of slack.
bound=$(( 2 + (t1 - t0) / 1000 + 2 ))
say "rate: a made 20 connections in $((t1 - t0)) ms: ok=$ok refused=$refused (bound $bound)"
[ "$ok" -le "$bound" ] || die "a was served $ok times, more than $bound"
[ "$refused" -ge 1 ] || die "a was never refused over its rate"
[ "$ok" -ge 2 ] || die "a did not get its burst of 2"
for i in 1 2; do
	[ "$(cli "$P_b_rated" PING)" = PONG ] ||
		die "b's connection $i was refused: its rate is its own"
done
wait_for_event "$WORK/out.log" 10 event=audit decision=deny reason=limit \
    limit=peer-rate "peer=$A_ID" service=rated
log_has "$WORK/out.log" event=audit decision=deny "peer=$B_ID" &&
	die "b was refused"
proc_alive "$PID_out" || die "the outlet died"
say "ok"
