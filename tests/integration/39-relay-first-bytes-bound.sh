#!/bin/sh
# First-bytes connections and handshakes share one bound (issue 19, part
# 5), on loopback: inlet -> relay hub -> outlet.  The hub has
# max_handshakes = 8 and holds 8 connections that never finish: 2 idle
# (not one byte: their first bytes are due), 2 inside a data-connection
# preamble (also first bytes: a preamble is read whole before anything
# else happens) and 4 inside a handshake frame (handshakes).  So the hub
# is at its bound, and a client through it needs a slot: the hub evicts
# the oldest connection that made no progress, an idle one whose first
# bytes never came (event=drop role=relay reason=evicted), and the
# client is served.  Before, the connections waiting for their first
# bytes had a cap of their own (4096) and did not count against
# max_handshakes: the hub stood at 4 of 8 and evicted nothing.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=relaylib.sh
. "$top_srcdir/tests/integration/relaylib.sh"

relay_loopback "handshake_timeout = 60" "max_handshakes = 8"
log_has "$WORK/hub.log" event=drop reason=evicted &&
	die "an eviction before the hub was at its bound"

# Oldest first: the idle ones, then the partial preambles ('c' and 3 of
# its 97 bytes), then the partial handshake frames (a 32-byte frame with
# 3 bytes of it).
pids=""
spawn "$WORK/idle.out" netkit hold "$RELAY" --count 2 --timeout 20 \
	--hold 120 --ready "$WORK/idle.ready"
pids="$pids $LAST_PID"
wait_for_file "$WORK/idle.ready" 30
spawn "$WORK/pre.out" netkit hold "$RELAY" --count 2 --send-hex 63010203 \
	--timeout 20 --hold 120 --ready "$WORK/pre.ready"
pids="$pids $LAST_PID"
wait_for_file "$WORK/pre.ready" 30
spawn "$WORK/hs.out" netkit hold "$RELAY" --count 4 --send-hex 0020010203 \
	--timeout 20 --hold 120 --ready "$WORK/hs.ready"
pids="$pids $LAST_PID"
wait_for_file "$WORK/hs.ready" 30
for f in idle pre hs; do
	say "stalled $f: $(cat "$WORK/$f.ready")"
done
res=$(netkit echo-check "$INLET" --count 1 --size 4096 --timeout 20) ||
	die "client at the hub's bound: $res"
say "client at the bound: $res"
log_has "$WORK/hub.log" event=drop role=relay reason=evicted ||
	die "no first-bytes connection evicted: first bytes and handshakes do not share max_handshakes"
say "$(grep -m 2 -e 'reason=evicted' -e 'reason=handshake-evicted' "$WORK/hub.log")"
log_has "$WORK/hub.log" event=refuse reason=max-pending &&
	die "a max-pending refusal: the first bytes have a bound of their own"
proc_alive "$PID_hub" || die "the relay died"
for p in $pids; do
	stop_pid "$p"
	forget_pid "$p"
done
say "ok"
