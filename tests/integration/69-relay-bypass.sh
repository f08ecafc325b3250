#!/bin/sh
# Issue 12 part 1: a node allowed one service at the relay must not reach
# another service of the same outlet by naming one in its preamble and the
# other in its end-to-end request.  A malicious client (tests/helpers/
# evilnode: the pure protocol core driven by hand, not a patched daemon)
# holds app's key; the relay allows app to "pub" only and bob to "secret"
# only, while the outlet node db registers both and lets app and bob into
# both (so the relay's lists are all that stands between app and secret,
# as in the issue's reproduction).  "secret" is redis holding a marker
# value, "pub" an echo server.  Hosts:
#
#   client (app, bob, evil) --seg0-- edge --seg1-- hub --seg2-- server (db)
#
# The client reaches hub directly (edge routes) and through the chain edge
# -> hub (edge: [relay pub] via = hub).  Each way, app's key tries:
#   (a) preamble pub, bind pub,    request secret -> denied after msg3,
#       outlet: audit deny reason=registration-mismatch service=secret
#   (b) preamble pub, bind secret, request secret -> handshake fails (msg2)
#   (c) preamble pub, no bind,     request secret -> handshake fails (msg2)
#   (d) preamble pub, bind pub,    request @S     -> denied (direct only)
#   (f) preamble secret                           -> relay refuses (direct)
#   (e) preamble pub, bind pub,    request pub    -> echo data (control:
#       the client works, so the refusals above are the daemon's doing)
# and redis (secret) sees no connection from any of them, while bob's
# inlet keeps reading the marker through the relay and app's inlets keep
# echoing.  Against the code before the fix, (c) returned redis' reply.
. "$top_srcdir/tests/integration/relaylib.sh"

need redis-server redis-cli
EVIL="$top_builddir/tests/helpers/evilnode"
[ -x "$EVIL" ] || skip "no $EVIL (make check builds it)"

relay4_net	# client reaches hub too: edge routes

# Targets on the server host: redis (secret) with a marker, echo (pub).
REDIS_PORT=6379
MARKER="the-secret-$$"
MARKER_HEX=$(printf '%s' "$MARKER" | od -An -tx1 -v | tr -d ' \n')
ns_spawn server "$WORK/redis.log" redis-server --port "$REDIS_PORT" \
    --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK"
rcli()
{
	ns_exec server redis-cli -p "$REDIS_PORT" "$@"
}
wait_until 10 eval '[ "$(rcli PING 2>/dev/null)" = PONG ]' ||
	die "redis did not answer within 10 s"
[ "$(rcli SET secret "$MARKER")" = OK ] || die "redis SET failed"
start_echo_in server "$TARGET_PORT" "$WORK/pub-target.log"

# redis_conns: connections redis accepted so far (this query included).
redis_conns()
{
	rcli INFO stats | tr -d '\r' |
		sed -n 's/^total_connections_received:\([0-9]*\)$/\1/p'
}

APP_ID=$(make_identity app)
BOB_ID=$(make_identity bob)
EDGE_ID=$(make_identity edge)
HUB_ID=$(make_identity hub)
DB_ID=$(make_identity db)
{
	ini_node "$WORK/hub.key" "0.0.0.0:$RELAY_PORT"
	ini_peers db "$DB_ID" app "$APP_ID" bob "$BOB_ID" edge "$EDGE_ID"
	ini_relay secret register=db allow=bob
	ini_relay pub register=db allow=app,edge
} >"$WORK/hub.ini"
{
	ini_node "$WORK/edge.key" "0.0.0.0:$RELAY_PORT"
	ini_peers app "$APP_ID" hub "$HUB_ID"
	ini_relay pub allow=app "via=hub@$HUB_IP_E:$RELAY_PORT"
} >"$WORK/edge.ini"
{
	ini_node "$WORK/db.key" ""
	ini_peers hub "$HUB_ID" app "$APP_ID" bob "$BOB_ID"
	ini_outlet_relay secret "127.0.0.1:$REDIS_PORT" \
	    "hub@$HUB_IP_S:$RELAY_PORT" app bob
	ini_outlet_relay pub "127.0.0.1:$TARGET_PORT" \
	    "hub@$HUB_IP_S:$RELAY_PORT" app bob
} >"$WORK/db.ini"
# app: pub directly through hub and through the chain; bob: secret.
P_PUB=15432
P_PUB_CHAIN=15433
P_SECRET=15434
{
	ini_node "$WORK/app.key" ""
	ini_peers hub "$HUB_ID" edge "$EDGE_ID" db "$DB_ID"
	ini_inlet_via pub "127.0.0.1:$P_PUB" db "hub@$HUB_IP_E:$RELAY_PORT"
	ini_inlet_via pubchain "127.0.0.1:$P_PUB_CHAIN" db \
	    "edge@$EDGE_IP:$RELAY_PORT" pub
} >"$WORK/app.ini"
{
	ini_node "$WORK/bob.key" ""
	ini_peers hub "$HUB_ID" db "$DB_ID"
	ini_inlet_via secret "127.0.0.1:$P_SECRET" db \
	    "hub@$HUB_IP_E:$RELAY_PORT"
} >"$WORK/bob.ini"
ns_start_node hub hub "$WORK/hub.ini"
ns_start_node edge edge "$WORK/edge.ini"
ns_start_node server db "$WORK/db.ini"
ns_start_node client app "$WORK/app.ini"
ns_start_node client bob "$WORK/bob.ini"

# bob_reads_secret: bob's inlet returns the marker (the legitimate path).
bob_reads_secret()
{
	[ "$(ns_exec client timeout 5 redis-cli -p "$P_SECRET" GET secret \
	    2>/dev/null)" = "$MARKER" ]
}
wait_until 15 echo_ok client "127.0.0.1:$P_PUB" ||
	die "no echo through hub for app within 15 s"
wait_until 15 echo_ok client "127.0.0.1:$P_PUB_CHAIN" ||
	die "no echo through edge and hub for app within 15 s"
wait_until 15 bob_reads_secret || die "bob cannot read secret within 15 s"

# evil(relay_ip relay_id args...): run the malicious client on the client
# host with app's key; its result line is in $R.
evil()
{
	_ip=$1
	_rid=$2
	shift 2
	R=$(ns_exec client "$EVIL" --relay "$_ip:$RELAY_PORT" \
	    --relay-id "$_rid" --outlet-id "$DB_ID" --key "$WORK/app.key" \
	    --timeout 5 "$@" 2>"$WORK/evil.err") ||
		{ cat "$WORK/evil.err" >&2; die "evilnode failed: $*"; }
	say "evil $*: $R"
	case $R in
	*"$MARKER_HEX"*) die "the malicious client read the secret: $R" ;;
	esac
}

# expect(result [key=value...]): $R is result=${result} with these fields.
expect()
{
	[ "$(field "$R" result)" = "$1" ] || die "expected result=$1, got: $R"
	shift
	for _kv in "$@"; do
		[ "$(field "$R" "${_kv%%=*}")" = "${_kv#*=}" ] ||
			die "expected $_kv, got: $R"
	done
}

# mismatch_count: the outlet's registration-mismatch denials of app.
mismatch_count()
{
	log_count "$WORK/db.log" event=audit decision=deny \
	    reason=registration-mismatch role=outlet "peer=$APP_ID" "$@"
}

# outlet_drops: handshakes the outlet dropped (docs/logging.md).
outlet_drops()
{
	log_count "$WORK/db.log" event=drop role=outlet
}

# attacks(label relay_ip relay_id): cases (a) to (c) and the control (e)
# through the given first relay.
attacks()
{
	_via=$1
	_ip=$2
	_rid=$3
	_r0=$(redis_conns)
	_m0=$(mismatch_count service=secret)

	# (a) the issue's request, with the prologue the relay's name needs.
	evil "$_ip" "$_rid" --preamble pub --bind pub --request secret \
	    --send 'GET secret'
	expect denied bytes=0
	wait_for_event "$WORK/db.log" 10 event=audit decision=deny \
	    reason=registration-mismatch role=outlet "peer=$APP_ID" \
	    service=secret
	[ "$(mismatch_count service=secret)" = $((_m0 + 1)) ] ||
		die "$_via (a): expected one more registration-mismatch"

	# (b) the secret name bound: the pub registration's msg2 fails.
	_d0=$(outlet_drops)
	evil "$_ip" "$_rid" --preamble pub --bind secret --request secret \
	    --send 'GET secret'
	expect handshake-failed error=EHANDSHAKE

	# (c) nothing bound (the pre-fix client): the same.
	evil "$_ip" "$_rid" --preamble pub --no-bind --request secret \
	    --send 'GET secret'
	expect handshake-failed error=EHANDSHAKE
	# The outlet saw both handshakes die after its msg2 (the client
	# hangs up; the line says reason=channel-error).
	wait_until 10 eval '[ "$(outlet_drops)" -ge $((_d0 + 2)) ]' ||
		die "$_via: the outlet logged no drop for (b) and (c)"

	# Nothing reached redis: only our own INFO queries (this one too).
	[ "$(redis_conns)" = $((_r0 + 1)) ] ||
		die "$_via: redis saw a connection during the attacks"
	[ "$(mismatch_count service=secret)" = $((_m0 + 1)) ] ||
		die "$_via: (b) or (c) reached the outlet's request check"

	# (e) control: the same client, honest, gets pub's echo.
	_e0=$(lines_in "$WORK/pub-target.log")
	evil "$_ip" "$_rid" --preamble pub --bind pub --request pub \
	    --send 'PING evil'
	expect data data_hex=50494e47206576696c0a
	[ "$(lines_in "$WORK/pub-target.log")" -gt "$_e0" ] ||
		die "$_via (e): the echo target saw no connection"
}

say "--- directly through hub"
attacks hub "$HUB_IP_E" "$HUB_ID"

# (d) a relay session request on a pooled connection.
m0=$(mismatch_count service=@S)
evil "$HUB_IP_E" "$HUB_ID" --preamble pub --bind pub --request @S
expect denied bytes=0
wait_for_event "$WORK/db.log" 10 event=audit decision=deny \
    reason=registration-mismatch role=outlet "peer=$APP_ID" service=@S
[ "$(mismatch_count service=@S)" = $((m0 + 1)) ] ||
	die "(d): expected one more registration-mismatch for @S"

# (f) the secret name in the preamble: the relay itself refuses.
evil "$HUB_IP_E" "$HUB_ID" --preamble secret --bind secret --request secret
case $(field "$R" result) in
closed|handshake-failed) ;;
*) die "(f): expected the relay to refuse the secret preamble: $R" ;;
esac
wait_for_event "$WORK/hub.log" 10 event=audit decision=deny role=relay \
    reason=not-allowed "peer=$APP_ID" service=secret

say "--- through the chain edge -> hub"
attacks chain "$EDGE_IP" "$EDGE_ID"
log_has "$WORK/edge.log" event=audit decision=allow role=relay \
    "peer=$APP_ID" service=pub ||
	die "the edge relay has no allow audit for app's pub connections"

# The legitimate paths still work, and the relays never let app at secret.
bob_reads_secret || die "bob's inlet no longer reads secret"
echo_ok client "127.0.0.1:$P_PUB" || die "app's direct pub inlet broke"
echo_ok client "127.0.0.1:$P_PUB_CHAIN" || die "app's chained pub inlet broke"
log_has "$WORK/hub.log" event=audit decision=allow "peer=$APP_ID" \
    service=secret && die "the hub allowed app to secret"
log_has "$WORK/db.log" event=open role=outlet "peer=$APP_ID" \
    service=secret && die "the outlet opened secret for app"
log_has "$WORK/db.log" event=open role=outlet "peer=$BOB_ID" \
    service=secret || die "the outlet never carried bob's secret connection"
say "ok: every bypass refused, directly and through two relays"
