#!/bin/sh
# Pre-auth flood at a relay from many addresses (issue 12, part 3), on
# loopback: inlet -> relay hub -> outlet (registered over its session).
# 4,400 idle connections from 127.0.0.2 to 127.0.0.5 (1,100 each: far more
# than the relay's max_handshakes, 256, which bounds its connections
# waiting for their first bytes and its handshakes together) and 200
# garbage ones from 127.0.0.1, the inlet's own address (100 stall inside a
# data-connection preamble, 100 inside a handshake frame), all kept open:
# every one the relay closes is reopened at once (netkit hold --refill).
# Asserts, for 5 tunneled connections made one after another under the
# flood: each completes, and the inlet's setup_ms (connect at the inlet to
# the open tunnel, through the relay) is under 1000 every time (times
# $SLOW: lib.sh, timed_clients); the relay's
# VmRSS under the flood stays under 96 MiB (docs/security.md).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=relaylib.sh
. "$top_srcdir/tests/integration/relaylib.sh"

for a in 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5; do
	python3 -c "import socket; socket.socket().bind(('$a', 0))" \
		2>/dev/null || skip "cannot bind $a"
done
RSS_MAX_KB=98304
# A sanitizer build keeps up to 256 MiB of freed memory in quarantine
# (ASan's default quarantine_size_mb): that much more room.
[ -z "$SANITIZED" ] || RSS_MAX_KB=$((RSS_MAX_KB + 262144))
relay_loopback "handshake_timeout = 30"

pids=""
for a in 2 3 4 5; do
	spawn "$WORK/idle$a.out" netkit hold "$RELAY" --count 1100 \
		--source "127.0.0.$a" --refill --timeout 20 --hold 180 \
		--ready "$WORK/idle$a.ready"
	pids="$pids $LAST_PID"
done
spawn "$WORK/pre.out" netkit hold "$RELAY" --count 100 --source 127.0.0.1 \
	--refill --send-hex 43000102030405060708 --timeout 20 --hold 180 \
	--ready "$WORK/pre.ready"
pids="$pids $LAST_PID"
spawn "$WORK/hs.out" netkit hold "$RELAY" --count 100 --source 127.0.0.1 \
	--refill --send-hex 0020010203 --timeout 20 --hold 180 \
	--ready "$WORK/hs.ready"
pids="$pids $LAST_PID"
for f in idle2 idle3 idle4 idle5 pre hs; do
	wait_for_file "$WORK/$f.ready" 90
	say "flood $f: $(cat "$WORK/$f.ready")"
done

timed_clients 5 "$INLET" "$WORK/app.log" "$PID_hub" "$RSS_MAX_KB"
proc_alive "$PID_hub" || die "the relay died under the flood"
for p in $pids; do
	stop_pid "$p"
	forget_pid "$p"
done
say "ok"
