#!/bin/sh
# Bad peers that stall mid-handshake (handshake_timeout = 2):
#  - a client connecting to the outlet node and sending nothing;
#  - one sending the start of a handshake message (a 2-byte frame length
#    announcing 32 bytes, then 10 of them), then nothing;
#  - a fake "outlet" that accepts the inlet's channel and never answers
#    (the inlet must give up and close its client).
# Asserts: each is closed between 1.5 s and 6 s (times $SLOW: a loaded
# machine; a stall nobody ends outlives the probe) after it stalled, the
# outlet logs event=drop reason=handshake-timeout for the first two, both
# nodes free their fds, and a real client still gets through.
. "$(dirname "$0")/lib.sh"

TARGET_PORT=$(free_port)
start_echo "127.0.0.1:$TARGET_PORT"
tunnel echo "127.0.0.1:$TARGET_PORT" "handshake_timeout = 2"
NODE="127.0.0.1:$NODE_PORT"
fds=$(fd_count "$PID_out")

check_stalled()
{
	say "$1: $2"
	case $(field "$2" end) in
	eof|reset) ;;
	*) die "$1: not closed: $2" ;;
	esac
	secs_between "$(field "$2" secs)" 1.5 "$(slow_s 6)" ||
		die "$1: closed after $(field "$2" secs) s, want ~2 s"
}

# Both stalls at once, so the test waits for one timeout, not two.
spawn "$WORK/silent.out" netkit probe "$NODE" --timeout "$(slow_s 10)"
silent=$LAST_PID
r=$(netkit probe "$NODE" --send-hex 00200a0b0c0d0e0f10111213 \
    --timeout "$(slow_s 10)")
check_stalled "partial handshake" "$r"
wait_exit "$silent" 10 || die "silent probe did not finish"
check_stalled "silent client" "$(cat "$WORK/silent.out")"
wait_until 5 eval '[ "$(log_count "$WORK/out.log" event=drop reason=handshake-timeout)" -ge 2 ]' ||
	die "no event=drop reason=handshake-timeout for the two stalled clients"
fds_back_to "$PID_out" "$fds" 5 ||
	die "the outlet node holds $(fd_count "$PID_out") fds, $fds before"

# A silent outlet: the inlet's own handshake must time out.
MUTE_PORT=$(free_port)
MUTE_INLET=$(free_port)
accept_log "mute" "127.0.0.1:$MUTE_PORT" "$WORK/mute-accepts.log"
{
	ini_node "$WORK/in.key" "" "handshake_timeout = 2"
	ini_peers server "$OUT_ID"
	ini_inlet mute "127.0.0.1:$MUTE_INLET" "server@127.0.0.1:$MUTE_PORT"
} >"$WORK/in2.ini"
start_node in2 "$WORK/in2.ini"
fds2=$(fd_count "$PID_in2")
r=$(netkit probe "127.0.0.1:$MUTE_INLET" --send-hex 50494e470d0a \
    --timeout "$(slow_s 10)")
check_stalled "silent outlet" "$r"
[ "$(field "$r" bytes)" = 0 ] || die "silent outlet: the client received data"
fds_back_to "$PID_in2" "$fds2" 5 ||
	die "the inlet node holds $(fd_count "$PID_in2") fds, $fds2 before"

proc_alive "$PID_out" || die "the outlet node died"
res=$(netkit echo-check "$INLET" --count 3 --size 65536 \
    --timeout "$(slow_s 10)") ||
	die "real client after the stalls: $res"
say "real client: $res"
say "ok"
