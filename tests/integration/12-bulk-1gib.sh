#!/bin/sh
# 1 GiB of random data each way, at the same time, through one tunneled
# connection.  Both ends hash what they send and what they receive; asserts
# that each side received exactly what the other sent (SHA-256 and length)
# and that both nodes' close events count the bytes of both directions.
# SP_BULK_BYTES overrides the size (default 1 GiB).
. "$(dirname "$0")/lib.sh"

SIZE=${SP_BULK_BYTES:-1073741824}
TARGET_PORT=$(free_port)
spawn "$WORK/server.out" netkit bulk-server "127.0.0.1:$TARGET_PORT" \
	--size "$SIZE" --seed 11 --timeout 300 --ready "$WORK/server.ready"
SERVER_PID=$LAST_PID
wait_for_file "$WORK/server.ready" 10

tunnel bulk "127.0.0.1:$TARGET_PORT"

start=$(date +%s)
netkit bulk-client "$INLET" --size "$SIZE" --seed 22 --timeout 300 \
	>"$WORK/client.out" || die "bulk client failed: $(cat "$WORK/client.out")"
wait_exit "$SERVER_PID" 30 || die "bulk server did not finish"
[ "$EXIT_CODE" = 0 ] || die "bulk server failed: $(cat "$WORK/server.out")"
secs=$(($(date +%s) - start))

client=$(cat "$WORK/client.out")
server=$(cat "$WORK/server.out")
say "client: $client"
say "server: $server"
[ "$(field "$client" recv_bytes)" = "$SIZE" ] ||
	die "client received $(field "$client" recv_bytes) of $SIZE bytes"
[ "$(field "$server" recv_bytes)" = "$SIZE" ] ||
	die "server received $(field "$server" recv_bytes) of $SIZE bytes"
[ "$(field "$client" sent)" = "$(field "$server" recv)" ] ||
	die "client-to-server stream differs (SHA-256)"
[ "$(field "$server" sent)" = "$(field "$client" recv)" ] ||
	die "server-to-client stream differs (SHA-256)"
# Both directions carried SIZE bytes, so each node's close event must
# count SIZE in and SIZE out, whichever way it names them.
for n in out in; do
	wait_for_event "$WORK/$n.log" 5 event=close "bytes_in=$SIZE" "bytes_out=$SIZE"
done
say "ok: $SIZE bytes each way in ${secs}s"
