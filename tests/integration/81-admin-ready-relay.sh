#!/bin/sh
# Readiness through a relay (loopback, no namespaces): an outlet node that
# registers "echo" at a relay hub, and an inlet node that reaches it via
# the hub, both with admin = .  Asserts /readyz is 200 on both once the
# outlet is registered and the inlet has its session, turns 503 naming
# the missing piece ("outlet echo: not registered at its relay", "inlet
# echo: no relay session") while the hub is down, and 200 again after it
# comes back; the hub's relay gauges show the registrant.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=relaylib.sh
. "$top_srcdir/tests/integration/relaylib.sh"
need curl

ECHO_PORT=$(free_port)
start_echo "127.0.0.1:$ECHO_PORT"
HUB_PORT=$(free_port)
HUB_ADMIN=$(free_port)
OUT_ADMIN=$(free_port)
IN_ADMIN=$(free_port)
id_app=$(make_identity app)
id_db=$(make_identity db)
id_hub=$(make_identity hub)
HUB="hub@127.0.0.1:$HUB_PORT"
{
	ini_node "$WORK/hub.key" "127.0.0.1:$HUB_PORT" "keepalive = 1" \
		"admin = 127.0.0.1:$HUB_ADMIN"
	ini_peers db "$id_db" app "$id_app"
	ini_relay echo register=db allow=app
} >"$WORK/hub.ini"
{
	ini_node "$WORK/db.key" "" "keepalive = 1" "admin = 127.0.0.1:$OUT_ADMIN"
	ini_peers hub "$id_hub" app "$id_app"
	ini_outlet_relay echo "127.0.0.1:$ECHO_PORT" "$HUB" app
} >"$WORK/db.ini"
{
	ini_node "$WORK/app.key" "" "keepalive = 1" "admin = 127.0.0.1:$IN_ADMIN"
	ini_peers hub "$id_hub" db "$id_db"
	ini_inlet_via echo "127.0.0.1:$(free_port)" db "$HUB"
} >"$WORK/app.ini"
relay_supported "$WORK/hub.ini"

# ready_is(port, code): /readyz of the admin at ${port} answers ${code}.
ready_is()
{
	[ "$(curl -s -o "$WORK/ready.body" -w '%{http_code}' -m 2 \
	    "http://127.0.0.1:$1/readyz")" = "$2" ]
}

start_node hub "$WORK/hub.ini"
start_node db "$WORK/db.ini"
start_node app "$WORK/app.ini"
wait_until 10 ready_is "$OUT_ADMIN" 200 || die "outlet never ready"
wait_until 10 ready_is "$IN_ADMIN" 200 || die "inlet never ready"
curl -fsS "http://127.0.0.1:$HUB_ADMIN/metrics" >"$WORK/hub.metrics"
grep -q '^sallyport_relay_registrants{service="echo"} 1$' "$WORK/hub.metrics" ||
	die "the hub does not count the registrant"
grep -q '^sallyport_relay_sessions{kind="client"} 1$' "$WORK/hub.metrics" ||
	die "the hub does not count the client session"

# The hub goes away: both nodes say what they miss.
stop_pid "$PID_hub"
forget_pid "$PID_hub"
wait_until 10 ready_is "$OUT_ADMIN" 503 || die "outlet still ready"
grep -q '^outlet echo: not registered at its relay$' "$WORK/ready.body" ||
	die "outlet /readyz body: $(cat "$WORK/ready.body")"
"$SALLYPORT" probe "http://127.0.0.1:$OUT_ADMIN/readyz" 2>/dev/null &&
	die "probe says ready while the relay is down"
wait_until 10 ready_is "$IN_ADMIN" 503 || die "inlet still ready"
grep -q '^inlet echo: no relay session$' "$WORK/ready.body" ||
	die "inlet /readyz body: $(cat "$WORK/ready.body")"
[ "$(curl -fsS "http://127.0.0.1:$OUT_ADMIN/healthz")" = ok ] ||
	die "healthz is not ok while not ready"

# Back: ready again on their own.
start_node hub "$WORK/hub.ini"
wait_until 15 ready_is "$OUT_ADMIN" 200 || die "outlet not ready again"
wait_until 15 ready_is "$IN_ADMIN" 200 || die "inlet not ready again"
say "ok"
