#!/bin/sh
# Revocation from the authority (issue 21).  corp issues credentials of
# 15 s; the outlet node enrolled with corp too (so it fetches corp's
# revocation list: with each renewal, and every 60 s), and allows
# role=app@corp.  A member's live redis connection ends once the
# authority's command line removed it: at the outlet's next renewal or
# fetch (the bound: 60 s and a reload; here a renewal, within 15 s),
# audit reason=revoked; a new connection of it is refused.
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli

start_redis
S=$SALLYPORT
"$S" authority create "$WORK/ca.key" >/dev/null
make_identity auth >/dev/null
OUT_ID=$(make_identity out)
AUTH_PORT=$(free_port)
NODE_PORT=$(free_port)
mkdir "$WORK/store"
{
	ini_node auth.key "127.0.0.1:$AUTH_PORT"
	echo "[authority corp]"
	echo "key = ca.key"
	echo "store = store/corp.db"
	echo "credential_ttl = 15"
} >"$WORK/auth.ini"
start_node auth "$WORK/auth.ini"

token()
{
	"$S" authority token create "$WORK/auth.ini" corp --attr "$2" \
	    >"$WORK/$1.token" 2>/dev/null || die "token create failed"
}
token out role=outlet
{
	ini_node out.key "127.0.0.1:$NODE_PORT" "enroll = out.token" \
	    "enroll_credential = out.cred"
	ini_outlet redis "127.0.0.1:$REDIS_PORT" "role=app@corp"
} >"$WORK/out.ini"
start_node out "$WORK/out.ini"

token app role=app
"$S" identity create "$WORK/app.key" >/dev/null
redis_inlet app "enroll = app.token" "enroll_credential = app.cred"
start_node app "$WORK/app.ini"
APP_ID=$("$S" identity show "$WORK/app.key")

# A live connection: PINGs every 0.2 s, for up to 3 minutes.
redis-cli -h 127.0.0.1 -p "$P_app" -r 900 -i 0.2 PING \
    >"$WORK/pings.out" 2>&1 &
CLI_PID=$!
PIDS="$PIDS $CLI_PID"
wait_until 10 log_has "$WORK/out.log" event=open role=outlet \
    "peer=$APP_ID" || die "the connection did not open"

T0=$(now_ms)
"$S" authority member remove "$WORK/auth.ini" corp "$APP_ID" \
    >"$WORK/remove.out" 2>&1 || die "member remove failed: $(cat "$WORK/remove.out")"
wait_for_event "$WORK/out.log" 75 event=audit decision=deny reason=revoked \
    "peer=$APP_ID"
ELAPSED=$(($(now_ms) - T0))
wait_for_event "$WORK/out.log" 10 event=close role=outlet reason=revoked
wait "$CLI_PID" 2>/dev/null || true
forget_pid "$CLI_PID"
PONGS=$(grep -c '^PONG$' "$WORK/pings.out" || true)
[ "$PONGS" -lt 900 ] || die "the connection outlived the removal"
# The next renewal of the removed member is refused.
wait_for_event "$WORK/app.log" 30 event=renew result=refused \
    reason=member-removed
say "ok: a removed member's live connection ended ${ELAPSED} ms after" \
    "member remove (after $PONGS PONGs); its renewal refused"
