#!/bin/sh
# Send-and-close clients queued behind max_dials are delivered, not timed
# out, while the target accepts (issue 19, R1).  inlet -> relay -> outlet
# -> redis-server; the outlet has max_dials = 1 and connect_timeout = 3.
# redis is stopped (SIGSTOP): its kernel still accepts connections and
# acknowledges their bytes, so each dial holds the one slot for 0.1 s
# (docs/config.md, max_dials) and 100 clients that each send one SET and
# hang up at once wait in the outlet's queue for up to 10 s, longer than
# connect_timeout.  The same happened to 3,000 clients through a relay
# after heavy churn (the outlet's loop slowed down by connects to the
# relay), with the default connect_timeout of 10 s: 437 to 668 of them
# were refused as target-failed ETIMEDOUT after their client had exited 0.
# Asserts: all 100 keys arrive once redis runs again, the outlet logged no
# target-failed.  Then a target that accepts nothing (its SYNs dropped):
# queued dials still end, each with target-failed errno=ETIMEDOUT (the
# wait is bounded: connect_timeout without any dial of the outlet
# connecting).
. "$top_srcdir/tests/integration/relaylib.sh"
need redis-server redis-cli

N=100
relay3_net
ns_spawn server "$WORK/redis.log" redis-server --port "$TARGET_PORT" \
	--bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
	--protected-mode yes --maxclients 10000
REDIS_PID=$LAST_PID
wait_until 10 ns_exec server redis-cli -p "$TARGET_PORT" PING >/dev/null ||
	die "redis-server did not start"
relay3_configs
# The outlet's node only: connect_timeout 3 s; its [outlet] section is the
# last of db.ini, so max_dials = 1 goes there.
sed 's/^\[node\]$/[node]\nconnect_timeout = 3/' "$WORK/db.ini" \
	>"$WORK/db.ini.new" && mv "$WORK/db.ini.new" "$WORK/db.ini"
echo "max_dials = 1" >>"$WORK/db.ini"
relay3_start
wait_until 10 ns_exec client redis-cli -p "$INLET_PORT" PING >/dev/null ||
	die "no PING through the relay within 10 s"
ns_exec server redis-cli -p "$TARGET_PORT" FLUSHALL >/dev/null ||
	die "redis FLUSHALL failed"

# outlet_done(n): the outlet opened or refused ${n} connections or more
# since the start of the burst (open lines before it: $OPEN0).
outlet_done()
{
	_o=$(log_count "$WORK/db.log" 'event=open role=outlet')
	_f=$(log_count "$WORK/db.log" event=target-failed)
	[ $((_o - OPEN0 + _f)) -ge "$1" ]
}

OPEN0=$(log_count "$WORK/db.log" 'event=open role=outlet')
kill -STOP "$REDIS_PID" || die "cannot stop redis"
_r=$(ns_exec client python3 "$NETKIT" send-close "$INLET" --count "$N" \
    --parallel "$N" --format 'SET k:%d v\r\n' --timeout 30) ||
	{ kill -CONT "$REDIS_PID"; die "send-close: $_r"; }
say "send-and-close, $N at once, redis stopped: $_r"
# Each client's SET and EOF are in the tunnel now; the outlet dials them
# one by one (0.1 s each), or, before the fix, refuses those that waited
# longer than connect_timeout.
wait_until 120 outlet_done "$N" || true
kill -CONT "$REDIS_PID" || die "cannot continue redis"
_f=$(log_count "$WORK/db.log" event=target-failed)
wait_until 60 redis_has server "$TARGET_PORT" "$N" || true
_got=$(ns_exec server redis-cli -p "$TARGET_PORT" DBSIZE)
say "keys=$_got target-failed=$_f"
[ "$_f" = 0 ] || die "the outlet refused $_f queued clients (target-failed)"
[ "$_got" = "$N" ] || die "$_got of $N keys arrived"

# A target that accepts nothing: the queue still ends, within bounds.
M=4
ns_refuse_syn server "127.0.0.1:$TARGET_PORT" "" drop
_t0=$(now_ms)
_r=$(ns_exec client python3 "$NETKIT" send-close "$INLET" --count "$M" \
    --parallel "$M" --format 'SET m:%d v\r\n' --timeout 30) ||
	die "send-close: $_r"
wait_until 120 eval '[ "$(log_count "$WORK/db.log" event=target-failed)" -ge "$M" ]' ||
	die "the queue of a silent target did not end within 120 s"
_t1=$(now_ms)
_n=$(log_count "$WORK/db.log" event=target-failed errno=ETIMEDOUT)
say "silent target: $_n of $M refused (ETIMEDOUT) in $((_t1 - _t0)) ms"
[ "$_n" = "$M" ] || die "$_n of $M refused with ETIMEDOUT"
ns_unrefuse server
say "ok"
