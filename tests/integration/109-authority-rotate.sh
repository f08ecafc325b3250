#!/bin/sh
# Authority key rotation without downtime (issue 21, section 3), the
# procedure of docs/credentials.md "Rotating the authority key", config
# only.  corp issues credentials of 15 s; the outlet in front of redis
# allows only role=app@corp; the node app enrolled by token (ID1) and
# keeps one redis connection open throughout, a PING every 0.2 s:
# 1. the next key's identifier ID2 is added to [authorities] corp of
#    every node (outlet, app, the authority node): reloads;
# 2. the authority node's [authority corp] key becomes the next key: its
#    renewals now come from ID2, and app takes one in-band (the outlet
#    admits it: reason=credential-renewed);
# 3. ID1 is removed everywhere: the outlet no longer admits a credential
#    from ID1 (the node old, admitted at step 1, is denied now), app is
#    served on.
# At each step a new connection through app gets PONG, and the long-lived
# one is never closed or refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authlib.sh"
need redis-server redis-cli

start_redis
start_authority 15
S=$SALLYPORT
ID1=$CA_ID
ID2=$("$S" authority create "$WORK/ca2.key" | tail -n 1)
[ "$ID2" != "$ID1" ] || die "the next key has the same identifier"
redis_outlet
enrolled app
APP_ID=$ID_app

# auth_ini(key ids...): the authority node's configuration.
auth_ini()
{
	_k=$1
	shift
	{
		ini_node auth.key "127.0.0.1:$AUTH_PORT"
		echo "[authorities]"
		for _i in "$@"; do echo "corp = $_i"; done
		echo
		echo "[authority corp]"
		echo "key = $_k"
		echo "store = store/corp.db"
		echo "credential_ttl = 15"
	} | write_ini "$WORK/auth.ini"
}

# trust(ids...): [authorities] corp of the outlet and of app, reloaded.
trust()
{
	{
		ini_node out.key "127.0.0.1:$NODE_PORT"
		echo "[authorities]"
		echo "corp = $(echo "$@" | sed 's/ /, /g')"
		echo
		ini_outlet redis "127.0.0.1:$REDIS_PORT" "role=app@corp"
	} | write_ini "$WORK/out.ini"
	reload_node out ok
	{
		ini_node "$WORK/app.key" "" "enroll = app.token" \
		    "enroll_credential = app.cred"
		ini_authorities corp "$1"
		[ $# -lt 2 ] || echo "corp = $2"
		ini_peers server "$OUT_ID"
		ini_inlet redis "127.0.0.1:$P_app" "server@127.0.0.1:$NODE_PORT"
	} | write_ini "$WORK/app.ini"
	reload_node app ok
}

# A new connection through app answers PONG.
pong() { [ "$(ping_via app)" = PONG ] || die "$1: no PONG through app"; }
issuer_of() { "$S" credential show "$1" | sed -n 's/^issuer *//p'; }
renewals() { log_count "$WORK/app.log" event=renew result=ok; }
renewals_ge() { [ "$(renewals)" -ge "$1" ]; }

# One connection, a PING every 0.2 s for 120 s; app has renewed once.
ping_loop app 600
wait_until 30 renewals_ge 1 || die "app did not renew from ID1"
[ "$(issuer_of "$WORK/app.cred")" = "$ID1" ] || die "not from ID1"
pong "before"

# Step 1: ID2 trusted by every node before it signs anything.
trust "$ID1" "$ID2"
auth_ini ca.key "$ID1" "$ID2"
reload_node auth ok
check_prints "$WORK/out.ini" "^trust    authority corp $ID2"
ID_old=$(make_identity old)
cred_issue ca.key old --attr role=app --ttl 1h
redis_inlet old "credential = old.cred"
start_node old "$WORK/old.ini"
[ "$(ping_via old)" = PONG ] || die "step 1: ID1's credential refused"
pong "step 1"

# Step 2: the authority signs with the next key; app's next renewal is
# from ID2 and the outlet takes it in-band.
N=$(renewals)
auth_ini ca2.key "$ID1" "$ID2"
reload_node auth ok
from_id2() { [ "$(issuer_of "$WORK/app.cred")" = "$ID2" ]; }
wait_until 40 from_id2 || die "app's credential is not from ID2 after \
$(($(renewals) - N)) renewals: $(grep 'event=renew' "$WORK/app.log" | tail -n 2)"
wait_until 10 log_has "$WORK/out.log" event=audit decision=allow \
    reason=credential-renewed "peer=$APP_ID" ||
	die "the outlet took no renewed credential"
wait_until 30 renewals_ge $(($(renewals) + 1)) ||
	die "app did not renew from ID2 with its ID2 credential"
[ "$(issuer_of "$WORK/app.cred")" = "$ID2" ] || die "not from ID2"
pong "step 2"

# Step 3: ID1 is trusted no more.
trust "$ID2"
auth_ini ca2.key "$ID2"
reload_node auth ok
pong "step 3"
[ "$(ping_via old)" != PONG ] || die "step 3: ID1's credential admitted"
wait_until 10 log_has "$WORK/out.log" decision=deny "peer=$ID_old" ||
	die "the outlet did not deny ID1's credential"
wait_until 30 renewals_ge $(($(renewals) + 1)) ||
	die "app did not renew once ID1 was gone"
pong "step 3, renewed"
proc_alive "$CLI_PID" || die "the long-lived connection ended early"

wait "$CLI_PID" || die "redis-cli failed: $(tail -n 3 "$WORK/pings.out")"
forget_pid "$CLI_PID"
[ "$(grep -c '^PONG$' "$WORK/pings.out")" = 600 ] ||
	die "not 600 PONGs: $(grep -v '^PONG$' "$WORK/pings.out" | head -n 3)"
# The long-lived connection and the five new ones: opened once each.
[ "$(log_count "$WORK/out.log" event=open role=outlet "peer=$APP_ID")" = 6 ] ||
	die "app's connections were opened again: $(grep "event=open role=outlet" "$WORK/out.log")"
! grep -q "decision=deny.*peer=$APP_ID" "$WORK/out.log" ||
	die "the outlet denied app: $(grep decision=deny "$WORK/out.log")"

say "ok: rotated corp from ID1 to ID2 in three reload steps; 600 PONGs" \
    "over one connection, a new one at each step; ID1 refused after step 3"
