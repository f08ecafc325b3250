# relaylib.sh: the common set-up of the relay integration tests (59 and
# 6x-*.sh), sourced by each of them; it sources lib.sh and netns.sh.  59
# (loopback) uses only its config writers; 35 and 39 (loopback too) use
# relay_loopback.
#
# relay3_net builds three hosts, each a network namespace:
#
#   client (app) --seg0-- relay (hub) --seg1-- server (db)
#
# The relay host also routes IP between the segments, so the client could
# reach the server directly, but the server drops every inbound TCP SYN: the
# only way in is the connection its outlet dials out to the relay.  The
# inlet on the client host (127.0.0.1:$INLET_PORT there) reaches the outlet
# through the relay; the outlet's target is 127.0.0.1:$TARGET_PORT on the
# server host.  Config schema: docs/relay.md; log events: docs/logging.md.

. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/netns.sh"

# Ports inside the namespaces (each test has its own, so fixed ports are
# free).
RELAY_PORT=7400
INLET_PORT=15432
TARGET_PORT=5432
INLET="127.0.0.1:$INLET_PORT"

# relay_loopback(extra...): on loopback, no namespaces: an echo target, a
# relay hub, an outlet db registered at it for "echo" and an inlet app
# reaching it via the hub (${extra} node lines on each), all started and
# connected, one echo through them checked.  Sets TARGET, HUB
# (name@address), RELAY (the hub's address) and INLET.
relay_loopback()
{
	TARGET=127.0.0.1:$(free_port)
	RELAY=127.0.0.1:$(free_port)
	INLET=127.0.0.1:$(free_port)
	HUB="hub@$RELAY"
	start_echo "$TARGET"
	relay_configs echo "$RELAY" "$TARGET" "$RELAY" "$RELAY" "$@"
	start_node hub "$WORK/hub.ini"
	start_node db "$WORK/db.ini"
	wait_for_event "$WORK/db.log" 10 event=session-open role=outlet \
	    kind=register
	start_node app "$WORK/app.ini"
	wait_for_event "$WORK/app.log" 10 event=session-open role=inlet
	_r=$(netkit echo-check "$INLET" --count 1 --size 4096 --timeout 10) ||
		die "a client through the relay, before the test: $_r"
}

# --- config writers (docs/relay.md) ---

# ini_relay(name key=value...): a [relay NAME] section; one line per pair
# (e.g. register=db allow=app via=hub2@198.18.1.2:7400).
ini_relay()
{
	echo "[relay $1]"
	shift
	for _kv in "$@"; do
		echo "${_kv%%=*} = ${_kv#*=}"
	done
	echo
}

# ini_outlet_relay(name target relay allowed...): an outlet that registers
# ${name} at ${relay} (PEER@host:port) and lets ${allowed} in.
ini_outlet_relay()
{
	echo "[outlet $1]"
	echo "target = $2"
	echo "relay = $3"
	shift 3
	for _a in "$@"; do
		echo "allow = $_a"
	done
	echo
}

# ini_inlet_via(name listen outlet via [service]): an inlet that reaches
# the outlet identity ${outlet} through the relay ${via} (PEER@host:port).
ini_inlet_via()
{
	echo "[inlet $1]"
	echo "listen = $2"
	echo "outlet = $3"
	echo "via = $4"
	[ -z "${5:-}" ] || echo "service = $5"
	echo
}

# relay_supported: skip (77) while this sallyport rejects [relay] sections
# as "not supported yet" (a build from before the relay landed); any other
# outcome, including another error, lets the test run (and fail loudly).
relay_supported()
{
	printf '[node]\nidentity = %s\nlisten = 127.0.0.1:1\n\n[relay x]\n' \
	    "$WORK/.probe.key" >"$WORK/.probe.ini"
	if "$SALLYPORT" check "$WORK/.probe.ini" 2>&1 | grep -q 'not supported yet'
	then
		skip "this sallyport has no relay support yet ([relay] rejected)"
	fi
}
relay_supported

# --- topologies ---

# relay3_net([open]): the three hosts and their links; sets CLIENT_IP
# RELAY_IP (the relay as the client sees it) RELAY_IP_S (as the server sees
# it) and SERVER_IP.  The server drops inbound SYNs, unless "open" (a
# benchmark's plain rows need a way in).
relay3_net()
{
	ns_require
	ns_add client relay server
	ns_link client relay 0
	ns_link relay server 1
	ns_forward relay
	CLIENT_IP=$(ns_ip 0 1)
	RELAY_IP=$(ns_ip 0 2)
	RELAY_IP_S=$(ns_ip 1 1)
	SERVER_IP=$(ns_ip 1 2)
	ns_route client default "$RELAY_IP"
	ns_route server default "$RELAY_IP_S"
	[ "${1:-}" = open ] || ns_drop_syn server
}

# relay4_net: four hosts for a chain of two relays,
#
#   client --seg0-- edge --seg1-- hub --seg2-- server
#
# edge and hub route between the segments; the server drops inbound SYNs.
# Sets EDGE_IP (edge as the client sees it), HUB_IP_E (hub as the edge and
# the client see it), HUB_IP_S (hub as the server sees it) and SERVER_IP.
relay4_net()
{
	ns_require
	ns_add client edge hub server
	ns_link client edge 0
	ns_link edge hub 1
	ns_link hub server 2
	ns_forward edge
	ns_forward hub
	EDGE_IP=$(ns_ip 0 2)
	HUB_IP_E=$(ns_ip 1 2)
	HUB_IP_S=$(ns_ip 2 1)
	SERVER_IP=$(ns_ip 2 2)
	ns_route client default "$EDGE_IP"
	ns_route edge "$(ns_ip 2 0)/24" "$HUB_IP_E"
	ns_route hub "$(ns_ip 0 0)/24" "$(ns_ip 1 1)"
	ns_route server default "$HUB_IP_S"
	ns_drop_syn server
}

# relay3_configs([node-extra-lines...]): identities app, hub, db and the
# configs $WORK/{hub,db,app}.ini for service "postgres" (target
# 127.0.0.1:$TARGET_PORT on the server).  Sets APP_ID HUB_ID DB_ID.
relay3_configs()
{
	relay_configs postgres "0.0.0.0:$RELAY_PORT" "127.0.0.1:$TARGET_PORT" \
	    "$RELAY_IP_S:$RELAY_PORT" "$RELAY_IP:$RELAY_PORT" "$@"
}

# relay_configs(service listen target db_hub app_hub extra...): the three
# config files of relay3_configs: the hub listening on ${listen}, the
# outlet db serving ${service} at ${target} through the hub at ${db_hub},
# the inlet app reaching it through the hub at ${app_hub}; ${extra} node
# lines on each.
relay_configs()
{
	_svc=$1 _listen=$2 _target=$3 _dbhub=$4 _apphub=$5
	shift 5
	APP_ID=$(make_identity app)
	HUB_ID=$(make_identity hub)
	DB_ID=$(make_identity db)
	{
		ini_node "$WORK/hub.key" "$_listen" "$@"
		ini_peers db "$DB_ID" app "$APP_ID"
		ini_relay "$_svc" register=db allow=app
	} >"$WORK/hub.ini"
	{
		ini_node "$WORK/db.key" "" "$@"
		ini_peers hub "$HUB_ID" app "$APP_ID"
		ini_outlet_relay "$_svc" "$_target" "hub@$_dbhub" app
	} >"$WORK/db.ini"
	{
		ini_node "$WORK/app.key" "" "$@"
		ini_peers hub "$HUB_ID" db "$DB_ID"
		ini_inlet_via "$_svc" "$INLET" db "hub@$_apphub"
	} >"$WORK/app.ini"
}

# relay3_start: start hub (relay host), db (server host), app (client
# host), in that order, each waited for (event=ready).
relay3_start()
{
	ns_start_node relay hub "$WORK/hub.ini"
	ns_start_node server db "$WORK/db.ini"
	ns_start_node client app "$WORK/app.ini"
}

# assert_no_direct_path: a plain TCP connect from the client host to the
# server host fails, and it is the server's SYN rule that stopped it (its
# counter went up), not a missing route.
assert_no_direct_path()
{
	_d0=$(ns_syn_drops server)
	_r=$(ns_connect_fails client "$SERVER_IP:$TARGET_PORT" 2) ||
		die "a direct connect from the client host to the server worked"
	_d1=$(ns_syn_drops server)
	say "direct connect to $SERVER_IP:$TARGET_PORT: $_r (SYNs dropped: $_d0 -> $_d1)"
	[ "$_d1" -gt "$_d0" ] ||
		die "the direct SYN never reached the server (routing broken?)"
}

# lines_in(file): how many lines ${file} has (0 if it does not exist).
lines_in()
{
	if [ -f "$1" ]; then
		grep -c . "$1" || true
	else
		echo 0
	fi
}

# echo_ok(host addr): one short echo through ${addr} from ${host} works.
echo_ok()
{
	ns_exec "$1" python3 "$NETKIT" echo-check "$2" --count 1 --size 64 \
	    --timeout 3 >/dev/null 2>&1
}

# held_start(timeout_s): a long-lived connection through the inlet from
# the client host: one echo, then idle until $WORK/go exists (netkit
# echo-twice, at most ${timeout_s}; output in $WORK/held.out); waits (10 s)
# for the first echo.  Sets HELD (its PID).
held_start()
{
	ns_spawn client "$WORK/held.out" python3 "$NETKIT" echo-twice \
	    "$INLET" --ready "$WORK/first" --go "$WORK/go" --timeout "$1"
	HELD=$LAST_PID
	wait_for_file "$WORK/first" 10 || die "the first echo did not come back"
}

# held_finish: the held connection (held_start) sends its second echo;
# wait (15 s) until it ends and die unless both echoes came back whole.
held_finish()
{
	touch "$WORK/go"
	wait_exit "$HELD" 15 || die "the held connection did not finish"
	_r=$(cat "$WORK/held.out")
	say "held connection: $_r"
	[ "$(field "$_r" first)" = ok ] && [ "$(field "$_r" second)" = ok ] ||
		die "the held connection did not survive: $_r"
}

# wait_tunnel(secs): wait until an echo through the inlet works (the
# outlet has registered and its pool is up).
wait_tunnel()
{
	wait_until "$1" echo_ok client "$INLET" ||
		die "no echo through the relay within $(slow_s "$1") s"
}

# start_echo_in(host, port, [accept_log]): netkit's echo target on
# 127.0.0.1:${port} inside ${host}; waits until it listens.
start_echo_in()
{
	_r="$WORK/.echo-ready.$1.$2"
	ns_spawn "$1" "$WORK/echo-$1-$2.out" python3 "$NETKIT" echo \
	    "127.0.0.1:$2" --ready "$_r" ${3:+--log "$3"}
	wait_for_file "$_r" 10
}

# pgbench_run(what): from the client host, through the inlet
# (127.0.0.1:$INLET_PORT), initialise pgbench's tables (scale 1), then run
# it for 5 s with 4 clients; fail unless some transactions went through and
# none failed.  ${what} ("through the relay") goes into the messages.
# Sets $tx (transactions processed).
pgbench_run()
{
	ns_exec client timeout "$(slow_s 20)" pgbench -h 127.0.0.1 \
	    -p "$INLET_PORT" \
	    -U postgres -i -q -s 1 postgres >"$WORK/pgbench-init.out" 2>&1 ||
		{ cat "$WORK/pgbench-init.out" >&2; die "pgbench -i $1 failed"; }
	ns_exec client timeout "$(slow_s 15)" pgbench -h 127.0.0.1 \
	    -p "$INLET_PORT" \
	    -U postgres -T 5 -c 4 -j 2 postgres >"$WORK/pgbench.out" 2>&1 ||
		{ cat "$WORK/pgbench.out" >&2; die "pgbench -T 5 -c 4 $1 failed"; }
	sed 's/^/pgbench: /' "$WORK/pgbench.out" >&2
	tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' \
	    "$WORK/pgbench.out")
	[ -n "$tx" ] && [ "$tx" -gt 0 ] || die "pgbench processed no transaction"
	_failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' \
	    "$WORK/pgbench.out")
	[ -z "$_failed" ] || [ "$_failed" = 0 ] ||
		die "pgbench: $_failed failed transactions"
}
