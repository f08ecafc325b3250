#!/bin/sh
# redis-server behind an outlet; redis-cli and redis-benchmark through the
# inlet.  Asserts: SET/GET of a small and a 1 MiB value round-trip, the
# benchmark completes its SET and GET runs with no error, and the outlet
# logged the allow audit line and carried connections (open/close events).
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli redis-benchmark

start_redis

tunnel redis "127.0.0.1:$REDIS_PORT"
cli()
{
	redis-cli -h 127.0.0.1 -p "$INLET_PORT" "$@"
}

# Small value.
[ "$(cli SET greeting hello-through-sallyport)" = OK ] || die "SET failed"
got=$(cli GET greeting)
[ "$got" = hello-through-sallyport ] || die "GET returned '$got'"

# A 1 MiB value (several records each way), compared by checksum.
head -c 1048576 /dev/urandom | od -An -tx1 -v | tr -d ' \n' | head -c 1048576 \
	>"$WORK/big.txt"
[ "$(cli -x SET big <"$WORK/big.txt")" = OK ] || die "SET big failed"
want=$(sha256sum <"$WORK/big.txt" | cut -d' ' -f1)
got=$(cli GET big | head -c 1048576 | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || die "1 MiB value differs after the round trip"
[ "$(cli STRLEN big)" = 1048576 ] || die "STRLEN big is $(cli STRLEN big)"

# redis-benchmark: 2000 requests of SET and GET, 50 clients by default.
redis-benchmark -h 127.0.0.1 -p "$INLET_PORT" -q -n 2000 -t set,get \
	>"$WORK/bench.out" 2>&1 || { cat "$WORK/bench.out" >&2; die "redis-benchmark failed"; }
tr '\r' '\n' <"$WORK/bench.out" | grep -E '^(SET|GET):.*requests per second' >&2 ||
	{ cat "$WORK/bench.out" >&2; die "redis-benchmark printed no results"; }
for t in SET GET; do
	tr '\r' '\n' <"$WORK/bench.out" | grep -q "^$t: .*requests per second" ||
		die "no $t result from redis-benchmark"
done
if grep -qi 'error' "$WORK/bench.out"; then
	cat "$WORK/bench.out" >&2
	die "redis-benchmark reported errors"
fi

log_has "$WORK/out.log" event=audit decision=allow role=outlet service=redis \
	"peer=$IN_ID" || die "no allow audit line on the outlet"
log_has "$WORK/out.log" event=open role=outlet || die "no open event on the outlet"
wait_for_event "$WORK/out.log" 5 event=close role=outlet
say "ok"
