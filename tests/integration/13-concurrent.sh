#!/bin/sh
# 200 concurrent connections through one inlet to an echo target, each
# sending 256 KiB of its own data and shutting down its write side; asserts
# every connection gets its own bytes back intact, and that the target saw
# 200 connections.
. "$(dirname "$0")/lib.sh"

N=200
TARGET_PORT=$(free_port)
start_echo "127.0.0.1:$TARGET_PORT" "$WORK/accepts.log"
tunnel echo "127.0.0.1:$TARGET_PORT"

res=$(netkit echo-check "$INLET" --count $N --size 262144 --seed 7 \
	--timeout 50) || die "$res"
say "$res"
[ "$(field "$res" ok)" = $N ] || die "only $(field "$res" ok) of $N connections intact"
[ "$(wc -l <"$WORK/accepts.log")" = $N ] ||
	die "the target saw $(wc -l <"$WORK/accepts.log") connections, not $N"
say "ok"
