#!/bin/sh
# Revocation by reload (issue 8 part 2).  Two inlet nodes (identities app
# and app2) each hold a long-lived `redis-cli SUBSCRIBE` through the same
# outlet.  A reload of the outlet that takes app off the allow-list:
# - closes app's subscription at once: its redis-cli ends soon after the
#   outlet's reload line is seen (reload_ends: 10 s allowed, stretched by
#   $SLOW; bench/timing.sh measures the goal, 1 s); the outlet logs
#   `audit decision=deny reason=revoked` and `close reason=revoked` for
#   app's connection, and its reload line says revoked=1;
# - a new connection from app is denied (audit reason=not-allowed);
# - app2's subscription is untouched: a message published after the
#   reload reaches it, and redis still counts exactly one subscriber.
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli

start_redis
rcli()
{
	redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

OUT_ID=$(make_identity out)
APP_ID=$(make_identity app)
APP2_ID=$(make_identity app2)
NODE_PORT=$(free_port)
write_out()
{
	{
		ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT"
		ini_peers app "$APP_ID" app2 "$APP2_ID"
		ini_outlet redis "127.0.0.1:$REDIS_PORT" "$@"
	} | write_ini "$WORK/out.ini"
}
write_out app app2
redis_inlet app
redis_inlet app2
start_node out "$WORK/out.ini"
start_node app "$WORK/app.ini"
start_node app2 "$WORK/app2.ini"

numsub()
{
	rcli PUBSUB NUMSUB news | sed -n 2p
}
spawn "$WORK/sub-app.out" redis-cli -h 127.0.0.1 -p "$P_app" SUBSCRIBE news
SUB_APP=$LAST_PID
wait_until 10 eval '[ "$(numsub)" = 1 ]' || die "app's subscription is not up"
spawn "$WORK/sub-app2.out" redis-cli -h 127.0.0.1 -p "$P_app2" SUBSCRIBE news
SUB_APP2=$LAST_PID
wait_until 10 eval '[ "$(numsub)" = 2 ]' || die "app2's subscription is not up"
[ "$(rcli PUBLISH news before-reload)" = 2 ] || die "publish before: not 2"
for f in sub-app sub-app2; do
	wait_for_log "$WORK/$f.out" '^before-reload$' 5
done
wait_for_event "$WORK/out.log" 5 event=open role=outlet "peer=$APP_ID"
wait_for_event "$WORK/out.log" 5 event=open role=outlet "peer=$APP2_ID"

# Take app off the allow-list.
write_out app2
reload_ends out "$SUB_APP"
say "reload: $RELOAD_LINE"
say "app's redis-cli ended $ENDED_MS ms after the reload line was seen"
wait_exit "$SUB_APP" 5 || true
say "app's redis-cli: $(tr '\n' ' ' <"$WORK/sub-app.out")"
case " $RELOAD_LINE " in
*" revoked=1 "*) ;;
*) die "the reload line does not say revoked=1: $RELOAD_LINE" ;;
esac
log_has "$WORK/out.log" event=reload-change kind=outlet name=redis \
    change=changed || die "no reload-change line for outlet redis"
wait_for_event "$WORK/out.log" 2 event=audit decision=deny reason=revoked \
    "peer=$APP_ID" service=redis role=outlet
wait_for_event "$WORK/out.log" 2 event=close role=outlet reason=revoked \
    "peer=$APP_ID" service=redis
log_has "$WORK/out.log" reason=revoked "peer=$APP2_ID" &&
	die "app2's connection was revoked too"

# app2 is untouched.
proc_alive "$SUB_APP2" || die "app2's subscription ended"
[ "$(numsub)" = 1 ] || die "redis counts $(numsub) subscribers, not 1"
[ "$(rcli PUBLISH news after-reload)" = 1 ] || die "publish after: not 1"
wait_for_log "$WORK/sub-app2.out" '^after-reload$' 5
grep -q '^after-reload$' "$WORK/sub-app.out" &&
	die "app received a message after its revocation"

# A new connection from app is denied.
out=$(redis-cli -h 127.0.0.1 -p "$P_app" PING 2>&1 || true)
say "new connection from app: $out"
[ "$out" = PONG ] && die "app still gets through after the reload"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny \
    reason=not-allowed "peer=$APP_ID" service=redis role=outlet
[ "$(redis-cli -h 127.0.0.1 -p "$P_app2" PING)" = PONG ] ||
	die "a new connection from app2 failed"
proc_alive "$SUB_APP2" || die "app2's subscription ended"
say "ok: app revoked in $ENDED_MS ms, app2 untouched"
