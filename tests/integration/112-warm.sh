#!/bin/sh
# Warm channels (issue 23, section 3): an inlet with warm = 2 keeps two
# channels to its outlet made ahead of any client, and a real redis, the
# target, counts the connections it accepts.
# - The pool fills: sallyport_warm_channels{role="inlet"} is 2 at the
#   inlet, {role="outlet"} 2 at the outlet (channels waiting for their
#   request), and redis has seen no connection but our own INFO; 30 s
#   later both are replaced (warm-expired: no drop, no failure) and
#   redis still saw none.
# - Five clients, one after the other (each once the pool is full again),
#   each take a warm channel (sallyport_warm_taken_total 5, a warm-taken
#   line each) and get PONG; redis counts exactly five more accepts than
#   our INFO calls: a target never sees a connection no client made.
# - A reload of the outlet that takes the inlet node off its allow list
#   closes the warm channels waiting there (audit deny reason=revoked,
#   the outlet's gauge 0); the inlet's refills are refused and back off
#   (no storm: a bounded number of attempts), and a client is refused.
# - A reload of the inlet node with warm = 0 closes its warm channels.
# - Per-peer bound at the outlet: one inlet node with five inlets of
#   warm = 16 (80 channels) gets 64 (CONN_WARM_PER_PEER) held as warm
#   there; the others wait as handshakes do.
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli curl

start_redis
rcli()
{
	redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}
# Accepted connections redis counts (this INFO's own among them).
accepts()
{
	rcli INFO stats | tr -d '\r' |
		sed -n 's/^total_connections_received://p'
}

OUT_ID=$(make_identity out)
APP_ID=$(make_identity app)
NODE_PORT=$(free_port)
OUT_ADMIN=$(free_port)
APP_ADMIN=$(free_port)
write_out()
{
	{
		ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT" \
		    "admin = 127.0.0.1:$OUT_ADMIN" "log_level = debug"
		ini_peers app "$APP_ID" other "$OUT_ID"
		ini_outlet redis "127.0.0.1:$REDIS_PORT" "$@"
	} | write_ini "$WORK/out.ini"
}
APP_PORT=$(free_port)
write_app()
{
	{
		ini_node "$WORK/app.key" "" "admin = 127.0.0.1:$APP_ADMIN" \
		    "log_level = debug"
		ini_peers server "$OUT_ID"
		ini_inlet redis "127.0.0.1:$APP_PORT" \
		    "server@127.0.0.1:$NODE_PORT"
		echo "warm = $1"
		shift
		for _n in "$@"; do
			ini_inlet "$_n" "127.0.0.1:$(free_port)" \
			    "server@127.0.0.1:$NODE_PORT" redis
			echo "warm = 16"
		done
	} | write_ini "$WORK/app.ini"
}
write_out app
write_app 2
start_node out "$WORK/out.ini"
start_node app "$WORK/app.ini"

in_warm()
{
	metric "$APP_ADMIN" 'sallyport_warm_channels{role="inlet"}'
}
out_warm()
{
	metric "$OUT_ADMIN" 'sallyport_warm_channels{role="outlet"}'
}
warm_is()
{
	[ "$(in_warm)" = "$1" ] && [ "$(out_warm)" = "$1" ]
}
wait_until 10 warm_is 2 ||
	die "the pool did not fill: inlet $(in_warm), outlet $(out_warm)"
say "pool full: inlet $(in_warm), outlet $(out_warm) warm channels"
before=$(accepts)
[ "$before" = 1 ] || die "redis saw $before connections before any client"

# No client for 30 s (CONN_WARM_IDLE / 2): the inlet replaces both
# channels (warm-expired, no drop line, no failure) and redis still sees
# nothing.
ready0=$(log_count "$WORK/app.log" event=warm-ready)
replaced()
{
	[ "$(log_count "$WORK/app.log" event=warm-ready)" -ge $((ready0 + 2)) ]
}
wait_until 90 replaced || die "the warm channels were not replaced"
wait_until 10 warm_is 2 || die "the pool did not refill after the expiry"
log_has "$WORK/app.log" event=drop role=inlet &&
	die "an expired warm channel logged a drop"
[ "$(metric "$APP_ADMIN" \
    'sallyport_handshake_failures_total{role="inlet",reason="warm-expired"}')" = 0 ] ||
	die "an expired warm channel counted as a handshake failure"
before=$(accepts)
[ "$before" = 2 ] || die "redis saw $before connections, not our 2 INFOs"
say "warm channels replaced after their 30 s, no target connection"

i=0
while [ $i -lt 5 ]; do
	wait_until 10 warm_is 2 || die "the pool did not refill ($i)"
	out=$(redis-cli -h 127.0.0.1 -p "$APP_PORT" PING 2>&1 || true)
	[ "$out" = PONG ] || die "client $i: $out"
	i=$((i + 1))
done
taken=$(metric "$APP_ADMIN" 'sallyport_warm_taken_total{name="redis"}')
[ "$taken" = 5 ] || die "warm channels taken: $taken, not 5"
[ "$(log_count "$WORK/app.log" event=warm-taken role=inlet)" = 5 ] ||
	die "not five warm-taken lines"
wait_until 10 eval '[ "$(log_count "$WORK/out.log" event=close \
    role=outlet service=redis)" = 5 ]' || die "not five closes at the outlet"
after=$(accepts)
[ "$after" = $((before + 1 + 5)) ] ||
	die "redis accepted $after connections, expected $((before + 6))"
say "5 clients took warm channels; redis accepted exactly 5 for them"

# The outlet revokes the inlet node: its warm channels there close.
attempts0=$(log_count "$WORK/app.log" event=drop role=inlet)
write_out other
reload_node out
wait_for_event "$WORK/out.log" 5 event=audit decision=deny reason=revoked \
    "peer=$APP_ID" role=outlet
wait_until 10 warm_is 0 ||
	die "warm channels left: inlet $(in_warm), outlet $(out_warm)"
out=$(redis-cli -h 127.0.0.1 -p "$APP_PORT" PING 2>&1 || true)
[ "$out" = PONG ] && die "a client got through after the revocation"
# Refills are refused at the outlet and back off: a second's worth of
# backoff (0.1 s doubling) allows a handful of attempts, never a storm.
sleep 2
attempts=$(( $(log_count "$WORK/app.log" event=drop role=inlet) - attempts0 ))
say "inlet drops in the 2+ s after the revocation: $attempts"
[ "$attempts" -le 20 ] || die "$attempts attempts: a reconnect storm"
[ "$(accepts)" = $((after + 1)) ] || die "redis saw a connection"

# Allowed again: the pool refills; then the inlet's reload to warm = 0
# closes its channels.
write_out app
reload_node out
wait_until 60 warm_is 2 || die "no refill after the allow came back"
write_app 0
reload_node app
wait_until 10 warm_is 0 ||
	die "warm = 0 left: inlet $(in_warm), outlet $(out_warm)"
[ "$(redis-cli -h 127.0.0.1 -p "$APP_PORT" PING)" = PONG ] ||
	die "no PONG with warm = 0"

# Per-peer bound: 80 warm channels from one node, 64 held as warm.
write_app 0 w1 w2 w3 w4 w5
reload_node app
wait_until 20 eval '[ "$(out_warm)" = 64 ]' ||
	die "the outlet holds $(out_warm) warm channels of one peer, not 64"
sleep 1
[ "$(out_warm)" = 64 ] || die "the outlet went over its bound: $(out_warm)"
say "ok: warm channels filled, taken, revoked, closed; per-peer bound 64"
