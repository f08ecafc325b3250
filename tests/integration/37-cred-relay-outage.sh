#!/bin/sh
# A relayed connection admitted by a credential survives an outage of its
# client's relay session as long as the node keeps renewing (issue 19, N3;
# docs/relay.md, "Pairs and their right"), three hosts (relaylib.sh):
#   client (app) -- relay (hub) -- server (db, drops inbound SYNs)
# hub lets app reach postgres by attribute (allow = role=app@corp,
# credential_skew = 0); keepalive = 2 s everywhere.  With an idle
# connection held through hub:
#   - app renews in-band with a 60 s credential (the pair's end moves to
#     it), then the client host is cut off until hub logs app's session
#     dead (keepalive-timeout): the pair outlives its session (Outages);
#   - once the link is back app makes a new session, which takes the
#     pair over (same identity, its credentials admit it), and app renews
#     again (1 h) over that session;
#   - 60 s after the short credential was issued (its expiry) the pair is
#     still there (no audit deny reason=credential-expired for it) and the
#     held connection answers a second echo.
# Without the take-over the pair would keep the 60 s credential of its
# dead session and end at its expiry although app renewed.
. "$top_srcdir/tests/integration/relaylib.sh"

KEEPALIVE=2
relay3_net
CA_ID=$("$SALLYPORT" authority create "$WORK/ca.key" | tail -n 1)
case $CA_ID in I*) ;; *) die "authority create printed $CA_ID" ;; esac
for n in hub db app; do
	eval "ID_$n=\$(make_identity $n)"
done
cred_issue ca.key app --attr role=app --ttl 1h
{
	ini_node "$WORK/hub.key" "0.0.0.0:$RELAY_PORT" \
	    "keepalive = $KEEPALIVE" "credential_skew = 0"
	ini_peers db "$ID_db"
	ini_authorities corp "$CA_ID"
	ini_relay postgres register=db allow=role=app@corp
} >"$WORK/hub.ini"
{
	ini_node "$WORK/db.key" "" "keepalive = $KEEPALIVE"
	ini_peers hub "$ID_hub" app "$ID_app"
	ini_outlet_relay postgres "127.0.0.1:$TARGET_PORT" \
	    "hub@$RELAY_IP_S:$RELAY_PORT" app
} >"$WORK/db.ini"
{
	ini_node "$WORK/app.key" "" "keepalive = $KEEPALIVE" \
	    "credential = app.cred"
	ini_peers hub "$ID_hub" db "$ID_db"
	ini_inlet_via postgres "$INLET" db "hub@$RELAY_IP:$RELAY_PORT"
} >"$WORK/app.ini"
start_echo_in server "$TARGET_PORT"
relay3_start
wait_tunnel 10

# A long-lived connection: one echo, then idle until $WORK/go exists.
held_start 180
wait_for_event "$WORK/hub.log" 5 event=open role=relay name=postgres \
    "peer=$ID_app"
CONN=$(grep 'event=open role=relay ' "$WORK/hub.log" | tail -n 1 |
	grep -o 'conn=[0-9]*')
say "held pair: $CONN"

# The short credential, in-band.
renewals()
{
	log_count "$WORK/hub.log" event=audit decision=allow \
	    reason=credential-renewed "peer=$ID_app"
}
r0=$(renewals)
T_END=$(($(date +%s) + 60))
cred_issue ca.key app --attr role=app --ttl 60s
reload_node app
wait_until 10 eval '[ "$(renewals)" -gt "$r0" ]' ||
	die "hub did not take app's 60 s credential"

# The outage: until hub sees app's session dead.
hub_before=$(lines_in "$WORK/hub.log")
# session_dead: a session-close of app's after the lines already seen.
session_dead()
{
	tail -n "+$((hub_before + 1))" "$WORK/hub.log" >"$WORK/hub.log.tail"
	log_has "$WORK/hub.log.tail" event=session-close role=relay \
	    kind=client "peer=$ID_app" reason=keepalive-timeout
}
ns_cut client
wait_until $((KEEPALIVE * 4)) session_dead ||
	die "hub did not log app's session dead within $((KEEPALIVE * 4)) s"
ns_uncut client
say "app's session died in the cut; link back"
# session_back: a new session of app's at hub.
session_back()
{
	tail -n "+$((hub_before + 1))" "$WORK/hub.log" >"$WORK/hub.log.tail"
	log_has "$WORK/hub.log.tail" event=session-open role=relay \
	    kind=client "peer=$ID_app"
}
wait_until 20 session_back || die "app did not make a new session"
r1=$(renewals)
cred_issue ca.key app --attr role=app --ttl 1h
reload_node app
wait_until 10 eval '[ "$(renewals)" -gt "$r1" ]' ||
	die "hub did not take app's renewal over the new session"
[ "$(date +%s)" -lt "$T_END" ] ||
	die "the set-up outlasted the 60 s credential (machine too slow)"
log_has "$WORK/hub.log" event=close role=relay "$CONN" &&
	die "the held pair ended before the expiry"

# Past the short credential's end (the expiry is the scenario: hub checks
# every second), the pair is still there and the connection answers.
past_end() { [ "$(date +%s)" -ge $((T_END + 4)) ]; }
wait_until 90 past_end || die "the clock did not pass the expiry"
log_has "$WORK/hub.log" event=audit decision=deny \
    reason=credential-expired "$CONN" &&
	die "hub ended the held pair at the expiry of a credential app renewed"
proc_alive "$HELD" || die "the held connection ended: $(cat "$WORK/held.out")"
held_finish
log_has "$WORK/hub.log" event=close role=relay "$CONN" reason=revoked &&
	die "the held pair was revoked"
say "ok: the pair outlived its session and the 60 s credential"
