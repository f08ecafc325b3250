#!/bin/sh
# Four hosts: client -> edge relay -> hub relay -> server.  The server drops
# every inbound SYN and runs PostgreSQL; its outlet registers at the hub; the
# client's inlet goes through the edge, which forwards the name to the hub
# (`via`) under its own identity.  psql and a short pgbench run end to end,
# and each relay authorizes its own hop.
. "$top_srcdir/tests/integration/relaylib.sh"

pg_require
relay4_net
assert_no_direct_path
pg_start server "$TARGET_PORT"

APP_ID=$(make_identity app)
EDGE_ID=$(make_identity edge)
HUB_ID=$(make_identity hub)
DB_ID=$(make_identity db)
{
	ini_node "$WORK/edge.key" "0.0.0.0:$RELAY_PORT"
	ini_peers app "$APP_ID" hub "$HUB_ID"
	ini_relay postgres allow=app "via=hub@$HUB_IP_E:$RELAY_PORT"
} >"$WORK/edge.ini"
{
	ini_node "$WORK/hub.key" "0.0.0.0:$RELAY_PORT"
	ini_peers db "$DB_ID" edge "$EDGE_ID"
	ini_relay postgres register=db allow=edge
} >"$WORK/hub.ini"
{
	ini_node "$WORK/db.key" ""
	ini_peers hub "$HUB_ID" app "$APP_ID"
	ini_outlet_relay postgres "127.0.0.1:$TARGET_PORT" \
	    "hub@$HUB_IP_S:$RELAY_PORT" app
} >"$WORK/db.ini"
{
	ini_node "$WORK/app.key" ""
	ini_peers edge "$EDGE_ID" db "$DB_ID"
	ini_inlet_via postgres "$INLET" db "edge@$EDGE_IP:$RELAY_PORT"
} >"$WORK/app.ini"
ns_start_node hub hub "$WORK/hub.ini"
ns_start_node edge edge "$WORK/edge.ini"
ns_start_node server db "$WORK/db.ini"
ns_start_node client app "$WORK/app.ini"

export PGSSLMODE=disable PGCONNECT_TIMEOUT=5
wait_until 15 ns_exec client pg_isready -q -t 2 -h 127.0.0.1 -p "$INLET_PORT" ||
	die "PostgreSQL not reachable through two relays within 15 s"
out=$(ns_exec client timeout "$(slow_s 10)" psql -h 127.0.0.1 \
    -p "$INLET_PORT" -U postgres -X -At \
    -c 'select 1') || die "psql through two relays failed"
say "psql: select 1 -> $out"
[ "$out" = 1 ] || die "select 1 returned '$out'"

pgbench_run "through two relays"

# Each relay authorized its own hop: the edge let the app in, the hub let
# the edge in (it never authorizes the app itself: it does not know it).
log_has "$WORK/edge.log" event=audit decision=allow role=relay \
    "peer=$APP_ID" service=postgres ||
	die "the edge relay has no allow audit for the app"
log_has "$WORK/hub.log" event=audit decision=allow role=relay \
    "peer=$EDGE_ID" service=postgres ||
	die "the hub relay has no allow audit for the edge relay"
log_has "$WORK/db.log" event=open role=outlet "peer=$APP_ID" service=postgres ||
	die "the outlet did not carry a connection from the app end to end"
assert_no_direct_path
say "ok: $tx pgbench transactions through two relays"
