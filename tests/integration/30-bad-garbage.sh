#!/bin/sh
# Bad peers: raw TCP clients sending garbage to the outlet node's port
# (64 KiB random, 4 KiB of 0xff, a burst of zeros then FIN, a
# length-prefix-looking header claiming 64 KiB).  Asserts: each garbage
# connection is closed by the node within the handshake timeout (3 s here)
# plus slack, each is logged as event=drop, the node frees their fds, stays
# up, and a real client still gets through afterwards.
. "$(dirname "$0")/lib.sh"

TARGET_PORT=$(free_port)
start_echo "127.0.0.1:$TARGET_PORT"
tunnel echo "127.0.0.1:$TARGET_PORT" "handshake_timeout = 3"
NODE="127.0.0.1:$NODE_PORT"
fds=$(fd_count "$PID_out")

n=0
for shape in "--send-random 65536" "--send-hex $(printf 'ff%.0s' $(seq 1 4096))" \
    "--send-zero 200 --shut" "--send-hex ffff0001020304050607"; do
	# shellcheck disable=SC2086
	r=$(netkit probe "$NODE" $shape --seed $n --timeout 8)
	n=$((n + 1))
	say "garbage #$n: $r"
	case $(field "$r" end) in
	eof|reset) ;;
	*) die "garbage #$n: the node did not close the connection: $r" ;;
	esac
done
proc_alive "$PID_out" || die "the outlet node died"
wait_until 5 eval '[ "$(log_count "$WORK/out.log" event=drop)" -ge $n ]' ||
	die "$(log_count "$WORK/out.log" event=drop) drop events for $n garbage connections"
fds_back_to "$PID_out" "$fds" 5 ||
	die "the node holds $(fd_count "$PID_out") fds, $fds before the garbage"
[ "$(log_count "$WORK/out.log" event=audit)" = 0 ] ||
	die "garbage reached an access decision"

res=$(netkit echo-check "$INLET" --count 3 --size 65536 --timeout 10) ||
	die "real client after garbage: $res"
say "real client: $res"
say "ok"
