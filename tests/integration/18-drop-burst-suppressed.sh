#!/bin/sh
# The tail of a burst of drops is reported (issue 14, part 3;
# docs/logging.md, event=suppressed).  200 garbage connections at once to
# an outlet node (a length prefix over the limit: drop reason=EFRAME each).
# "drop" lines are limited to 20 a second, so most are left out; asserts:
#   - the lines left out are reported by an event=suppressed kind=drop line
#     soon after the burst's end (its timer ticks each second; the test
#     waits 5 s, stretched by $SLOW), not only with the next drop line:
#     no drop comes after the burst;
#   - drop lines + their suppressed=N + the event=suppressed counts add up
#     to the 200 drops, and so does the metric
#     sallyport_handshake_failures_total{role="outlet",reason="EFRAME"}.
. "$(dirname "$0")/lib.sh"
need curl

N=200
TARGET_PORT=$(free_port)
NODE_PORT=$(free_port)
ADMIN=$(free_port)
NODE="127.0.0.1:$NODE_PORT"
OUT_ID=$(make_identity out)
IN_ID=$(make_identity in)
{
	ini_node "$WORK/out.key" "$NODE" "admin = 127.0.0.1:$ADMIN"
	ini_peers client "$IN_ID"
	ini_outlet echo "127.0.0.1:$TARGET_PORT" client
} >"$WORK/out.ini"
start_node out "$WORK/out.ini"

# counted(): drops accounted for in the log so far (printed lines, the
# suppressed=N they carry, the event=suppressed kind=drop lines).
counted()
{
	awk '/event=drop / && / reason=EFRAME/ { n++ }
	    /event=drop / { for (i = 1; i <= NF; i++)
		if ($i ~ /^suppressed=/) { sub(/^suppressed=/, "", $i); n += $i } }
	    /event=suppressed / && / kind=drop / { for (i = 1; i <= NF; i++)
		if ($i ~ /^suppressed=/) { sub(/^suppressed=/, "", $i); n += $i } }
	    END { print n + 0 }' "$WORK/out.log"
}
all_counted() { [ "$(counted)" -ge "$N" ]; }

r=$(netkit burst "$NODE" --count "$N" --send-hex ffff0001020304050607 \
    --expect-hex 00 --timeout 20) || true
t_end=$(now_ms)
say "burst: $r"
# Every connection ended (closed by the node) before burst returned.
[ "$(field "$r" timeout)" = 0 ] || die "some garbage connections were not closed: $r"
wait_until 5 all_counted || true
t_all=$(now_ms)
printed=$(log_count "$WORK/out.log" event=drop reason=EFRAME)
say "drops accounted for: $(counted) of $N ($printed lines printed) $((t_all - t_end)) ms after the burst's end"
grep 'event=suppressed' "$WORK/out.log" | sed 's/^/  /' >&2 || true
log_has "$WORK/out.log" event=suppressed kind=drop ||
	die "no event=suppressed kind=drop line"
[ "$printed" -lt "$N" ] || die "no drop line was suppressed: the test is too small"
[ "$(counted)" -eq "$N" ] ||
	die "the log accounts for $(counted) drops, not $N"
m=$(curl -fsS "http://127.0.0.1:$ADMIN/metrics" |
	awk 'index($0, "sallyport_handshake_failures_total{role=\"outlet\",reason=\"EFRAME\"} ") == 1 { print $2 }')
say "metric handshake_failures_total{outlet,EFRAME} = $m"
[ "$m" = "$N" ] || die "the metric counts $m drops, not $N"
say "ok"
