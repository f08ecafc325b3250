#!/bin/sh
# Renewal (issue 21).  corp issues credentials of 15 s; the outlet in
# front of redis allows only role=app@corp:
# - a node that enrolled by token renews by itself (event=renew
#   result=ok, a new serial each time; the outlet takes each one in-band:
#   audit reason=credential-renewed), and one redis connection carries
#   PINGs across several renewals without being closed or refused;
# - the authority stopped (SIGTERM) and started again after the node
#   found it unreachable changes nothing for that connection;
# - clone detection: another member (dup) renews three times; a second
#   node with dup's key and the credential dup had after its first
#   renewal asks to renew: refused credential-superseded, the member
#   locked (dup's next renewal is refused: member-locked).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authlib.sh"
need redis-server redis-cli

start_redis
S=$SALLYPORT
mkdir "$WORK/clone"
start_authority 15
redis_outlet
enrolled app
enrolled dup
APP_ID=$ID_app
DUP_ID=$ID_dup

# One connection, a PING every 0.2 s for 60 s (4 lifetimes).
ping_loop app 300

# Two renewals, each taken in-band by the outlet.
renewals() { [ "$(grep -c 'event=renew .*result=ok' "$WORK/$1.log")" -ge "$2" ]; }
wait_until 30 renewals app 2 || die "fewer than 2 renewals in 30 s"
wait_until 10 log_has "$WORK/out.log" event=audit decision=allow \
    reason=credential-renewed "peer=$APP_ID" ||
	die "the outlet took no renewed credential"

# Clone: dup's key with a credential dup had, once dup has renewed twice
# more (a copy of the file: the same key, an older serial).
wait_until 30 renewals dup 1 || die "dup did not renew"
D=$(grep -c 'event=renew .*result=ok' "$WORK/dup.log")
cp "$WORK/dup.cred" "$WORK/clone/dup.cred"
wait_until 40 renewals dup $((D + 2)) || die "dup did not renew twice more"
cp "$WORK/dup.key" "$WORK/clone/dup.key"
cp "$WORK/dup.token" "$WORK/clone/dup.token"
{
	ini_node "$WORK/clone/dup.key" "" "enroll = dup.token" \
	    "enroll_credential = dup.cred"
	ini_peers server "$OUT_ID"
	ini_inlet redis "127.0.0.1:$(free_port)" "server@127.0.0.1:$NODE_PORT"
} >"$WORK/clone/clone.ini"
start_node clone "$WORK/clone/clone.ini"
wait_for_event "$WORK/auth.log" 30 event=audit decision=deny \
    reason=credential-superseded "peer=$DUP_ID"
wait_for_event "$WORK/clone.log" 10 event=renew result=refused \
    reason=credential-superseded
wait_for_event "$WORK/dup.log" 40 event=renew result=refused reason=member-locked

# The authority goes away; the node finds it unreachable; it comes back.
stop_pid "$AUTH_PID"
forget_pid "$AUTH_PID"
wait_until 30 log_has "$WORK/app.log" event=renew result=unreachable ||
	die "the node never found the authority unreachable"
mv "$WORK/auth.log" "$WORK/auth-1.log"
start_node auth "$WORK/auth.ini"
N=$(grep -c 'event=renew .*result=ok' "$WORK/app.log")
wait_until 40 renewals app $((N + 1)) || die "no renewal after the outage"

wait "$CLI_PID" || die "redis-cli failed: $(tail -n 3 "$WORK/pings.out")"
forget_pid "$CLI_PID"
[ "$(grep -c '^PONG$' "$WORK/pings.out")" = 300 ] ||
	die "not 300 PONGs: $(grep -v '^PONG$' "$WORK/pings.out" | head -n 3)"
[ "$(grep -c "event=open role=outlet .*peer=$APP_ID" "$WORK/out.log")" = 1 ] ||
	die "the connection was opened again"
! grep -q "decision=deny.*peer=$APP_ID" "$WORK/out.log" ||
	die "the outlet denied the node: $(grep decision=deny "$WORK/out.log")"
SERIALS=$(grep -o 'event=renew .*result=ok serial=S[0-9a-f]*' \
    "$WORK/app.log" | sed 's/.*serial=//' | sort -u | wc -l)
[ "$SERIALS" -ge 3 ] || die "renewals gave $SERIALS serials"

say "ok: $SERIALS serials renewed in-band over one connection (300 PONGs)," \
    "an authority outage survived, a clone locked the member"
