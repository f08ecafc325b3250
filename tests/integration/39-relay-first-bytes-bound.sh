#!/bin/sh
# Connections waiting for their first bytes have a bound of their own,
# apart from max_handshakes (issue 19, part 5, and the regression it
# caused), on loopback: inlet -> relay hub -> outlet.  The hub has
# max_handshakes = 8 and holds 60 connections whose first bytes never
# finish (40 idle, 20 inside a data-connection preamble) and 4 inside a
# handshake frame: 64 connections, but only 4 handshakes.  A client
# through the hub is served with nothing evicted and the hub's listener
# never stops accepting (no event=backlog): the idle ones do not hold the
# handshake slots.  When they did (they counted against max_handshakes),
# a flood of idle connections kept the hub's listen backlog full and a
# real client's connect waited for SYN retransmits, seconds
# (35-flood-relay-multi-address).  Then 8 more stalled handshake frames
# take the hub past its 8 handshake slots: the oldest handshake with no
# progress is evicted (reason=handshake-evicted) and a client is served.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=relaylib.sh
. "$top_srcdir/tests/integration/relaylib.sh"

relay_loopback "handshake_timeout = 60" "max_handshakes = 8"

pids=""
hold() # name count [netkit hold options]
{
	name=$1
	count=$2
	shift 2
	spawn "$WORK/$name.out" netkit hold "$RELAY" --count "$count" \
		--timeout 20 --hold 120 --ready "$WORK/$name.ready" "$@"
	pids="$pids $LAST_PID"
	wait_for_file "$WORK/$name.ready" 30
	say "stalled $name: $(cat "$WORK/$name.ready")"
}
hold idle 40
hold pre 20 --send-hex 63010203
hold hs 4 --send-hex 0020010203

res=$(netkit echo-check "$INLET" --count 1 --size 4096 --timeout 20) ||
	die "client beside 60 first-bytes waits: $res"
say "client beside 60 first-bytes waits and 4 handshakes: $res"
log_has "$WORK/hub.log" event=drop reason=evicted &&
	die "a first-bytes connection evicted below its own bound"
log_has "$WORK/hub.log" event=drop reason=handshake-evicted &&
	die "a handshake evicted with 4 of 8 slots used"
log_has "$WORK/hub.log" event=backlog &&
	die "the hub stopped accepting: first-bytes waits hold handshake slots"

hold hs2 8 --send-hex 0020010203
res=$(netkit echo-check "$INLET" --count 1 --size 4096 --timeout 20) ||
	die "client past the handshake bound: $res"
say "client past the handshake bound: $res"
# 12 stalled handshakes, 8 slots: some must have gone.
wait_for_event "$WORK/hub.log" 30 event=drop reason=handshake-evicted
say "$(grep -m 1 'reason=handshake-evicted' "$WORK/hub.log")"
log_has "$WORK/hub.log" event=refuse reason=max-pending &&
	die "a max-pending refusal far below the first-bytes bound"
proc_alive "$PID_hub" || die "the relay died"
for p in $pids; do
	stop_pid "$p"
	forget_pid "$p"
done
say "ok"
