#!/bin/sh
# A handshake through a relay outlives the relay fleet member it was dialed
# to (issue 19, N5): an inlet's data connection whose handshake stalls
# (the relay hub is stopped after the inlet's session with it is up: the
# kernel still accepts the connection, nobody answers) while a reload
# gives the inlet another `via`, which frees the fleet member hub was.
# When the handshake then times out, its drop line must name hub's
# address (the connection's own copy of it) and the node must live on.
# Before the fix the line read the freed member (an ASan report:
# heap-use-after-free; the sanitizer check of lib.sh fails the test).
# Loopback only.
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=relaylib.sh
. "$top_srcdir/tests/integration/relaylib.sh"
need ss

hub_port=$(free_port)
hub2_port=$(free_port)	# nothing listens there: its member only retries
in_port=$(free_port)
id_app=$(make_identity app)
id_db=$(make_identity db)
id_hub=$(make_identity hub)
id_hub2=$(make_identity hub2)

{
	ini_node "$WORK/hub.key" "127.0.0.1:$hub_port"
	ini_peers db "$id_db" app "$id_app"
	ini_relay svc register=db allow=app
} >"$WORK/hub.ini"
# write_app(relay peer, its port)
write_app()
{
	{
		ini_node "$WORK/app.key" "" "handshake_timeout = 10"
		ini_peers hub "$id_hub" hub2 "$id_hub2" db "$id_db"
		ini_inlet_via svc "127.0.0.1:$in_port" db "$1@127.0.0.1:$2"
	} >"$WORK/app.ini.new"
	mv -f "$WORK/app.ini.new" "$WORK/app.ini"
}
write_app hub "$hub_port"

start_node hub "$WORK/hub.ini"
start_node app "$WORK/app.ini"
wait_for_event "$WORK/app.log" 10 event=session-open role=inlet \
    kind=client
hub=$PID_hub

# data_conns: established TCP connections to hub's port (the session's and
# those of the data connections).
data_conns()
{
	ss -Htn state established "dport = :$hub_port" 2>/dev/null | wc -l
}

# The hub stops answering; a client's connection dials it (accepted by the
# kernel) and its handshake stalls.
kill -STOP "$hub"
spawn "$WORK/client.out" netkit probe "127.0.0.1:$in_port" --timeout 60
client=$LAST_PID
wait_until 10 eval '[ "$(data_conns)" -ge 2 ]' ||
	die "the client's connection did not reach the hub"
say "a handshake through hub stalls ($(data_conns) connections to hub)"

# The reload frees hub's fleet member (another via, another relay).
write_app hub2 "$hub2_port"
reload_node app
say "app reloaded: $RELOAD_LINE"
log_has "$WORK/app.log" event=drop role=inlet \
    "addr=127.0.0.1:$hub_port" &&
	die "the handshake ended before the reload (a busy machine?): no proof"

wait_for_event "$WORK/app.log" 30 event=drop role=inlet \
    "addr=127.0.0.1:$hub_port" reason=handshake-timeout
say "$(grep "event=drop role=inlet .*addr=127.0.0.1:$hub_port" \
    "$WORK/app.log")"
proc_alive "$PID_app" || die "the inlet node died"
kill -CONT "$hub"
wait_until 70 proc_gone "$client" || die "the client was not closed"
forget_pid "$client"
wait "$client" 2>/dev/null || true
say "ok: the drop line names hub from the connection's own copy"
