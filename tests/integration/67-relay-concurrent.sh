#!/bin/sh
# 500 concurrent connections through inlet -> relay -> outlet, each sending
# its own 64 KiB (seeded per connection) to an echo target and comparing
# every byte that comes back (stronger than a checksum); the target saw
# exactly 500 connections; no node refused or denied any.  The inlet starts
# 500 end-to-end handshakes at once, more than the default max_handshakes
# (256) lets wait: every node gets max_handshakes = 1024 so the limit (a
# guard tested elsewhere) does not decide the outcome on a slow machine.
. "$top_srcdir/tests/integration/relaylib.sh"

N=500
relay3_net
relay3_configs "max_handshakes = 1024"
start_echo_in server "$TARGET_PORT" "$WORK/target.log"
relay3_start
wait_tunnel 10
before=$(lines_in "$WORK/target.log")

r=$(ns_exec client python3 "$NETKIT" echo-check "$INLET" --count "$N" \
    --size 65536 --seed 11 --timeout 60) || {
	say "echo-check: $r"
	die "not every one of $N concurrent connections came back intact"
}
say "echo-check: $r"
[ "$(field "$r" ok)" = "$N" ] || die "ok=$(field "$r" ok) of $N"
[ "$(field "$r" mismatched)" = 0 ] || die "mismatched data: $r"
after=$(lines_in "$WORK/target.log")
[ $((after - before)) = "$N" ] ||
	die "the target saw $((after - before)) connections, not $N"
# Nobody logged a refusal while doing it.
for n in hub db app; do
	log_has "$WORK/$n.log" event=refuse && die "$n refused connections"
done
log_has "$WORK/hub.log" event=audit decision=deny &&
	die "the relay denied a connection"
say "ok: $N concurrent connections, every byte checked"
