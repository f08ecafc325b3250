#!/bin/sh
# An outlet's relay = name is looked up again while it runs ([node]
# relay_resolve; docs/relay.md "Fleets"): in a network namespace whose
# /etc/hosts maps relays.test to 127.0.0.2 only, the outlet registers
# there; /etc/hosts is rewritten in place to add 127.0.0.3, where a second
# replica (same identity) listens, and the outlet registers there too,
# without a restart or a reload; an inlet with two via lines (one per
# replica) then reaches the service through both.  Removing 127.0.0.2
# from the file ends the registration there.  A reload that changes the
# outlet in between keeps both registrations.  Needs root (skips with 77).
. "$top_srcdir/tests/integration/relaylib.sh"
. "$top_srcdir/tests/integration/dnslib.sh"

dns_setup
dns_hosts "127.0.0.2 relays.test"
ECHO_PORT=$(free_port)
start_echo_in dns "$ECHO_PORT"
HUB_ID=$(make_identity hub)
OUT_ID=$(make_identity out)
IN_ID=$(make_identity in)
for k in 2 3; do
	{
		ini_node "$WORK/hub.key" "127.0.0.$k:$RELAY_PORT"
		ini_peers out "$OUT_ID" in "$IN_ID"
		ini_relay echo register=out allow=in
	} >"$WORK/hub$k.ini"
	ns_start_node dns "hub$k" "$WORK/hub$k.ini"
done
{
	ini_node "$WORK/out.key" "" "relay_resolve = 1"
	ini_peers hub "$HUB_ID" in "$IN_ID"
	ini_outlet_relay echo "127.0.0.1:$ECHO_PORT" \
	    "hub@relays.test:$RELAY_PORT" in
	echo "pool = 1"
} >"$WORK/out.ini"
ns_start_node dns out "$WORK/out.ini"

# registered(addr): the outlet opened a registration at ${addr}.
registered()
{
	log_has "$WORK/out.log" event=session-open role=outlet kind=register \
	    "relay=relays.test:$RELAY_PORT" "relay_addr=$1:$RELAY_PORT"
}
wait_until 10 registered 127.0.0.2 ||
	die "the outlet did not register at 127.0.0.2"
! registered 127.0.0.3 || die "the outlet registered at 127.0.0.3 too early"

dns_hosts "127.0.0.2 relays.test" "127.0.0.3 relays.test"
t0=$(now_ms)
wait_until 10 registered 127.0.0.3 ||
	die "the outlet did not register at the new address 127.0.0.3"
say "registered at the new address $(($(now_ms) - t0)) ms after the change"
log_has "$WORK/out.log" event=relay-address-add role=outlet \
    "relay_addr=127.0.0.3:$RELAY_PORT" service=echo ||
	die "no event=relay-address-add for 127.0.0.3"
wait_until 5 log_has "$WORK/hub3.log" event=session-open role=relay \
    kind=register service=echo ||
	die "the new replica logged no registration"

{
	ini_node "$WORK/in.key" ""
	ini_peers hub "$HUB_ID" out "$OUT_ID"
	ini_inlet_via echo "$INLET" out "hub@127.0.0.2:$RELAY_PORT"
	echo "via = hub@127.0.0.3:$RELAY_PORT"
} >"$WORK/in.ini"
ns_start_node dns in "$WORK/in.ini"
wait_until 10 eval '[ "$(log_count "$WORK/in.log" event=session-open \
    role=inlet kind=client)" -ge 2 ]' ||
	die "the inlet did not open a session with both replicas"
r=$(ns_exec dns python3 "$NETKIT" echo-check "$INLET" --count 6 \
    --size 1024 --timeout 10) || die "echo through the replicas: $r"
o2=$(log_count "$WORK/hub2.log" event=open role=relay)
o3=$(log_count "$WORK/hub3.log" event=open role=relay)
say "6 connections: $o2 through 127.0.0.2, $o3 through 127.0.0.3"
[ "$o2" -ge 1 ] && [ "$o3" -ge 1 ] ||
	die "the inlet did not spread its connections over both via lines"

# A reload that changes the outlet (its allow list) keeps both
# registrations as they are (no session ends, none opens).
opened=$(log_count "$WORK/out.log" event=session-open role=outlet)
sed "s/^allow = in\$/allow = in, hub/" "$WORK/out.ini" >"$WORK/out2.ini"
put_file "$WORK/out2.ini" "$WORK/out.ini"
reload_node out
case " $RELOAD_LINE " in
*" changed=1 "*) ;;
*) die "the reload did not change the outlet: $RELOAD_LINE" ;;
esac
r=$(ns_exec dns python3 "$NETKIT" echo-check "$INLET" --count 4 \
    --size 1024 --timeout 10) || die "echo after the reload: $r"
[ "$(log_count "$WORK/out.log" event=session-open role=outlet)" = "$opened" ] &&
	! log_has "$WORK/out.log" event=session-close role=outlet ||
	die "the reload renewed the registrations"

dns_hosts "127.0.0.3 relays.test"
wait_until 10 log_has "$WORK/out.log" event=relay-address-drop role=outlet \
    "relay_addr=127.0.0.2:$RELAY_PORT" ||
	die "the outlet kept its registration at the address gone from the name"
wait_until 5 log_has "$WORK/hub2.log" event=session-close role=relay \
    kind=register ||
	die "the replica at 127.0.0.2 did not see the registration end"
[ "$(reload_total "$WORK/out.log")" = 1 ] || die "another reload happened"
say "ok"
