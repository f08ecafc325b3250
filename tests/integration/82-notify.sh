#!/bin/sh
# systemd notify protocol (Type=notify, docs/config.md): a python3 unix
# datagram socket plays systemd's NOTIFY_SOCKET.  Asserts READY=1 once
# every listener is bound (the inlet port accepts by then), WATCHDOG=1
# when WATCHDOG_USEC is set, STOPPING=1 on SIGTERM after READY=1; and,
# under JOURNAL_STREAM naming stderr, "<N>" priority prefixes on the lines.
. "$(dirname "$0")/lib.sh"

spawn "$WORK/notify.out" python3 "$top_srcdir/tests/helpers/notify_sock.py" \
	"$WORK/notify.sock" "$WORK/notify.log" "$WORK/notify.ready"
wait_for_file "$WORK/notify.ready" 10

OUT_ID=$(make_identity out)
make_identity in >/dev/null
INLET_PORT=$(free_port)
{
	ini_node "$WORK/in.key"
	ini_peers server "$OUT_ID"
	ini_inlet db "127.0.0.1:$INLET_PORT" "server@127.0.0.1:$(free_port)"
} >"$WORK/in.ini"

# stderr goes to in.log: JOURNAL_STREAM names that very file.
: >"$WORK/in.log"
JS=$(stat -L -c '%d:%i' "$WORK/in.log")
spawn "$WORK/in.log" env NOTIFY_SOCKET="$WORK/notify.sock" \
	WATCHDOG_USEC=200000 JOURNAL_STREAM="$JS" "$SALLYPORT" run "$WORK/in.ini"
NODE_LOGS="$NODE_LOGS $WORK/in.log"
PID=$LAST_PID
wait_for_log "$WORK/notify.log" READY=1 10
need ss
port_listening "$INLET_PORT" || die "READY=1 before the inlet listened"
wait_for_log "$WORK/notify.log" WATCHDOG=1 10 3
grep -q '^<6>sallyport: level=info event=ready' "$WORK/in.log" ||
	die "no <6> priority prefix on event=ready under JOURNAL_STREAM"
kill -TERM "$PID"
wait_for_log "$WORK/notify.log" STOPPING=1 10
wait_exit "$PID" 10 || die "the node did not exit after SIGTERM"
forget_pid "$PID"
# The order: READY=1 before STOPPING=1.
r=$(grep -n 'READY=1' "$WORK/notify.log" | head -n 1 | cut -d: -f1)
s=$(grep -n 'STOPPING=1' "$WORK/notify.log" | head -n 1 | cut -d: -f1)
[ "$r" -lt "$s" ] || die "STOPPING=1 came before READY=1"

# Without JOURNAL_STREAM (or with another stream) no prefix.
: >"$WORK/plain.log"
spawn "$WORK/plain.log" env NOTIFY_SOCKET="$WORK/notify.sock" \
	JOURNAL_STREAM=1:1 "$SALLYPORT" run "$WORK/in.ini"
PID=$LAST_PID
wait_for_log "$WORK/plain.log" event=ready 10
grep -q '^sallyport: level=info event=ready' "$WORK/plain.log" ||
	die "a prefix without the journal"
say "ok"
