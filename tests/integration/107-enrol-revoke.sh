#!/bin/sh
# Revocation from the authority (issue 21).  corp issues credentials of
# 15 s; the outlet node enrolled with corp too (so it fetches corp's
# revocation list: with each renewal, and every 60 s), and allows
# role=app@corp.  A member's live redis connection ends once the
# authority's command line removed it: at the outlet's next renewal or
# fetch (the bound: 60 s and a reload; here a renewal, within 15 s),
# audit reason=revoked; a new connection of it is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authlib.sh"
need redis-server redis-cli

start_redis
S=$SALLYPORT
start_authority 15
token_file "$WORK/out.token" role=outlet
redis_outlet "enroll = out.token" "enroll_credential = out.cred"
enrolled app
APP_ID=$ID_app
# A live connection: PINGs every 0.2 s, for up to 3 minutes.
ping_loop app 900

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
