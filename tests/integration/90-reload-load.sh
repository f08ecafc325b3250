#!/bin/sh
# Reload under load (issue 8 part 2): redis-benchmark (20 clients,
# pipelined -P 16, SET and GET) runs through inlet and outlet while each of
# the two nodes is sent 50 SIGHUPs, alternating two valid configurations
# (idle_timeout 600 or 900; the second also names one more, unused peer).
# Each SIGHUP waits for the previous reload's result line.
# Asserts: every benchmark run ends with status 0 and no error; each node
# logged exactly 50 `event=reload status=ok` (no failed one), each with
# identity=kept revoked=0 and a growing generation, and 50 `reload-change
# kind=node change=changed` lines; nothing was refused or dropped (no
# event=refuse, event=backlog, event=drop role=inlet, close reason=revoked);
# both listeners kept their socket (same inode before and after).
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli redis-benchmark ss

start_redis

tunnel redis "127.0.0.1:$REDIS_PORT" "idle_timeout = 600"
SPARE_ID=$(make_identity spare)
for n in out in; do
	cp "$WORK/$n.ini" "$WORK/$n-a.ini"
	sed -e 's/^idle_timeout = 600$/idle_timeout = 900/' \
	    -e "/^\[peers\]\$/a spare = $SPARE_ID" "$WORK/$n.ini" >"$WORK/$n-b.ini"
	cmp -s "$WORK/$n-a.ini" "$WORK/$n-b.ini" && die "variants of $n are equal"
	"$SALLYPORT" check "$WORK/$n-b.ini" >/dev/null ||
		die "variant b of $n.ini is not valid"
done
ino_inlet=$(listen_inode "$INLET_PORT")
ino_node=$(listen_inode "$NODE_PORT")
[ -n "$ino_inlet" ] && [ -n "$ino_node" ] || die "listener inodes not found"

ROUND=0
start_bench()
{
	ROUND=$((ROUND + 1))
	spawn "$WORK/bench$ROUND.out" redis-benchmark -h 127.0.0.1 \
	    -p "$INLET_PORT" -c 20 -P 16 -n 200000 -t set,get -q
	BENCH=$LAST_PID
}
check_bench()
{
	_o="$WORK/bench$ROUND.out"
	wait_exit "$BENCH" 300 || die "redis-benchmark run $ROUND did not end"
	[ "$EXIT_CODE" = 0 ] ||
		{ cat "$_o" >&2; die "redis-benchmark run $ROUND exited $EXIT_CODE"; }
	if grep -qi 'error' "$_o"; then
		cat "$_o" >&2
		die "redis-benchmark run $ROUND reported errors"
	fi
	for t in SET GET; do
		tr '\r' '\n' <"$_o" | grep -q "^$t: .*requests per second" ||
			{ cat "$_o" >&2; die "run $ROUND: no $t result"; }
	done
	say "benchmark run $ROUND: $(tr '\r' '\n' <"$_o" | grep -E '^(SET|GET):' | tr '\n' ' ')"
}

start_bench
i=0
while [ "$i" -lt 50 ]; do
	i=$((i + 1))
	v=b
	[ $((i % 2)) = 0 ] && v=a
	for n in out in; do
		put_file "$WORK/$n-$v.ini" "$WORK/$n.ini"
		reload_node "$n"
	done
	# Keep the load up for every reload: a finished run is checked and
	# the next one started.
	if proc_gone "$BENCH"; then
		check_bench
		start_bench
	fi
done
proc_alive "$BENCH" || say "the last benchmark run ended with the reloads"
check_bench
say "100 reloads under $ROUND benchmark runs"

for n in out in; do
	f="$WORK/$n.log"
	c=$(log_count "$f" event=reload status=ok)
	[ "$c" = 50 ] || die "$n: $c reloads with status=ok, not 50"
	c=$(log_count "$f" event=reload status=failed)
	[ "$c" = 0 ] || die "$n: $c failed reloads"
	c=$(log_count "$f" event=reload status=ok identity=kept revoked=0)
	[ "$c" = 50 ] || die "$n: $c of 50 reloads say identity=kept revoked=0"
	c=$(log_count "$f" event=reload-change kind=node change=changed)
	[ "$c" = 50 ] || die "$n: $c reload-change kind=node lines, not 50"
	grep 'event=reload ' "$f" | grep -o 'generation=[0-9]*' |
	    cut -d= -f2 | awk 'NR > 1 && $1 <= p { exit 1 } { p = $1 }' ||
		die "$n: reload generations do not grow"
	for ev in event=refuse event=backlog; do
		log_has "$f" "$ev" && die "$n logged $ev: $(grep -m1 "$ev" "$f")"
	done
	log_has "$f" event=close reason=revoked && die "$n revoked a connection"
done
log_has "$WORK/in.log" event=drop role=inlet &&
	die "the inlet dropped a client: $(grep -m1 'event=drop' "$WORK/in.log")"
[ "$(listen_inode "$INLET_PORT")" = "$ino_inlet" ] ||
	die "the inlet's listener was re-opened ($ino_inlet -> $(listen_inode "$INLET_PORT"))"
[ "$(listen_inode "$NODE_PORT")" = "$ino_node" ] ||
	die "the node listener was re-opened ($ino_node -> $(listen_inode "$NODE_PORT"))"
say "ok: 50+50 reloads, $ROUND benchmark runs without error"
