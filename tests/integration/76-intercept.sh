#!/bin/sh
# Transparent inlets (docs/config.md, intercept): three hosts (client,
# relay, server; the server drops every inbound SYN but the one port of
# its outlet node).  The client's applications connect to the database's
# real addresses; the ruleset printed by `sallyport intercept-rules`
# redirects them to the interception listener of the app node, which runs
# as a dedicated user (nobody) whose own connections are not redirected.
# Asserts: psql and pgbench work unchanged, directly (SERVER_IP:5432) and
# through the relay (a second server address), and over IPv6; an
# undeclared destination is not redirected, and one redirected by a wider
# rule is refused and audited (reason=no-inlet, dst=); the node's own
# dials are not looped back even where an inlet intercepts the outlet
# node's address itself.
. "$top_srcdir/tests/integration/relaylib.sh"

pg_require
NOBODY=$(id -u nobody 2>/dev/null) || skip "no user nobody"
relay3_net
OUTLET_PORT=7401
ICPT_PORT=15001
SERVER_IP2=$(ns_ip 1 3)
V6_DB=fd00:5::1
ns_exec server ip addr add "$SERVER_IP2/24" dev seg1 ||
	die "second server address failed"
# The outlet node's port is the one way in (before the drop rule).
ns_exec server nft insert rule inet sp_nosyn input tcp dport "$OUTLET_PORT" \
    accept || die "accept rule failed"
# IPv6: the client routes fd00:5::/64 onto its link (nobody answers there:
# only the redirect can make a connection to [fd00:5::1]:5432 work).
ns_exec client ip -6 addr add fd00:5::2/64 dev seg0 nodad ||
	skip "no IPv6 in the namespaces"
assert_no_direct_path
pg_start server "$TARGET_PORT"

APP_ID=$(make_identity app)
HUB_ID=$(make_identity hub)
DB_ID=$(make_identity db)
{
	ini_node "$WORK/hub.key" "0.0.0.0:$RELAY_PORT"
	ini_peers db "$DB_ID" app "$APP_ID"
	ini_relay postgres register=db allow=app
} >"$WORK/hub.ini"
{
	ini_node "$WORK/db.key" "$SERVER_IP:$OUTLET_PORT"
	ini_peers hub "$HUB_ID" app "$APP_ID"
	ini_outlet_relay postgres "127.0.0.1:$TARGET_PORT" \
	    "hub@$RELAY_IP_S:$RELAY_PORT" app
} >"$WORK/db.ini"
{
	ini_node "$WORK/app.key" "" "user = nobody" \
	    "intercept = 127.0.0.1:$ICPT_PORT, [::1]:$ICPT_PORT"
	ini_peers hub "$HUB_ID" db "$DB_ID"
	printf '[inlet direct]\nintercept = %s:5432, [%s]:5432\n' \
	    "$SERVER_IP" "$V6_DB"
	printf 'outlet = db@%s:%s\nservice = postgres\n\n' "$SERVER_IP" \
	    "$OUTLET_PORT"
	printf '[inlet relayed]\nintercept = %s:5432\noutlet = db\n' \
	    "$SERVER_IP2"
	printf 'via = hub@%s:%s\nservice = postgres\n\n' "$RELAY_IP" \
	    "$RELAY_PORT"
	# The outlet node's own address: the node dials it for "direct";
	# without the uid exclusion that dial would come back here.
	printf '[inlet self]\nintercept = %s:%s\noutlet = db@%s:%s\n' \
	    "$SERVER_IP" "$OUTLET_PORT" "$SERVER_IP" "$OUTLET_PORT"
	printf 'service = postgres\n\n'
} >"$WORK/app.ini"
give_to_user nobody "$WORK/app.ini" "$WORK/app.key"

# The ruleset, loaded in the client host (an init container's job).
"$SALLYPORT" intercept-rules "$WORK/app.ini" >"$WORK/rules.nft" ||
	die "intercept-rules failed"
sed 's/^/rules: /' "$WORK/rules.nft" >&2
grep -q "meta skuid $NOBODY return" "$WORK/rules.nft" ||
	die "the rules do not exclude uid $NOBODY"
for d in "ip daddr $SERVER_IP tcp dport 5432 redirect to :$ICPT_PORT" \
    "ip daddr $SERVER_IP2 tcp dport 5432 redirect to :$ICPT_PORT" \
    "ip6 daddr $V6_DB tcp dport 5432 redirect to :$ICPT_PORT"; do
	grep -q "$d" "$WORK/rules.nft" || die "no rule: $d"
done
ns_exec client nft -f "$WORK/rules.nft" || die "nft -f rules failed"
# Loading twice replaces, never duplicates.
ns_exec client nft -f "$WORK/rules.nft" || die "nft -f rules (again) failed"
[ "$(ns_exec client nft list table inet sallyport | grep -c redirect)" = 4 ] ||
	die "the rules did not replace themselves"

ns_start_node relay hub "$WORK/hub.ini"
ns_start_node server db "$WORK/db.ini"
ns_start_node client app "$WORK/app.ini"
# An ASan build runs without the sandbox, so as root: the rules' uid
# exclusion needs the switch to nobody (docs/security.md).
log_has "$WORK/app.log" event=ready sandbox=off &&
	skip "an ASan build does not switch users (docs/security.md)"
[ "$(ps -o user= -p "$PID_app")" = nobody ] || die "app does not run as nobody"

export PGSSLMODE=disable PGCONNECT_TIMEOUT=5
# psql(host, port): "select 1" from the client host, unchanged.
sql1()
{
	ns_exec client timeout "$(slow_s 10)" psql -h "$1" -p "$2" \
	    -U postgres -X -At \
	    -c 'select 1'
}
wait_until 10 ns_exec client pg_isready -q -t 2 -h "$SERVER_IP2" -p 5432 ||
	die "relayed database address not ready within 10 s"
for a in "$SERVER_IP" "$SERVER_IP2" "$V6_DB"; do
	out=$(sql1 "$a" 5432) || die "psql to $a:5432 failed"
	[ "$out" = 1 ] || die "psql to $a:5432 returned '$out'"
	say "psql $a:5432 -> $out"
done
log_has "$WORK/app.log" event=open role=inlet name=direct ||
	die "no event=open for inlet direct"
log_has "$WORK/app.log" event=open role=inlet name=relayed ||
	die "no event=open for inlet relayed"

# pgbench through each path (pgbench_run uses 127.0.0.1:$INLET_PORT).
pgb()
{
	ns_exec client timeout "$(slow_s 20)" pgbench -h "$1" -p 5432 \
	    -U postgres -i -q \
	    -s 1 postgres >"$WORK/pgbench-init.out" 2>&1 ||
		{ cat "$WORK/pgbench-init.out" >&2; die "pgbench -i ($1) failed"; }
	ns_exec client timeout "$(slow_s 15)" pgbench -h "$1" -p 5432 \
	    -U postgres -T 3 \
	    -c 4 -j 2 postgres >"$WORK/pgbench.out" 2>&1 ||
		{ cat "$WORK/pgbench.out" >&2; die "pgbench ($1) failed"; }
	tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' \
	    "$WORK/pgbench.out")
	[ -n "$tx" ] && [ "$tx" -gt 0 ] || die "pgbench ($1): no transaction"
	say "pgbench $1: $tx transactions"
}
pgb "$SERVER_IP"
pgb "$SERVER_IP2"

# The node's own dials were not looped back: inlet "self", which
# intercepts the very address those dials go to, carried nothing.
n_self=$(log_count "$WORK/app.log" event=open role=inlet name=self)
[ "${n_self:-0}" = 0 ] || die "the node's own dials went through inlet self"

# An undeclared destination is not redirected: the server's SYN rule
# drops it like any direct connection.
d0=$(ns_syn_drops server)
ns_connect_fails client "$SERVER_IP:5999" 2 >/dev/null ||
	die "a connect to an undeclared destination worked"
[ "$(ns_syn_drops server)" -gt "$d0" ] ||
	die "the undeclared destination did not reach the server"

# Redirected by a wider rule, it is refused and audited (deny by default).
ns_exec client nft add rule inet sallyport output ip daddr "$SERVER_IP" \
    tcp dport 6000 redirect to ":$ICPT_PORT" || die "wide rule failed"
ns_exec client python3 - "$SERVER_IP" <<'PY' || die "the wide redirect was not refused"
import socket, sys
# The reset may come before connect() returns to us: both count.
try:
    s = socket.create_connection((sys.argv[1], 6000), timeout=5)
    data = s.recv(1)
except ConnectionResetError:
    data = b""
sys.exit(0 if data == b"" else 1)
PY
wait_for_log "$WORK/app.log" "reason=no-inlet" 5 ||
	die "no audit line reason=no-inlet"
log_has "$WORK/app.log" event=audit decision=deny reason=no-inlet \
    "dst=$SERVER_IP:6000" || die "the no-inlet line does not name dst"
say "ok: direct, relayed, IPv6, undeclared, no-inlet, no loop"
