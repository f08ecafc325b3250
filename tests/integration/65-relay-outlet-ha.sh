#!/bin/sh
# Two outlets registered for one name (the same identity "db", on two server
# hosts: simple high availability).  New connections are spread over both;
# killing the outlet that carries a live connection closes that client
# promptly; from then on new connections go to the live outlet only.
. "$top_srcdir/tests/integration/relaylib.sh"

ns_require
ns_add client relay server1 server2
ns_link client relay 0
ns_link relay server1 1
ns_link relay server2 2
ns_forward relay
RELAY_IP=$(ns_ip 0 2)
ns_route client default "$RELAY_IP"
ns_route server1 default "$(ns_ip 1 1)"
ns_route server2 default "$(ns_ip 2 1)"
ns_drop_syn server1
ns_drop_syn server2

APP_ID=$(make_identity app)
HUB_ID=$(make_identity hub)
DB_ID=$(make_identity db)
{
	ini_node "$WORK/hub.key" "0.0.0.0:$RELAY_PORT"
	ini_peers db "$DB_ID" app "$APP_ID"
	ini_relay postgres register=db allow=app
} >"$WORK/hub.ini"
for k in 1 2; do
	{
		ini_node "$WORK/db.key" ""
		ini_peers hub "$HUB_ID" app "$APP_ID"
		ini_outlet_relay postgres "127.0.0.1:$TARGET_PORT" \
		    "hub@$(ns_ip "$k" 1):$RELAY_PORT" app
	} >"$WORK/db$k.ini"
done
{
	ini_node "$WORK/app.key" ""
	ini_peers hub "$HUB_ID" db "$DB_ID"
	ini_inlet_via postgres "$INLET" db "hub@$RELAY_IP:$RELAY_PORT"
} >"$WORK/app.ini"

start_echo_in server1 "$TARGET_PORT" "$WORK/target1.log"
start_echo_in server2 "$TARGET_PORT" "$WORK/target2.log"
ns_start_node relay hub "$WORK/hub.ini"
ns_start_node server1 db1 "$WORK/db1.ini"
ns_start_node server2 db2 "$WORK/db2.ini"
ns_start_node client app "$WORK/app.ini"
wait_tunnel 10

# Spread: keep opening connections (one at a time, at most 15 s) until
# both outlets' targets have seen some.
spread()
{
	[ "$(lines_in "$WORK/target1.log")" -gt 0 ] &&
		[ "$(lines_in "$WORK/target2.log")" -gt 0 ] && return 0
	echo_ok client "$INLET" || die "an echo through the relay failed"
	return 1
}
wait_until 15 spread || true
a1=$(lines_in "$WORK/target1.log")
a2=$(lines_in "$WORK/target2.log")
say "spread over two outlets: $a1 and $a2 connections"
[ "$a1" -gt 0 ] && [ "$a2" -gt 0 ] ||
	die "new connections were not spread over both registered outlets"

# A live connection (one echoed request, then held open).
ns_spawn client "$WORK/held.out" python3 "$NETKIT" probe "$INLET" \
    --send-hex 68656c6c6f0a --timeout 20
HELD=$LAST_PID
wait_until 10 eval "[ \$(lines_in '$WORK/target1.log') -gt $a1 ] ||
    [ \$(lines_in '$WORK/target2.log') -gt $a2 ]" ||
	die "the held connection reached no target"
if [ "$(lines_in "$WORK/target1.log")" -gt "$a1" ]; then
	dead=1 live=2
else
	dead=2 live=1
fi
eval "dead_pid=\$PID_db$dead"
say "the held connection is on outlet $dead; killing it (SIGKILL)"
t_kill=$(now_ms)
stop_pid "$dead_pid" KILL
forget_pid "$dead_pid"
wait_exit "$HELD" 3 ||
	die "the client was not closed within $(slow_s 3) s of its outlet's death"
r=$(cat "$WORK/held.out")
say "held client: $r ($(($(now_ms) - t_kill)) ms after the kill)"
case $(field "$r" end) in
eof|reset|error) ;;
*) die "the held client was not closed: $r" ;;
esac

# At once (no waiting for the relay to notice), every new connection must
# work, on the live outlet; then the relay must have let go of the dead
# outlet's session and pool (no socket left towards it within 5 s).
before=$(lines_in "$WORK/target$live.log")
dead_before=$(lines_in "$WORK/target$dead.log")
r=$(ns_exec client python3 "$NETKIT" echo-check "$INLET" --count 1 \
    --size 1024 --timeout 5) || die "a new connection failed: $r"
i=1
while [ $i -lt 10 ]; do
	r=$(ns_exec client python3 "$NETKIT" echo-check "$INLET" --count 1 \
	    --size 1024 --timeout 5) ||
		die "new connection $i after the outlet's death failed: $r"
	i=$((i + 1))
done
after=$(lines_in "$WORK/target$live.log")
say "after the death: the live outlet took $((after - before)) of 10"
[ $((after - before)) = 10 ] ||
	die "the live outlet's target saw $((after - before)) of 10 connections"
[ "$(lines_in "$WORK/target$dead.log")" = "$dead_before" ] ||
	die "the dead outlet's target saw new connections"
dead_ip=$(ns_ip "$dead" 2)
wait_until 5 eval "[ \$(ns_socket_count relay 'dst $dead_ip') = 0 ]" ||
	die "the relay still holds sockets to the dead outlet after 5 s"
say "ok"
