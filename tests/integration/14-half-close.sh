#!/bin/sh
# Half-close carried across the tunnel, in both directions.
# client-first: the client sends 1 MiB and shuts down its write side; the
#   server answers only after it read EOF, then closes; the client must
#   read the whole answer.
# server-first: the server sends 1 MiB and shuts down its write side; the
#   client reads to EOF first, then sends 1 MiB over the still-open
#   direction and shuts down; the server must read it all.
# Asserts both sides received exactly the expected bytes (SHA-256).
. "$(dirname "$0")/lib.sh"

TARGET_PORT=$(free_port)
tunnel halfclose "127.0.0.1:$TARGET_PORT"

for mode in client-first server-first; do
	rm -f "$WORK/server.ready"
	spawn "$WORK/server-$mode.out" netkit halfclose-server \
		"127.0.0.1:$TARGET_PORT" --mode $mode --send-seed 2 \
		--expect-seed 1 --timeout 20 --ready "$WORK/server.ready"
	server=$LAST_PID
	wait_for_file "$WORK/server.ready" 10
	netkit halfclose-client "$INLET" --mode $mode --send-seed 1 \
		--expect-seed 2 --timeout 20 >"$WORK/client-$mode.out" ||
		die "$mode: client: $(cat "$WORK/client-$mode.out")"
	wait_exit "$server" 20 || die "$mode: server did not finish"
	[ "$EXIT_CODE" = 0 ] ||
		die "$mode: server: $(cat "$WORK/server-$mode.out")"
	say "$(cat "$WORK/client-$mode.out"); $(cat "$WORK/server-$mode.out")"
done
say "ok"
