#!/bin/sh
# Bursts of local clients through inlet -> relay -> outlet (three hosts,
# default settings) to a real redis-server on the server host (issue 14).
# Asserts (lib.sh's redis_bursts): 4,000 clients that each send one SET and
# hang up at once, one at a time and then 8 at a time, leave 4,000 keys
# each time; 4,000 connections opened at once each get +PONG to one PING.
# And no node logged a refusal.
. "$top_srcdir/tests/integration/relaylib.sh"
need redis-server redis-cli

relay3_net
ns_spawn server "$WORK/redis.log" redis-server --port "$TARGET_PORT" \
	--bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
	--protected-mode yes --maxclients 10000
wait_until 10 ns_exec server redis-cli -p "$TARGET_PORT" PING >/dev/null ||
	die "redis-server did not start"
relay3_configs
relay3_start
wait_until 10 ns_exec client redis-cli -p "$INLET_PORT" PING >/dev/null ||
	die "no PING through the relay within 10 s"

redis_bursts 4000 "$INLET" "$TARGET_PORT" client server
for n in hub db app; do
	log_has "$WORK/$n.log" event=refuse && die "$n refused connections"
done
say "ok"
