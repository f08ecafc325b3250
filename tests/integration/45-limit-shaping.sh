#!/bin/sh
# Bandwidth shaping at the outlet (issue 22, section 3; docs/config.md
# "Limits per peer"): redis behind two outlets on one node,
#   [outlet slow]  bytes_per_second_per_connection = 1048576
#   [outlet fast]  (no limit)
# the peer a reads an 8 MiB value through slow while the peer b reads it
# through fast, at the same time.  Asserts: both values arrive whole
# (shaping delays, never drops: TCP backpressure), a's read takes at least
# half of what 1 MiB/s allows for the bytes beyond the 1 s burst (a lower
# bound, which a busy machine only makes easier to hold), b's takes less
# than half of a's (b gets the rest), and a's connection was never
# refused.  Then per peer: [outlet shared] has
# bytes_per_second_per_peer = 1048576; a reads the 8 MiB value over two
# connections at once there: both arrive whole, and the later one ends
# after 10 s at least (15 s expected: their sum is held to 1 MiB/s; each
# held to 1 MiB/s on its own would end after 7 s), while
# b, reading through fast meanwhile, takes less than half of that.  The
# precise rates are measured by bench/limits.sh.
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli sha256sum

start_redis
peers_ab
{
	ini_outlet slow "127.0.0.1:$REDIS_PORT" a
	echo "bytes_per_second_per_connection = 1048576"
	echo
	ini_outlet fast "127.0.0.1:$REDIS_PORT" b
	ini_outlet shared "127.0.0.1:$REDIS_PORT" a
	echo "bytes_per_second_per_peer = 1048576"
} >>"$WORK/out.ini"
inlet_node a slow shared
inlet_node b fast
start_node out "$WORK/out.ini"
start_node a "$WORK/a.ini"
start_node b "$WORK/b.ini"

MIB=8
head -c $((MIB * 1048576 / 2)) /dev/urandom | od -An -tx1 -v | tr -d ' \n' \
	>"$WORK/value"
want=$(sha256sum <"$WORK/value" | cut -d' ' -f1)
redis-cli -p "$REDIS_PORT" -x SET big <"$WORK/value" >/dev/null ||
	die "SET big failed"

# timed_get(port, name): GET big through the inlet on ${port}; writes
# $WORK/${name}.sum (the value's hash) and $WORK/${name}.ms.
timed_get()
{
	_t0=$(now_ms)
	timeout "$(slow_s 120)" redis-cli -p "$1" --raw GET big |
	    head -c $((MIB * 1048576)) | sha256sum | cut -d' ' -f1 \
	    >"$WORK/$2.sum"
	echo $(($(now_ms) - _t0)) >"$WORK/$2.ms"
}
timed_get "$P_a_slow" a &
get_a=$!
timed_get "$P_b_fast" b
wait "$get_a"
a_ms=$(cat "$WORK/a.ms")
b_ms=$(cat "$WORK/b.ms")
say "8 MiB: a (shaped, 1 MiB/s) ${a_ms} ms, b (unshaped, meanwhile) ${b_ms} ms"
[ "$(cat "$WORK/a.sum")" = "$want" ] || die "a's value differs"
[ "$(cat "$WORK/b.sum")" = "$want" ] || die "b's value differs"
# 8 MiB at 1 MiB/s after a 1 MiB burst: 7 s; half of it at least.
[ "$a_ms" -ge 3500 ] || die "a read 8 MiB in $a_ms ms: not shaped"
[ "$b_ms" -lt $((a_ms / 2)) ] ||
	die "b took $b_ms ms, a $a_ms ms: b did not get the rest"

# Per peer: two connections of a share 1 MiB/s.
timed_get "$P_a_shared" a1 &
get_a1=$!
timed_get "$P_a_shared" a2 &
get_a2=$!
timed_get "$P_b_fast" b2
wait "$get_a1"
wait "$get_a2"
a1_ms=$(cat "$WORK/a1.ms")
a2_ms=$(cat "$WORK/a2.ms")
b2_ms=$(cat "$WORK/b2.ms")
say "2 x 8 MiB: a (shaped to 1 MiB/s per peer) ${a1_ms} and ${a2_ms} ms, b ${b2_ms} ms"
for n in a1 a2 b2; do
	[ "$(cat "$WORK/$n.sum")" = "$want" ] || die "$n's value differs"
done
# 16 MiB at 1 MiB/s after a 1 MiB burst: 15 s for the later one; the two
# connections alone (1 MiB/s each) would finish in 7 s.
later=$a1_ms
[ "$a2_ms" -le "$later" ] || later=$a2_ms
[ "$later" -ge 10000 ] ||
	die "a read 2 x 8 MiB in $later ms: not shaped per peer"
[ "$b2_ms" -lt $((later / 2)) ] ||
	die "b took $b2_ms ms, a $later ms: b did not get the rest"
log_has "$WORK/out.log" event=audit decision=deny && die "a refusal"
log_has "$WORK/out.log" event=close role=outlet name=slow reason=eof ||
	wait_for_event "$WORK/out.log" 10 event=close role=outlet name=slow
say "ok"
