#!/bin/sh
# bench/pgbench.sh: pgbench against a real PostgreSQL through two plain
# socat hops, through a tunnel (inlet -> outlet) and through a tunnel via
# one relay, side by side in one run (issue 23; not a test).  Three network
# namespaces, as in tests/integration/relaylib.sh:
#
#   client --seg0-- relay --seg1-- server (PostgreSQL on 127.0.0.1)
#
#   socat2  socat on the client -> socat on the server -> PostgreSQL
#   direct  inlet on the client -> outlet on the server (listening)
#   relay   inlet on the client -> relay -> outlet on the server (dialed out)
#
# Each round runs every row once, in turn, with two workloads: select-only
# with one client (-S -c 1: the cost of a round trip) and the default
# TPC-B-like one with 8 clients (-c 8 -j 2); the table gives each row's
# median tps over the rounds and its ratio to socat2.  Needs root, ip,
# nft, socat, PostgreSQL and pgbench (contrib/scripts/deps.sh).
#
# Usage: bench/pgbench.sh   from a build directory (or SALLYPORT=path)
# Knobs: PGB_SECS=10 (pgbench -T), PGB_ROUNDS=3
SECS=${PGB_SECS:-10}
ROUNDS=${PGB_ROUNDS:-3}
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
export top_srcdir
. "$top_srcdir/tests/integration/relaylib.sh"

need socat pgbench
pg_require
relay3_net open
pg_start server "$TARGET_PORT"

# The rows' front ports on the client host.
SOCAT_PORT=16000
DIRECT_PORT=16001
RELAYED_PORT=$INLET_PORT
MID_PORT=7500

# socat2: two plain hops.
ns_spawn server "$WORK/socat-s.log" socat \
    "TCP-LISTEN:$MID_PORT,bind=$SERVER_IP,fork,reuseaddr,nodelay" \
    "TCP:127.0.0.1:$TARGET_PORT,nodelay"
ns_spawn client "$WORK/socat-c.log" socat \
    "TCP-LISTEN:$SOCAT_PORT,bind=127.0.0.1,fork,reuseaddr,nodelay" \
    "TCP:$SERVER_IP:$MID_PORT,nodelay"

# relay: the relay integration tests' nodes hub, db and app.
relay3_configs
relay3_start
# direct: a second outlet node (the same identity) that listens.
{
	ini_node "$WORK/db.key" "$SERVER_IP:$((MID_PORT + 1))"
	ini_peers app "$APP_ID"
	ini_outlet postgres "127.0.0.1:$TARGET_PORT" app
} >"$WORK/dbd.ini"
{
	ini_node "$WORK/app.key" ""
	ini_peers db "$DB_ID"
	ini_inlet postgres "127.0.0.1:$DIRECT_PORT" \
	    "db@$SERVER_IP:$((MID_PORT + 1))"
} >"$WORK/appd.ini"
ns_start_node server dbd "$WORK/dbd.ini"
ns_start_node client appd "$WORK/appd.ini"

export PGSSLMODE=disable PGCONNECT_TIMEOUT=10
for p in $SOCAT_PORT $DIRECT_PORT $RELAYED_PORT; do
	wait_until 20 ns_exec client pg_isready -q -t 2 -h 127.0.0.1 -p "$p" ||
		die "PostgreSQL not reachable on the client's port $p"
done
ns_exec client pgbench -h 127.0.0.1 -p "$SOCAT_PORT" -U postgres -i -q \
    -s 4 postgres >"$WORK/init.out" 2>&1 ||
	{ cat "$WORK/init.out" >&2; die "pgbench -i failed"; }

RES=$WORK/results
: >"$RES"
# run(row port mode args...): one pgbench; its tps into $RES.
run()
{
	_row=$1 _port=$2 _mode=$3
	shift 3
	ns_exec client pgbench -h 127.0.0.1 -p "$_port" -U postgres -T "$SECS" \
	    "$@" postgres >"$WORK/run.out" 2>&1 ||
		{ cat "$WORK/run.out" >&2; die "pgbench $_row $_mode failed"; }
	_tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$WORK/run.out" | tail -n 1)
	echo "$_row $_mode $_tps" >>"$RES"
	say "round $r: $_row $_mode: $_tps tps"
}
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for row in socat2:$SOCAT_PORT direct:$DIRECT_PORT relay:$RELAYED_PORT; do
		run "${row%%:*}" "${row#*:}" S1 -S -c 1
		run "${row%%:*}" "${row#*:}" T8 -c 8 -j 2
	done
	r=$((r + 1))
done

python3 - "$RES" <<'EOF'
import statistics, sys
d = {}
for line in open(sys.argv[1]):
    row, mode, tps = line.split()
    d.setdefault((row, mode), []).append(float(tps))
print("pgbench tps, median of %d rounds (ratio to socat2)" %
      len(d[("socat2", "S1")]))
print("%-8s %22s %22s" % ("", "select-only, 1 client", "TPC-B-like, 8 clients"))
for row in ("socat2", "direct", "relay"):
    cells = []
    for mode in ("S1", "T8"):
        m = statistics.median(d[(row, mode)])
        ref = statistics.median(d[("socat2", mode)])
        cells.append("%10.0f (%.2fx)" % (m, m / ref))
    print("%-8s %22s %22s" % (row, cells[0], cells[1]))
EOF
