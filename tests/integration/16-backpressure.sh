#!/bin/sh
# Backpressure: a target that does not read slows the client down instead
# of growing the nodes' memory.  The client pushes 256 MiB at a target that
# reads nothing until told to.  Asserts: the client's sending stalls (no
# progress for 1 s) after less than 128 MiB (kernel socket buffers plus the
# nodes' bounded buffers), each node's RSS grew by less than 4 MiB while
# stalled, and once the target reads, all 256 MiB arrive intact (SHA-256).
. "$(dirname "$0")/lib.sh"

SIZE=268435456
TARGET_PORT=$(free_port)
spawn "$WORK/sink.out" netkit slow-sink "127.0.0.1:$TARGET_PORT" \
	--go "$WORK/go" --timeout 60 --ready "$WORK/sink.ready"
sink=$LAST_PID
wait_for_file "$WORK/sink.ready" 10
tunnel sink "127.0.0.1:$TARGET_PORT"

rss_kib()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
rss_in=$(rss_kib "$PID_in")
rss_out=$(rss_kib "$PID_out")

spawn "$WORK/push.out" netkit push "$INLET" --size $SIZE --seed 5 \
	--stalled "$WORK/stalled" --timeout 60
push=$LAST_PID
wait_for_file "$WORK/stalled" 30
stalled=$(sed -n 's/^stalled=//p' "$WORK/stalled")
grow_in=$(($(rss_kib "$PID_in") - rss_in))
grow_out=$(($(rss_kib "$PID_out") - rss_out))
say "stalled after $stalled bytes; RSS growth: inlet ${grow_in} KiB, outlet ${grow_out} KiB"
[ "$stalled" -lt 134217728 ] || die "the client could push $stalled bytes into a stalled tunnel"
[ "$grow_in" -lt 4096 ] || die "the inlet node grew by ${grow_in} KiB while stalled"
[ "$grow_out" -lt 4096 ] || die "the outlet node grew by ${grow_out} KiB while stalled"

touch "$WORK/go"
wait_exit "$push" 60 || die "the push did not finish once the target read"
[ "$EXIT_CODE" = 0 ] || die "push: $(cat "$WORK/push.out")"
wait_exit "$sink" 30 || die "the sink did not finish"
[ "$EXIT_CODE" = 0 ] || die "sink: $(cat "$WORK/sink.out")"
p=$(cat "$WORK/push.out")
k=$(cat "$WORK/sink.out")
[ "$(field "$k" recv_bytes)" = $SIZE ] || die "the target got $(field "$k" recv_bytes) of $SIZE bytes"
[ "$(field "$p" sent)" = "$(field "$k" recv)" ] || die "the data differs (SHA-256)"
say "ok"
