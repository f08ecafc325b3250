#!/bin/sh
# Unix sockets: the inlet listens on unix:$WORK/inlet.sock and the outlet's
# target is unix:$WORK/target.sock.  Asserts: 20 concurrent connections of
# 128 KiB each are echoed intact and half-close works over unix sockets
# (both directions, 1 MiB each).
. "$(dirname "$0")/lib.sh"

start_echo "unix:$WORK/target.sock"
ECHO_PID=$LAST_PID
tunnel echo "unix:$WORK/target.sock"
# tunnel() made a TCP inlet; add a unix one on a second inlet node config.
{
	ini_node "$WORK/in.key"
	ini_peers server "$OUT_ID"
	ini_inlet echo "unix:$WORK/inlet.sock" "server@127.0.0.1:$NODE_PORT"
} >"$WORK/inu.ini"
start_node inu "$WORK/inu.ini"
[ -S "$WORK/inlet.sock" ] || die "no unix socket at $WORK/inlet.sock"

res=$(netkit echo-check "unix:$WORK/inlet.sock" --count 20 --size 131072 \
	--timeout 20) || die "$res"
say "$res"

# Half-close through unix sockets at both ends: the half-close server
# takes the echo server's place at the target path.
stop_pid "$ECHO_PID"
forget_pid "$ECHO_PID"
for mode in client-first server-first; do
	rm -f "$WORK/hc.ready"
	spawn "$WORK/hc-$mode.out" netkit halfclose-server "unix:$WORK/target.sock" \
		--mode $mode --send-seed 2 --expect-seed 1 --timeout 20 \
		--ready "$WORK/hc.ready"
	hc=$LAST_PID
	wait_for_file "$WORK/hc.ready" 10
	netkit halfclose-client "unix:$WORK/inlet.sock" --mode $mode \
		--send-seed 1 --expect-seed 2 --timeout 20 >"$WORK/hcc-$mode.out" ||
		die "$mode: $(cat "$WORK/hcc-$mode.out")"
	wait_exit "$hc" 20 || die "$mode: server did not finish"
	[ "$EXIT_CODE" = 0 ] || die "$mode: server: $(cat "$WORK/hc-$mode.out")"
	say "$(cat "$WORK/hcc-$mode.out")"
done
say "ok"
