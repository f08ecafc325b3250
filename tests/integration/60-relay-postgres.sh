#!/bin/sh
# Three hosts: client, relay, server.  The server accepts no inbound TCP
# connection at all (every SYN dropped) and runs PostgreSQL; psql and a short
# pgbench on the client host reach it through inlet -> relay -> outlet.
. "$top_srcdir/tests/integration/relaylib.sh"

pg_require
relay3_net
assert_no_direct_path
pg_start server "$TARGET_PORT"
relay3_configs
relay3_start

export PGSSLMODE=disable PGCONNECT_TIMEOUT=5
wait_secs 10 ns_exec client pg_isready -q -t 2 -h 127.0.0.1 -p "$INLET_PORT" ||
	die "PostgreSQL not reachable through the relay within 10 s"

out=$(ns_exec client timeout 10 psql -h 127.0.0.1 -p "$INLET_PORT" -U postgres -X -At \
    -c 'select 1') || die "psql through the relay failed"
say "psql: select 1 -> $out"
[ "$out" = 1 ] || die "select 1 returned '$out'"

# The tunnel really was used: the outlet logged the connection it carried.
log_has "$WORK/db.log" event=open role=outlet service=postgres ||
	die "the outlet logged no event=open role=outlet service=postgres"

ns_exec client timeout 20 pgbench -h 127.0.0.1 -p "$INLET_PORT" -U postgres -i -q \
    -s 1 postgres >"$WORK/pgbench-init.out" 2>&1 ||
	{ cat "$WORK/pgbench-init.out" >&2; die "pgbench -i through the relay failed"; }
ns_exec client timeout 15 pgbench -h 127.0.0.1 -p "$INLET_PORT" -U postgres -T 5 -c 4 \
    -j 2 postgres >"$WORK/pgbench.out" 2>&1 ||
	{ cat "$WORK/pgbench.out" >&2; die "pgbench -T 5 -c 4 through the relay failed"; }
sed 's/^/pgbench: /' "$WORK/pgbench.out" >&2
tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' \
    "$WORK/pgbench.out")
[ -n "$tx" ] && [ "$tx" -gt 0 ] || die "pgbench processed no transaction"
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' \
    "$WORK/pgbench.out")
[ -z "$failed" ] || [ "$failed" = 0 ] || die "pgbench: $failed failed transactions"

# Still no direct path, after all that.
assert_no_direct_path
say "ok: $tx pgbench transactions through the relay"
