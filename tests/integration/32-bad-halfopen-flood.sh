#!/bin/sh
# Bad peers: 1,000 idle half-open handshakes against the outlet node (from
# 127.0.0.2; 500 send nothing, 500 send the start of a handshake message:
# a frame length announcing 32 bytes and 3 of them)
# held open while a real client (from 127.0.0.1) uses the tunnel.
# Asserts: the real client's 5 connections get through intact within 15 s
# while the flood is held, the node stays up, and still serves after the
# flood is gone.
. "$(dirname "$0")/lib.sh"

python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0))' \
	2>/dev/null || skip "cannot bind 127.0.0.2"
TARGET_PORT=$(free_port)
start_echo "127.0.0.1:$TARGET_PORT"
tunnel echo "127.0.0.1:$TARGET_PORT" "handshake_timeout = 30"
NODE="127.0.0.1:$NODE_PORT"

spawn "$WORK/flood1.out" netkit hold "$NODE" --count 500 --source 127.0.0.2 \
	--timeout 20 --hold 60 --ready "$WORK/flood1.ready"
flood1=$LAST_PID
spawn "$WORK/flood2.out" netkit hold "$NODE" --count 500 --source 127.0.0.2 \
	--send-hex 0020010203 --timeout 20 --hold 60 --ready "$WORK/flood2.ready"
flood2=$LAST_PID
wait_for_file "$WORK/flood1.ready" 30
wait_for_file "$WORK/flood2.ready" 30
say "flood: $(cat "$WORK/flood1.ready"); $(cat "$WORK/flood2.ready")"
held=$(($(field "$(cat "$WORK/flood1.ready")" held) + \
	$(field "$(cat "$WORK/flood2.ready")" held)))
[ "$held" -ge 1000 ] || say "note: only $held of 1000 flood connections completed"

res=$(netkit echo-check "$INLET" --count 5 --size 65536 --timeout 15) ||
	die "real client during the flood: $res"
say "real client during the flood: $res"
proc_alive "$PID_out" || die "the outlet node died under the flood"

stop_pid "$flood1"
stop_pid "$flood2"
forget_pid "$flood1"
forget_pid "$flood2"
res=$(netkit echo-check "$INLET" --count 5 --size 65536 --timeout 15) ||
	die "real client after the flood: $res"
say "refuse events: $(log_count "$WORK/out.log" event=refuse); drop events: $(log_count "$WORK/out.log" event=drop)"
say "ok"
