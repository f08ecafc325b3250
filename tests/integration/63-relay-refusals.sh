#!/bin/sh
# The relay is deny by default.  Refused and audited (event=audit
# decision=deny role=relay, docs/logging.md), while the legitimate path
# (app -> postgres, registered by db) keeps working throughout:
#   1. an unlisted registrant (eve, unknown to the relay) registering "other"
#   2. a second registrant (mallory, a known peer but not in `register`)
#      trying to take over "postgres" while db holds it
#   3. an unlisted client (stranger, unknown to the relay)
#   4. a client allowed for another name (app2: "other" only) asking for
#      "postgres"
# Eve and the stranger, refused on their claimed identities, are told why
# (relay-not-registrant, relay-not-allowed); the relay-only node logs its
# node port's lines as role=relay only.
. "$top_srcdir/tests/integration/relaylib.sh"

relay3_net
relay3_configs
EVE_ID=$(make_identity eve)
MALLORY_ID=$(make_identity mallory)
STRANGER_ID=$(make_identity stranger)
APP2_ID=$(make_identity app2)
# The relay knows app2 and mallory (as clients of "other"), not eve nor
# stranger.
{
	ini_node "$WORK/hub.key" "0.0.0.0:$RELAY_PORT"
	ini_peers db "$DB_ID" app "$APP_ID" app2 "$APP2_ID" mallory "$MALLORY_ID"
	ini_relay postgres register=db allow=app
	ini_relay other register=db allow=app2,mallory
} >"$WORK/hub.ini"

ECHO_PORT2=5433		# the rogue registrants' targets
start_echo_in server "$TARGET_PORT" "$WORK/db-target.log"
start_echo_in server "$ECHO_PORT2" "$WORK/rogue-target.log"
relay3_start
wait_tunnel 10
log_has "$WORK/hub.log" event=audit decision=allow reason=registered \
    role=relay "peer=$DB_ID" service=postgres ||
	die "the relay did not audit db's registration of postgres (allow)"

# deny_line(id): the relay's first deny audit line about ${id}.
deny_line()
{
	grep 'event=audit decision=deny' "$WORK/hub.log" | grep -m1 -- "peer=$1"
}

# Rogue registrants, on the server host, dialing out like db does.  Their
# outlets would let app in, so only the relay stands in the way.
for who in eve mallory; do
	case $who in
	eve) svc=other ;;
	mallory) svc=postgres ;;
	esac
	{
		ini_node "$WORK/$who.key" ""
		ini_peers hub "$HUB_ID" app "$APP_ID"
		ini_outlet_relay "$svc" "127.0.0.1:$ECHO_PORT2" \
		    "hub@$RELAY_IP_S:$RELAY_PORT" app
	} >"$WORK/$who.ini"
	ns_start_node server "$who" "$WORK/$who.ini"
done
wait_for_event "$WORK/hub.log" 10 event=audit decision=deny role=relay \
    reason=not-registrant "peer=$EVE_ID" service=other
say "unlisted registrant refused: $(deny_line "$EVE_ID")"
wait_for_event "$WORK/hub.log" 10 event=audit decision=deny role=relay \
    reason=not-registrant "peer=$MALLORY_ID" service=postgres
say "take-over refused: $(deny_line "$MALLORY_ID")"
log_has "$WORK/hub.log" event=audit decision=allow "peer=$EVE_ID" &&
	die "the relay allowed eve something"
log_has "$WORK/hub.log" event=audit decision=allow "peer=$MALLORY_ID" &&
	die "the relay allowed mallory something"

# Clients that may not reach postgres, on the client host.
P_STRANGER=15433
P_APP2=15434
{
	ini_node "$WORK/stranger.key" ""
	ini_peers hub "$HUB_ID" db "$DB_ID"
	ini_inlet_via postgres "127.0.0.1:$P_STRANGER" db "hub@$RELAY_IP:$RELAY_PORT"
} >"$WORK/stranger.ini"
{
	ini_node "$WORK/app2.key" ""
	ini_peers hub "$HUB_ID" db "$DB_ID"
	ini_inlet_via postgres "127.0.0.1:$P_APP2" db "hub@$RELAY_IP:$RELAY_PORT"
} >"$WORK/app2.ini"
ns_start_node client stranger "$WORK/stranger.ini"
ns_start_node client app2 "$WORK/app2.ini"

before=$(lines_in "$WORK/db-target.log")
for p in $P_STRANGER $P_APP2; do
	r=$(ns_exec client python3 "$NETKIT" probe "127.0.0.1:$p" \
	    --send-hex 50494e470d0a --timeout 5)
	say "denied client on port $p: $r"
	[ "$(field "$r" bytes)" = 0 ] || die "a denied client received data: $r"
	# send-error: the inlet had already reset it when the probe wrote.
	case $(field "$r" end) in
	eof|reset|send-error|connect-error) ;;
	*) die "a denied client was not closed promptly: $r" ;;
	esac
done
wait_for_event "$WORK/hub.log" 10 event=audit decision=deny role=relay \
    reason=not-allowed "peer=$STRANGER_ID"
say "unlisted client refused: $(deny_line "$STRANGER_ID")"
wait_for_event "$WORK/hub.log" 10 event=audit decision=deny role=relay \
    reason=not-allowed "peer=$APP2_ID" service=postgres
say "client of another name refused: $(deny_line "$APP2_ID")"
log_has "$WORK/hub.log" event=audit decision=allow "peer=$STRANGER_ID" \
    service=postgres && die "the relay allowed the stranger to postgres"
log_has "$WORK/hub.log" event=audit decision=allow "peer=$APP2_ID" \
    service=postgres && die "the relay allowed app2 to postgres"
# Refused before anything reached the outlet or its target.
[ "$(lines_in "$WORK/db-target.log")" = "$before" ] ||
	die "the target saw a connection from a denied client"
for id in "$STRANGER_ID" "$APP2_ID" "$EVE_ID" "$MALLORY_ID"; do
	[ "$(log_count "$WORK/db.log" "peer=$id")" = 0 ] ||
		die "the outlet heard from $id: it should never have"
done

# The legitimate path still works, and only db serves postgres: 12 new
# connections, all at db's target, none at the rogue one.
before=$(lines_in "$WORK/db-target.log")
r=$(ns_exec client python3 "$NETKIT" echo-check "$INLET" --count 12 \
    --size 4096 --timeout 15) || die "legitimate echo failed: $r"
say "legitimate path: $r"
after=$(lines_in "$WORK/db-target.log")
[ $((after - before)) = 12 ] ||
	die "db's target saw $((after - before)) of 12 connections"
[ "$(lines_in "$WORK/rogue-target.log")" = 0 ] ||
	die "the rogue registrants' target saw connections"
for who in eve mallory; do
	log_has "$WORK/$who.log" event=open && die "$who carried a connection"
done
# Refused on their claimed identities (the relay knows neither), eve and
# the stranger are told why (docs/protocol.md 2.3), not just closed.
wait_for_event "$WORK/eve.log" 10 event=audit decision=deny \
    reason=relay-not-registrant
wait_for_event "$WORK/stranger.log" 10 event=audit decision=deny \
    reason=relay-not-allowed
# A relay-only node logs its node port's lines as role=relay.
log_has "$WORK/hub.log" role=outlet &&
	die "the relay-only node logged role=outlet: $(grep role=outlet "$WORK/hub.log" | head -n 1)"
log_has "$WORK/app.log" event=audit reason=peer-mismatch &&
	die "the inlet was paired with an outlet other than db"
say "ok: every refusal audited, legitimate path intact"
