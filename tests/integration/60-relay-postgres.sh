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
wait_until 10 ns_exec client pg_isready -q -t 2 -h 127.0.0.1 -p "$INLET_PORT" ||
	die "PostgreSQL not reachable through the relay within 10 s"

out=$(ns_exec client timeout "$(slow_s 10)" psql -h 127.0.0.1 \
    -p "$INLET_PORT" -U postgres -X -At \
    -c 'select 1') || die "psql through the relay failed"
say "psql: select 1 -> $out"
[ "$out" = 1 ] || die "select 1 returned '$out'"

# The tunnel really was used: the outlet logged the connection it carried.
log_has "$WORK/db.log" event=open role=outlet service=postgres ||
	die "the outlet logged no event=open role=outlet service=postgres"

pgbench_run "through the relay"

# Still no direct path, after all that.
assert_no_direct_path
say "ok: $tx pgbench transactions through the relay"
