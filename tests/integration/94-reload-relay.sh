#!/bin/sh
# Reload and relays (issue 8 part 2), three hosts (relaylib.sh):
#   client (app) -- relay (hub) -- server (db, drops inbound SYNs)
# 1. db adds [outlet second] (relay = hub) by reload: the hub sees the new
#    registration and the service is reachable through the relay;
# 2. db removes it by reload: the hub's registration session for it ends
#    and a client of "second" is refused (audit reason=no-registrant),
#    while postgres keeps working;
# 3. db's identity key is rotated by reload (identity=rotated) while a
#    connection through the relay is live (a paced echo): the hub, which
#    lists both the old and the new identifier in `register`, sees a
#    registration by the new identity; after app pins the new identity
#    (reload), new connections work; the live one survives db's rotation
#    and is revoked when app re-pins (the old key is no longer trusted);
# 4. the hub's `register` is changed by reload so that db (its new
#    identity) loses its right: the hub closes its session at once
#    (session-close role=relay reason=revoked), clients are refused, and
#    db's attempts to register again are denied (not-registrant).
. "$top_srcdir/tests/integration/relaylib.sh"

relay3_net
APP_ID=$(make_identity app)
HUB_ID=$(make_identity hub)
DB_ID=$(make_identity db)
DBNEW_ID=$(make_identity dbnew)
P2=15433		# app's inlet for "second"
T2=5433			# its target on the server host
INLET2="127.0.0.1:$P2"
HUB_S="hub@$RELAY_IP_S:$RELAY_PORT"
HUB_C="hub@$RELAY_IP:$RELAY_PORT"

# write_hub(registrants of postgres)
write_hub()
{
	{
		ini_node "$WORK/hub.key" "0.0.0.0:$RELAY_PORT"
		ini_peers db "$DB_ID" dbnew "$DBNEW_ID" app "$APP_ID"
		ini_relay postgres "register=$1" allow=app
		ini_relay second register=db,dbnew allow=app
	} >"$WORK/hub.ini.new"
	mv -f "$WORK/hub.ini.new" "$WORK/hub.ini"
}
# write_db(keyname outlet...): outlets postgres and/or second
write_db()
{
	_k=$1
	shift
	{
		ini_node "$WORK/$_k.key" ""
		ini_peers hub "$HUB_ID" app "$APP_ID"
		for _o in "$@"; do
			case $_o in
			postgres) ini_outlet_relay postgres \
			    "127.0.0.1:$TARGET_PORT" "$HUB_S" app ;;
			second) ini_outlet_relay second "127.0.0.1:$T2" \
			    "$HUB_S" app ;;
			esac
		done
	} >"$WORK/db.ini.new"
	mv -f "$WORK/db.ini.new" "$WORK/db.ini"
}
# write_app(db's identifier)
write_app()
{
	{
		ini_node "$WORK/app.key" ""
		ini_peers hub "$HUB_ID" db "$1"
		ini_inlet_via postgres "$INLET" db "$HUB_C"
		ini_inlet_via second "$INLET2" db "$HUB_C"
	} >"$WORK/app.ini.new"
	mv -f "$WORK/app.ini.new" "$WORK/app.ini"
}
write_hub db,dbnew
write_db db postgres
write_app "$DB_ID"
start_echo_in server "$TARGET_PORT" "$WORK/t1.log"
start_echo_in server "$T2" "$WORK/t2.log"
relay3_start
wait_tunnel 10

# 1. A registration added by reload.
write_db db postgres second
reload_node db
say "db adds second: $RELOAD_LINE"
log_has "$WORK/db.log" event=reload-change kind=outlet name=second \
    change=added || die "no reload-change line for the added outlet second"
wait_for_event "$WORK/hub.log" 10 event=session-open role=relay \
    kind=register "peer=$DB_ID" service=second
wait_until 10 echo_ok client "$INLET2" ||
	die "the service added by reload is not reachable through the relay"
[ "$(lines_in "$WORK/t2.log")" -ge 1 ] || die "second's target saw nothing"

# 2. The registration removed by reload.
write_db db postgres
reload_node db
say "db removes second: $RELOAD_LINE"
log_has "$WORK/db.log" event=reload-change kind=outlet name=second \
    change=removed || die "no reload-change line for the removed outlet"
wait_for_event "$WORK/hub.log" 10 event=session-close role=relay \
    kind=register "peer=$DB_ID" service=second
before=$(lines_in "$WORK/t2.log")
r=$(ns_exec client python3 "$NETKIT" probe "$INLET2" \
    --send-hex 50494e470d0a --timeout 5)
say "client of the removed registration: $r"
[ "$(field "$r" bytes)" = 0 ] || die "a client of second got data: $r"
wait_for_event "$WORK/hub.log" 10 event=audit decision=deny role=relay \
    reason=no-registrant service=second "peer=$APP_ID"
[ "$(lines_in "$WORK/t2.log")" = "$before" ] ||
	die "second's target saw a connection after its removal"
echo_ok client "$INLET" || die "postgres broke with second's removal"

# 3. db's identity rotated by reload, with a live connection: the
#    connection outlives db's rotation (its channel keys are its own), and
#    ends when app re-pins the new identity (the old key is no longer
#    trusted by app: reason=revoked, docs/config.md).
before=$(lines_in "$WORK/t1.log")
ns_spawn client "$WORK/live.out" python3 "$NETKIT" echo-check "$INLET" \
    --count 1 --size 262144 --pace 30 --seed 9 --timeout 90
live=$LAST_PID
wait_until 10 eval '[ "$(lines_in "$WORK/t1.log")" -gt "$before" ]' ||
	die "the live connection did not reach the target"
write_db dbnew postgres
reload_node db
say "db rotates its key: $RELOAD_LINE"
case " $RELOAD_LINE " in
*" identity=rotated "*) ;;
*) die "the reload does not say identity=rotated: $RELOAD_LINE" ;;
esac
wait_for_event "$WORK/hub.log" 10 event=session-open role=relay \
    kind=register "peer=$DBNEW_ID" service=postgres
proc_alive "$live" || die "the live connection ended with db's rotation: \
$(cat "$WORK/live.out")"
write_app "$DBNEW_ID"
reload_node app
say "app pins db's new identity: $RELOAD_LINE"
case " $RELOAD_LINE " in
*" revoked=1 "*) ;;
*) die "app's re-pin did not revoke the live connection: $RELOAD_LINE" ;;
esac
wait_exit "$live" 10 || die "the revoked live connection did not end"
log_has "$WORK/app.log" event=audit decision=deny reason=revoked \
    role=inlet || die "no audit reason=revoked at the inlet"
say "live connection at the re-pin: $(cat "$WORK/live.out")"
wait_until 10 echo_ok client "$INLET" ||
	die "no new connection works after the rotation"
r=$(ns_exec client python3 "$NETKIT" echo-check "$INLET" --count 4 \
    --size 4096 --timeout 15) || die "new connections after rotation: $r"
log_has "$WORK/app.log" event=audit decision=allow role=inlet \
    "peer=$DBNEW_ID" || die "the inlet never verified db's new identity"

# 4. The hub takes the registration right away from db's new identity.
write_hub db
reload_node hub
say "hub revokes dbnew: $RELOAD_LINE"
log_has "$WORK/hub.log" event=reload-change kind=relay name=postgres \
    change=changed || die "no reload-change line for relay postgres"
wait_for_event "$WORK/hub.log" 2 event=session-close role=relay \
    kind=register "peer=$DBNEW_ID" service=postgres reason=revoked
r=$(ns_exec client python3 "$NETKIT" probe "$INLET" \
    --send-hex 50494e470d0a --timeout 5)
say "client after the revocation: $r"
[ "$(field "$r" bytes)" = 0 ] || die "a client got data after revocation: $r"
case $(field "$r" end) in
eof|reset|send-error|connect-error) ;;
*) die "a client was not closed promptly after revocation: $r" ;;
esac
wait_for_event "$WORK/hub.log" 10 event=audit decision=deny role=relay \
    reason=not-registrant "peer=$DBNEW_ID" service=postgres
log_count "$WORK/hub.log" event=session-open role=relay kind=register \
    "peer=$DBNEW_ID" service=postgres >"$WORK/regs"
[ "$(cat "$WORK/regs")" = 1 ] ||
	die "dbnew registered postgres again after its revocation"
say "ok: registrations added, removed, rotated and revoked by reload"
