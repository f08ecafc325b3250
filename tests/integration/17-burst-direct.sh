#!/bin/sh
# Bursts of local clients through inlet -> outlet, default settings, to a
# real redis-server (issue 14): while the handshake slots are busy, local
# clients wait in the inlet's listen backlog; none is accepted and dropped.
# Asserts (lib.sh's redis_bursts): 4,000 clients that each send one SET and
# hang up at once, one at a time and then 8 at a time, leave 4,000 keys
# each time; 4,000 connections opened at once each get +PONG to one PING.
# And no node logged a refusal.
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli

start_redis --maxclients 10000
tunnel redis "127.0.0.1:$REDIS_PORT"

redis_bursts 4000 "$INLET" "$REDIS_PORT" - -
for n in in out; do
	log_has "$WORK/$n.log" event=refuse && die "$n refused connections"
done
say "ok"
