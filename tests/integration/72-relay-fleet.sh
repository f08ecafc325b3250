#!/bin/sh
# Relays as a fleet (issue 13 part 3; docs/relay.md "Fleets"): three relay
# replicas (one shared identity "hub") behind one name, relays.test, which
# the client and server hosts resolve to three addresses (/etc/hosts in
# their namespaces).  The server accepts no inbound SYN and runs
# PostgreSQL behind an outlet with relay = hub@relays.test:7400; the
# client's inlet has via = hub@relays.test:7400.
#
#   client --seg0-- relays (three replica addresses) --seg1-- server
#
# The outlet registers at all three, the inlet keeps a session with all
# three.  While pgbench (6 connections held) and a loop of psql
# connections run, one replica is killed (SIGKILL): only connections in
# flight through it fail (pgbench clients that went through it abort,
# the others go on), every psql connection started after the kill works
# and the first one is done soon after the kill (within 10 s, stretched by
# $SLOW: a wide margin for a loaded machine and ASan; the goal, 1 s, is
# measured by bench/timing.sh); when the replica comes back the outlet
# registers there again.  Before that, while one
# replica refuses new connections (its sessions up), the inlet sends the
# clients it picked it for to the next one (at once when it is refused,
# after its share of connect_timeout when nothing answers).
. "$top_srcdir/tests/integration/relaylib.sh"
. "$top_srcdir/tests/integration/dnslib.sh"

pg_require
ns_add client relays server
ns_link client relays 0
ns_link relays server 1
R1=$(ns_ip 2 11)
R2=$(ns_ip 2 12)
R3=$(ns_ip 2 13)
for r in "$R1" "$R2" "$R3"; do	# on its lo: local, reached by route
	ip -n "$(ns_full relays)" addr add "$r/32" dev lo ||
		die "address $r failed"
done
ns_route client "$(ns_ip 2 0)/24" "$(ns_ip 0 2)"
ns_route server "$(ns_ip 2 0)/24" "$(ns_ip 1 1)"
ns_drop_syn server	# the relays host does not forward: no path anyway
dns_setup client server
dns_hosts "$R1 relays.test" "$R2 relays.test" "$R3 relays.test"
pg_start server "$TARGET_PORT"

APP_ID=$(make_identity app)
HUB_ID=$(make_identity hub)
DB_ID=$(make_identity db)
k=1
for r in "$R1" "$R2" "$R3"; do
	{
		ini_node "$WORK/hub.key" "$r:$RELAY_PORT"
		ini_peers db "$DB_ID" app "$APP_ID"
		ini_relay postgres register=db allow=app
	} >"$WORK/hub$k.ini"
	k=$((k + 1))
done
{
	ini_node "$WORK/db.key" ""
	ini_peers hub "$HUB_ID" app "$APP_ID"
	ini_outlet_relay postgres "127.0.0.1:$TARGET_PORT" \
	    "hub@relays.test:$RELAY_PORT" app
} >"$WORK/db.ini"
{
	ini_node "$WORK/app.key" "" "connect_timeout = 3"
	ini_peers hub "$HUB_ID" db "$DB_ID"
	ini_inlet_via postgres "$INLET" db "hub@relays.test:$RELAY_PORT"
} >"$WORK/app.ini"
for k in 1 2 3; do
	ns_start_node relays "hub$k" "$WORK/hub$k.ini"
done
ns_start_node server db "$WORK/db.ini"
ns_start_node client app "$WORK/app.ini"

# sessions(log, role, kind, addr): session-open lines of ${role} at ${addr}.
sessions()
{
	log_count "$1" event=session-open "role=$2" "kind=$3" \
	    "relay=relays.test:$RELAY_PORT" "relay_addr=$4:$RELAY_PORT"
}
all_up()
{
	for _r in "$R1" "$R2" "$R3"; do
		[ "$(sessions "$WORK/db.log" outlet register "$_r")" -ge 1 ] &&
			[ "$(sessions "$WORK/app.log" inlet client "$_r")" -ge 1 ] ||
			return 1
	done
}
wait_until 15 all_up ||
	die "the outlet and the inlet did not open sessions at all three replicas"
say "the outlet is registered at $R1, $R2 and $R3; the inlet has a session with each"

export PGSSLMODE=disable PGCONNECT_TIMEOUT=5
ns_exec client timeout "$(slow_s 20)" pgbench -h 127.0.0.1 \
    -p "$INLET_PORT" \
    -U postgres -i -q -s 1 postgres >"$WORK/pgbench-init.out" 2>&1 ||
	{ cat "$WORK/pgbench-init.out" >&2; die "pgbench -i failed"; }

# blocked(n, how, [drop]): ${n} psql connections while replica 2 (its
# sessions up) ${how} the client host's new connections (a reset, or with
# "drop" its SYNs dropped): each works, some were sent there.
blocked()
{
	ns_refuse_syn relays "$R2:$RELAY_PORT" "$(ns_ip 0 1)" ${3:-}
	_i=0
	while [ $_i -lt "$1" ]; do
		ns_exec client timeout "$(slow_s 10)" psql -h 127.0.0.1 \
		    -p "$INLET_PORT" \
		    -U postgres -X -At -c 'select 1' >/dev/null ||
			die "connection $_i failed while $R2 $2 new connections"
		_i=$((_i + 1))
	done
	_n=$(ns_refused relays)
	ns_unrefuse relays
	say "$1 connections while $R2 $2 new ones: all worked (${_n:-0} SYNs there)"
	[ "${_n:-0}" -ge 1 ] || die "the inlet sent no connection to $R2 meanwhile"
}
# Refused: the inlet dials the next replica at once, unseen by the client.
blocked 6 refused
# Silent: the dial there gets its share of connect_timeout (3 s, three
# replicas up: 1 s), then the next replica is dialed.
blocked 3 dropped drop

# Six connections held by pgbench, spread round robin over the replicas;
# it must still run at the kill, which comes after the waits below: its
# length is stretched by $SLOW like theirs.
PGB_T=$(slow_s 4)
ns_spawn client "$WORK/pgbench.out" timeout $((PGB_T + 30)) pgbench \
    -h 127.0.0.1 -p "$INLET_PORT" -U postgres -c 6 -j 2 -T "$PGB_T" postgres
PGB=$LAST_PID
# inflight(addr): data connections from the client host to ${addr} (its
# sockets there, less the inlet's session).
inflight()
{
	echo $(($(ns_socket_count client "dst $1:$RELAY_PORT") - 1))
}
wait_until 10 eval '[ "$(inflight "$R1")" -ge 1 ] &&
    [ "$(inflight "$R2")" -ge 1 ] && [ "$(inflight "$R3")" -ge 1 ]' ||
	die "pgbench's connections were not spread over the three replicas"

# The loop: one psql connection after the other, each logged as
# "start_ms end_ms ok|fail", until $WORK/loop.stop exists (at most 1000).
ns_spawn client "$WORK/loop.out" sh -c '
i=0
while [ $i -lt 1000 ] && [ ! -e "$2" ]; do
	t0=$(date +%s%3N)
	if psql -h 127.0.0.1 -p "$1" -U postgres -X -Atq -c "select 1" \
	    >/dev/null 2>&1; then r=ok; else r=fail; fi
	echo "$t0 $(date +%s%3N) $r"
	i=$((i + 1))
done' loop "$INLET_PORT" "$WORK/loop.stop"
LOOP=$LAST_PID
wait_until 5 eval '[ "$(grep -c " ok$" "$WORK/loop.out")" -ge 3 ]' ||
	die "the psql loop made no connection: $(tail -n 3 "$WORK/loop.out")"

held=$(inflight "$R1")
proc_alive "$PGB" ||
	die "pgbench ended before the kill: $(tail -n 3 "$WORK/pgbench.out")"
t_kill=$(now_ms)
stop_pid "$PID_hub1" KILL
forget_pid "$PID_hub1"
say "killed replica $R1 (SIGKILL) with $held connections in flight through it"

# after_kill(n): the loop has logged ${n} connections started after the
# kill.
after_kill()
{
	[ "$(awk -v k="$t_kill" '$1 >= k' "$WORK/loop.out" | grep -c .)" -ge "$1" ]
}
wait_until 30 after_kill 5 ||
	die "the psql loop made fewer than 5 connections after the kill"
touch "$WORK/loop.stop"
wait_exit "$LOOP" 15 || die "the psql loop did not finish"
wait_exit "$PGB" $((PGB_T + 20)) || die "pgbench did not finish"
sed 's/^/pgbench: /' "$WORK/pgbench.out" >&2
aborted=$(grep -c 'client [0-9]* aborted' "$WORK/pgbench.out" || true)
tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' \
    "$WORK/pgbench.out")
say "pgbench: $aborted of 6 clients aborted, ${tx:-0} transactions"
[ "$aborted" -ge 1 ] && [ "$aborted" -le "$held" ] ||
	die "$aborted pgbench clients aborted, $held were in flight through $R1"
[ -n "$tx" ] && [ "$tx" -gt 0 ] || die "pgbench processed no transaction"

# Every connection started after the kill worked; the first was done
# soon after it.
after=$(awk -v k="$t_kill" '$1 >= k' "$WORK/loop.out")
n_after=$(echo "$after" | grep -c . || true)
bad=$(echo "$after" | grep -c ' fail$' || true)
first=$(echo "$after" | awk '$3 == "ok" { print $2; exit }')
say "psql loop: $(grep -c . "$WORK/loop.out") connections, $n_after after the kill, $bad failed; first done $((${first:-0} - t_kill)) ms after it"
[ "$n_after" -ge 5 ] || die "too few connections after the kill ($n_after)"
[ "$bad" = 0 ] || die "$bad connections started after the kill failed"
[ $((first - t_kill)) -le $(($(slow_s 10) * 1000)) ] ||
	die "the first connection after the kill took until $((first - t_kill)) ms (limit $(slow_s 10) s)"
# The ones in flight at the kill may have failed; none before it.
before_bad=$(awk -v k="$t_kill" '$2 < k && $3 == "fail"' "$WORK/loop.out" |
    grep -c . || true)
[ "$before_bad" = 0 ] || die "$before_bad connections failed before the kill"

# The replica comes back: the outlet registers there again.
n=$(sessions "$WORK/db.log" outlet register "$R1")
log_has "$WORK/db.log" event=session-close role=outlet kind=register \
    "relay_addr=$R1:$RELAY_PORT" ||
	die "the outlet did not see its registration at $R1 end"
ns_start_node relays hub1 "$WORK/hub1.ini"
wait_until 10 eval '[ "$(sessions "$WORK/db.log" outlet register "$R1")" -gt "$n" ]' ||
	die "the outlet did not register again at $R1 within 10 s"
wait_until 10 log_has "$WORK/hub1.log" event=session-open role=relay \
    kind=register ||
	die "the restarted replica logged no registration"
say "the outlet registered again at $R1"
out=$(ns_exec client timeout "$(slow_s 10)" psql -h 127.0.0.1 \
    -p "$INLET_PORT" -U postgres \
    -X -At -c 'select 1') || die "psql after the replica's return failed"
[ "$out" = 1 ] || die "select 1 returned '$out'"
say "ok"
