#!/bin/sh
# A reset (or close) on one side reaches the other side promptly.
# server-resets: the target reads 5 bytes and resets its connection; the
#   client must see EOF or a reset within 2 s, with no data.
# client-resets: the client gets "ok" and resets its connection; the
#   target must see EOF or a reset within 2 s.
# Asserts both, and that the nodes log a close event for each connection.
. "$(dirname "$0")/lib.sh"

TARGET_PORT=$(free_port)
tunnel reset "127.0.0.1:$TARGET_PORT"

closed_promptly()
{
	case $(field "$2" end) in
	eof|reset) ;;
	*) die "$1: not closed: $2" ;;
	esac
	secs_between "$(field "$2" secs)" 0 2 || die "$1: closed only after $(field "$2" secs) s"
	[ "$(field "$2" bytes)" = 0 ] || die "$1: data after the reset: $2"
}

for mode in server-resets client-resets; do
	rm -f "$WORK/server.ready"
	spawn "$WORK/server-$mode.out" netkit reset-server "127.0.0.1:$TARGET_PORT" \
		--mode $mode --timeout 10 --ready "$WORK/server.ready"
	server=$LAST_PID
	wait_for_file "$WORK/server.ready" 10
	c=$(netkit reset-client "$INLET" --mode $mode --timeout 10) ||
		die "$mode: client: $c"
	wait_exit "$server" 15 || die "$mode: server did not finish"
	[ "$EXIT_CODE" = 0 ] || die "$mode: server: $(cat "$WORK/server-$mode.out")"
	s=$(cat "$WORK/server-$mode.out")
	say "$mode: client: $c; server: $s"
	if [ $mode = server-resets ]; then
		closed_promptly "$mode (client side)" "$c"
	else
		closed_promptly "$mode (target side)" "$s"
	fi
done
wait_until 5 eval '[ "$(log_count "$WORK/out.log" event=close role=outlet)" -ge 2 ]' ||
	die "the outlet logged $(log_count "$WORK/out.log" event=close role=outlet) close events, want 2"
wait_until 5 eval '[ "$(log_count "$WORK/in.log" event=close role=inlet)" -ge 2 ]' ||
	die "the inlet logged $(log_count "$WORK/in.log" event=close role=inlet) close events, want 2"
say "ok"
