#!/bin/sh
# Pre-auth flood from the legitimate client's own address (issue 12, part
# 3): 1,000 idle connections and 200 garbage ones (100 send the start of
# a handshake frame and stall, 100 send a whole bogus msg1 and then
# nothing) from 127.0.0.1, the inlet's address, kept open: every one the
# node closes is reopened at once (netkit hold --refill).  max_handshakes
# is the default 256, so the flood alone is five times the limit.
# Asserts, for 5 tunneled connections made one after another under the
# flood: each completes, and the inlet's setup_ms (from the client's
# connect at the inlet to the open tunnel: dial, the wait in the node's
# listen backlog, the handshake) is under 1000 every time (times $SLOW:
# lib.sh, timed_clients; bench/timing.sh measures the goal); the node's
# VmRSS under the flood stays under 32 MiB (docs/security.md).
. "$(dirname "$0")/lib.sh"

TARGET_PORT=$(free_port)
start_echo "127.0.0.1:$TARGET_PORT"
tunnel echo "127.0.0.1:$TARGET_PORT" "handshake_timeout = 30" \
	"max_handshakes = 256"
NODE="127.0.0.1:$NODE_PORT"
RSS_MAX_KB=32768
# A sanitizer build keeps up to 256 MiB of freed memory in quarantine
# (ASan's default quarantine_size_mb): that much more room.
[ -z "$SANITIZED" ] || RSS_MAX_KB=$((RSS_MAX_KB + 262144))

# A bogus msg1: a frame of 32 bytes (any 32 bytes are an X25519 key).
MSG1=0020$(python3 -c 'import os; print(os.urandom(32).hex())')
spawn "$WORK/idle.out" netkit hold "$NODE" --count 1000 --source 127.0.0.1 \
	--refill --timeout 20 --hold 120 --ready "$WORK/idle.ready"
f1=$LAST_PID
spawn "$WORK/part.out" netkit hold "$NODE" --count 100 --source 127.0.0.1 \
	--refill --send-hex 0020010203 --timeout 20 --hold 120 \
	--ready "$WORK/part.ready"
f2=$LAST_PID
spawn "$WORK/msg1.out" netkit hold "$NODE" --count 100 --source 127.0.0.1 \
	--refill --send-hex "$MSG1" --timeout 20 --hold 120 \
	--ready "$WORK/msg1.ready"
f3=$LAST_PID
for f in idle part msg1; do
	wait_for_file "$WORK/$f.ready" 60
	say "flood $f: $(cat "$WORK/$f.ready")"
done
# The flood is at the limit once the node paused accepting (backlog) or
# evicted a handshake to make room: which one depends on how fast the
# machine works through the backlog, so either will do.
at_limit()
{
	log_has "$WORK/out.log" event=backlog ||
		log_has "$WORK/out.log" reason=handshake-evicted
}
wait_until 10 at_limit ||
	die "timed out waiting for the flood to reach max_handshakes"

timed_clients 5 "$INLET" "$WORK/in.log" "$PID_out" "$RSS_MAX_KB"
proc_alive "$PID_out" || die "the outlet node died under the flood"
say "evicted: $(grep -c 'reason=handshake-evicted' "$WORK/out.log" || true) (drop lines are rate limited)"
for p in $f1 $f2 $f3; do
	stop_pid "$p"
	forget_pid "$p"
done
say "flood: $(tail -n 1 "$WORK/idle.out"); $(tail -n 1 "$WORK/part.out"); $(tail -n 1 "$WORK/msg1.out")"
say "ok"
