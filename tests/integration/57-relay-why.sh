#!/bin/sh
# The relay tells a node why it refuses it (docs/relay.md, "Refusals"),
# on loopback, and the node logs it (docs/logging.md):
#   - a known identity registering a name it may not (not-registrant) or a
#     name the relay does not have (unknown-service): a REFUSE record on
#     the session; the outlet logs `audit decision=deny
#     reason=relay-not-registrant|relay-unknown-service peer=<relay>` and
#     the delay before its next attempt (`relay-retry delay_s=`);
#   - a client's data connection for a name it may not reach
#     (not-allowed), a name nobody serves now (no-registrant) or no such
#     name (unknown-service): session message E || reason || counter; the
#     inlet logs `audit decision=deny reason=relay-<reason>` with the
#     relay's identity and the conn= of that connection (its drop line
#     has the same conn=);
#   - through the relay, the outlet's own REFUSE record reaches the inlet
#     end to end: `reason=remote-not-allowed peer=<outlet>`, and a target
#     that is down is `event=target-failed` on both ends, no audit deny.
# The legitimate path keeps working.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=relaylib.sh
. "$top_srcdir/tests/integration/relaylib.sh"

ECHO_PORT=$(free_port)
HUB_PORT=$(free_port)
P_OK=$(free_port)
P_SECRET=$(free_port)
P_IDLE=$(free_port)
P_NOSUCH=$(free_port)
P_LOCKED=$(free_port)
P_DOWN=$(free_port)
DEAD_PORT=$(free_port)	# nobody listens here
HUB="hub@127.0.0.1:$HUB_PORT"
HUB_ID=$(make_identity hub)
DB_ID=$(make_identity db)
APP_ID=$(make_identity app)
ROGUE_ID=$(make_identity rogue)
start_echo "127.0.0.1:$ECHO_PORT"
{
	ini_node "$WORK/hub.key" "127.0.0.1:$HUB_PORT"
	ini_peers db "$DB_ID" app "$APP_ID" rogue "$ROGUE_ID"
	ini_relay echo register=db allow=app
	ini_relay secret register=db allow=rogue
	ini_relay idle register=rogue allow=app
	ini_relay locked register=db allow=app
	ini_relay down register=db allow=app
} >"$WORK/hub.ini"
{
	ini_node "$WORK/db.key" ""
	ini_peers hub "$HUB_ID" app "$APP_ID" rogue "$ROGUE_ID"
	ini_outlet_relay echo "127.0.0.1:$ECHO_PORT" "$HUB" app
	ini_outlet_relay secret "127.0.0.1:$ECHO_PORT" "$HUB" app
	ini_outlet_relay locked "127.0.0.1:$ECHO_PORT" "$HUB" rogue
	ini_outlet_relay down "127.0.0.1:$DEAD_PORT" "$HUB" app
} >"$WORK/db.ini"
{
	ini_node "$WORK/rogue.key" ""
	ini_peers hub "$HUB_ID" app "$APP_ID"
	ini_outlet_relay echo "127.0.0.1:$ECHO_PORT" "$HUB" app
	ini_outlet_relay nosuch "127.0.0.1:$ECHO_PORT" "$HUB" app
} >"$WORK/rogue.ini"
{
	ini_node "$WORK/app.key" ""
	ini_peers hub "$HUB_ID" db "$DB_ID"
	ini_inlet_via ok "127.0.0.1:$P_OK" db "$HUB" echo
	ini_inlet_via secret "127.0.0.1:$P_SECRET" db "$HUB" secret
	ini_inlet_via idle "127.0.0.1:$P_IDLE" db "$HUB" idle
	ini_inlet_via nosuch "127.0.0.1:$P_NOSUCH" db "$HUB" nosuch
	ini_inlet_via locked "127.0.0.1:$P_LOCKED" db "$HUB" locked
	ini_inlet_via down "127.0.0.1:$P_DOWN" db "$HUB" down
} >"$WORK/app.ini"
start_node hub "$WORK/hub.ini"
start_node db "$WORK/db.ini"
start_node app "$WORK/app.ini"
wait_for_event "$WORK/db.log" 10 event=session-open role=outlet \
	kind=register service=echo
wait_for_event "$WORK/app.log" 10 event=session-open role=inlet \
	service=echo
r=$(netkit echo-check "127.0.0.1:$P_OK" --count 2 --size 100 --timeout 10) ||
	die "legitimate echo failed: $r"

# Registrations refused: the outlet hears why, and when it tries again.
start_node rogue "$WORK/rogue.ini"
for w in echo:not-registrant nosuch:unknown-service; do
	wait_for_event "$WORK/rogue.log" 10 event=audit decision=deny \
		"reason=relay-${w#*:}" "peer=$HUB_ID" peer_name=hub \
		"service=${w%%:*}" role=outlet kind=register
	wait_for_event "$WORK/hub.log" 10 event=audit decision=deny \
		"reason=${w#*:}" "peer=$ROGUE_ID" role=relay
done
say "$(grep 'reason=relay-not-registrant' "$WORK/rogue.log" | head -n 1)"
wait_for_log "$WORK/rogue.log" \
	'event=relay-retry role=outlet kind=register .*service=echo delay_s=[0-9.]+$' 10
say "$(grep 'event=relay-retry' "$WORK/rogue.log" | head -n 1)"
wait_for_event "$WORK/rogue.log" 10 event=session-close reason=refused

# Data connections refused: the inlet hears why, on the conn= it made.
for w in $P_SECRET:secret:not-allowed $P_IDLE:idle:no-registrant \
    $P_NOSUCH:nosuch:unknown-service; do
	port=${w%%:*}
	rest=${w#*:}
	svc=${rest%%:*}
	why=${rest#*:}
	r=$(netkit probe "127.0.0.1:$port" --send-hex 50494e470d0a \
		--timeout 5)
	[ "$(field "$r" bytes)" = 0 ] || die "a refused client got data: $r"
	wait_for_event "$WORK/hub.log" 10 event=audit decision=deny \
		"reason=$why" "peer=$APP_ID" "service=$svc" role=relay
	wait_for_event "$WORK/app.log" 10 event=audit decision=deny \
		"reason=relay-$why" "peer=$HUB_ID" "service=$svc" role=inlet
	line=$(grep -E "reason=relay-$why .*service=$svc " "$WORK/app.log" |
		head -n 1)
	say "inlet: $line"
	conn=$(field "$line" conn)
	case $conn in
	[1-9]*) ;;
	*) die "the refusal names no connection: $line" ;;
	esac
	# The data connection's own end (drop or close) has that conn=.
	wait_for_log "$WORK/app.log" \
		"event=(drop|close) role=inlet conn=$conn " 5
done
# Through the relay, the outlet's own REFUSE record reaches the inlet end
# to end: not allowed there (an access decision), a target that is down
# (not one).
wait_for_event "$WORK/db.log" 10 event=session-open role=outlet \
	kind=register service=down
r=$(netkit probe "127.0.0.1:$P_LOCKED" --send-hex 50494e470d0a --timeout 5)
[ "$(field "$r" bytes)" = 0 ] || die "a refused client got data: $r"
wait_for_event "$WORK/db.log" 10 event=audit decision=deny \
	reason=not-allowed "peer=$APP_ID" service=locked role=outlet
wait_for_event "$WORK/app.log" 10 event=audit decision=deny \
	reason=remote-not-allowed "peer=$DB_ID" service=locked role=inlet
r=$(netkit probe "127.0.0.1:$P_DOWN" --send-hex 50494e470d0a --timeout 5)
[ "$(field "$r" bytes)" = 0 ] || die "a refused client got data: $r"
wait_for_event "$WORK/db.log" 10 event=target-failed role=outlet \
	service=down "addr=127.0.0.1:$DEAD_PORT" errno=ECONNREFUSED
wait_for_event "$WORK/app.log" 10 event=target-failed role=inlet \
	side=remote "peer=$DB_ID" service=down
log_has "$WORK/db.log" event=audit decision=deny service=down &&
	die "a target that is down was logged as a denial"
grep -q "event=audit decision=allow reason=registered peer=$ROGUE_ID" \
	"$WORK/hub.log" && die "the rogue registered something"
r=$(netkit echo-check "127.0.0.1:$P_OK" --count 2 --size 100 --timeout 10) ||
	die "legitimate echo failed after the refusals: $r"
say "ok"
