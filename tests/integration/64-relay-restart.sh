#!/bin/sh
# Kill the relay (SIGKILL) in the middle of a transfer, then restart it.
#   - the transfer fails cleanly: the client is closed within 5 s, and what
#     came back is an exact prefix of what it sent (never altered bytes);
#   - the outlet re-registers on its own (a new allow audit at the relay);
#   - a new connection works soon after the relay's return: the outlet's
#     backoff is at most 5 s; the test allows 15 s, stretched by $SLOW (a
#     loaded machine, ASan), and bench/timing.sh measures the time itself.
. "$top_srcdir/tests/integration/relaylib.sh"

relay3_net
relay3_configs
start_echo_in server "$TARGET_PORT"
relay3_start
wait_tunnel 10

# 64 MiB echoed, paced over 10 s; the relay dies once 4 MiB came back.
ns_spawn client "$WORK/prefix.out" python3 "$NETKIT" echo-prefix "$INLET" \
    --size 67108864 --seed 7 --pace 10 --progress 4194304 --timeout 30
CLIENT=$LAST_PID
wait_for_log "$WORK/prefix.out" '^progress' 15
regs=$(log_count "$WORK/hub.log" event=audit decision=allow reason=registered \
    "peer=$DB_ID" service=postgres)
say "killing the relay mid-transfer ($(cat "$WORK/prefix.out"))"
t_kill=$(now_ms)
stop_pid "$PID_hub" KILL
forget_pid "$PID_hub"
wait_exit "$CLIENT" 5 ||
	die "the client was not closed within $(slow_s 5) s of the relay's death"
t_closed=$(now_ms)
r=$(tail -n 1 "$WORK/prefix.out")
say "transfer: $r (closed $((t_closed - t_kill)) ms after the kill)"
[ "$(field "$r" prefix_ok)" = 1 ] ||
	die "the client received altered bytes: $r"
case $(field "$r" end) in
eof|reset|error-*) ;;
*) die "the transfer did not fail cleanly: $r" ;;
esac
[ "$(field "$r" recv)" -lt 67108864 ] ||
	die "the whole transfer completed although the relay died: $r"

# The relay returns; new connections must work soon.
ns_start_node relay hub "$WORK/hub.ini"
t_back=$(now_ms)
wait_until 15 echo_ok client "$INLET" ||
	die "no working connection within $(slow_s 15) s of the relay's return"
t_ok=$(now_ms)
say "a new connection worked $((t_ok - t_back)) ms after the relay's return"
regs2=$(log_count "$WORK/hub.log" event=audit decision=allow reason=registered \
    "peer=$DB_ID" service=postgres)
[ "$regs2" -gt "$regs" ] ||
	die "no new allow audit of db at the restarted relay (re-registration)"
# The outlet process itself never restarted; it saw its session die and
# opened a new one.
proc_alive "$PID_db" || die "the outlet died"
[ "$(log_count "$WORK/db.log" event=session-open role=outlet kind=register \
    "peer=$HUB_ID" service=postgres)" -ge 2 ] ||
	die "the outlet logged no second session-open (re-registration)"
log_has "$WORK/db.log" event=session-close role=outlet kind=register \
    "peer=$HUB_ID" || die "the outlet logged no session-close for the dead relay"
r=$(ns_exec client python3 "$NETKIT" echo-check "$INLET" --count 8 \
    --size 65536 --timeout 15) || die "echo after the restart failed: $r"
say "ok: $r"
