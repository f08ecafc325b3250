#!/bin/sh
# 500 concurrent connections through inlet -> relay -> outlet, each sending
# its own 64 KiB (seeded per connection) to an echo target and comparing
# every byte that comes back (stronger than a checksum); the target saw
# exactly 500 connections; the relay refused or denied none.
. "$top_srcdir/tests/integration/relaylib.sh"

N=500
relay3_net
relay3_configs
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
# The relay logged no refusal while doing it.
log_has "$WORK/hub.log" event=refuse && die "the relay refused connections"
log_has "$WORK/hub.log" event=audit decision=deny &&
	die "the relay denied a connection"
say "ok: $N concurrent connections, every byte checked"
