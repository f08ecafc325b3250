#!/bin/sh
# Deny entries beat allow entries (issue 22), with real redis, directly
# and through a relay.  One authority (corp).
# Direct: the outlet node out has `allow = role=app@corp, banned` and
# `deny = role=app+env=dev|test@corp, banned`:
# - prod (role=app, env=prod): PONG, audit allow rule=role=app@corp;
# - dev (role=app, env=dev): refused, audit deny reason=denied
#   deny_rule=role=app+env=dev|test@corp with peer= and src=;
# - banned (no credential, allowed and denied by name): refused,
#   deny_rule= its identifier.
# Try-out entries on the same outlet, never enforced:
# `try_deny = role=app+env=prod@corp` logs decision=would-deny for prod,
# which is still served; `try_allow = role=qa@corp` logs would-allow for qa
# (role=qa), which is still refused; both are counted in
# sallyport_access_decisions_total.
# A reload that adds `deny = role=app+env=prod@corp` ends prod's live
# subscription at once (audit deny reason=revoked, as for any access a
# reload takes away), and refuses prod's next connection (reason=denied).
# An inlet pinned by rule (outlet = role=db@corp@...) with
# `deny = role=db+env=old@corp`: it reaches the outlet node newdb
# (role=db, env=new) and refuses olddb (role=db, env=old) before msg3,
# audit deny reason=denied deny_rule=role=db+env=old@corp role=inlet.
# Through the relay hub, whose [relay redis] has `allow = role=app@corp`
# and `deny = role=app+!env=prod@corp` (an outlet node db behind it lets
# every app in): rprod (env=prod) gets PONG; rtest (env=test) is refused
# at the relay (deny_rule=, peer=, src=) and db never hears of it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/relaylib.sh"
need redis-server redis-cli

start_redis

CA_ID=$("$SALLYPORT" authority create "$WORK/ca.key" | tail -n 1)
OUT_ID=$(make_identity out)
for n in prod dev banned qa hub db rprod rtest newdb olddb pin; do
	eval "ID_$n=\$(make_identity $n)"
done
cred_issue ca.key prod --attr role=app --attr env=prod --ttl 1h
cred_issue ca.key dev --attr role=app --attr env=dev --ttl 1h
cred_issue ca.key qa --attr role=qa --ttl 1h
cred_issue ca.key rprod --attr role=app --attr env=prod --ttl 1h
cred_issue ca.key rtest --attr role=app --attr env=test --ttl 1h

NODE_PORT=$(free_port)
ADMIN_PORT=$(free_port)
{
	ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT" \
	    "admin = 127.0.0.1:$ADMIN_PORT"
	ini_authorities corp "$CA_ID"
	ini_peers banned "$ID_banned"
	ini_outlet redis "127.0.0.1:$REDIS_PORT" "role=app@corp, banned"
	echo "deny = role=app+env=dev|test@corp"
	echo "deny = banned"
	echo "try_deny = role=app+env=prod@corp"
	echo "try_allow = role=qa@corp"
	echo
} >"$WORK/out.ini"
check_prints "$WORK/out.ini" "deny: banned (.*), env=dev|test+role=app@corp; \
try_allow: role=qa@corp; try_deny: env=prod+role=app@corp$"
start_node out "$WORK/out.ini"

redis_inlet prod "credential = prod.cred"
redis_inlet dev "credential = dev.cred"
redis_inlet banned
redis_inlet qa "credential = qa.cred"
for n in prod dev banned qa; do
	start_node $n "$WORK/$n.ini"
done

[ "$(ping_via prod)" = PONG ] || die "prod is not let through"
wait_for_event "$WORK/out.log" 5 event=audit decision=allow \
    "peer=$ID_prod" rule=role=app@corp
[ "$(ping_via dev)" = PONG ] && die "dev got through a deny rule"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny reason=denied \
    "peer=$ID_dev" role=outlet "deny_rule=role=app+env=dev|test@corp"
[ "$(ping_via banned)" = PONG ] && die "banned got through its deny entry"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny reason=denied \
    "peer=$ID_banned" role=outlet "deny_rule=$ID_banned"
log_has "$WORK/out.log" event=open role=outlet "peer=$ID_dev" &&
	die "the outlet opened dev's connection"
say "direct: $(grep "reason=denied peer=$ID_dev" "$WORK/out.log" | head -n 1)"

# Try-out entries log and change nothing.
wait_for_event "$WORK/out.log" 5 event=audit decision=would-deny \
    reason=try "peer=$ID_prod" role=outlet \
    "deny_rule=role=app+env=prod@corp"
[ "$(ping_via prod)" = PONG ] || die "a try_deny entry was enforced"
[ "$(ping_via qa)" = PONG ] && die "a try_allow entry was enforced"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny \
    reason=not-allowed "peer=$ID_qa" role=outlet
wait_for_event "$WORK/out.log" 5 event=audit decision=would-allow \
    reason=try "peer=$ID_qa" role=outlet rule=role=qa@corp
log_has "$WORK/out.log" event=open role=outlet "peer=$ID_qa" &&
	die "the outlet opened qa's connection"
log_has "$WORK/out.log" decision=would-allow "peer=$ID_dev" &&
	die "a try line for a peer a deny entry refused"
say "try: $(grep "decision=would-allow" "$WORK/out.log" | head -n 1)"

# A deny entry added by a reload ends the live connections it names.
spawn "$WORK/sub-prod.out" redis-cli -h 127.0.0.1 -p "$P_prod" SUBSCRIBE news
SUB_PROD=$LAST_PID
wait_until 10 eval '[ "$(redis-cli -p $REDIS_PORT PUBSUB NUMSUB news | sed -n 2p)" = 1 ]' ||
	die "prod's subscription is not up"
sed 's/^try_deny = .*/deny = role=app+env=prod@corp/' "$WORK/out.ini" |
    write_ini "$WORK/out.ini"
reload_ends out "$SUB_PROD"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny reason=revoked \
    "peer=$ID_prod" role=outlet
[ "$(ping_via prod)" = PONG ] && die "prod got through after the reload"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny reason=denied \
    "peer=$ID_prod" "deny_rule=role=app+env=prod@corp"
say "reload: prod's subscription ended $ENDED_MS ms after the reload"

# An inlet pinned by rule refuses the outlet its deny entry names.
cred_issue ca.key newdb --attr role=db --attr env=new --ttl 1h
cred_issue ca.key olddb --attr role=db --attr env=old --ttl 1h
for n in newdb olddb; do
	eval "PORT_$n=\$(free_port)"
	eval "_p=\$PORT_$n"
	{
		ini_node "$WORK/$n.key" "127.0.0.1:$_p" "credential = $n.cred"
		ini_peers pin "$ID_pin"
		ini_outlet redis "127.0.0.1:$REDIS_PORT" pin
	} >"$WORK/$n.ini"
	start_node $n "$WORK/$n.ini"
done
P_PIN=$(free_port)
{
	ini_node "$WORK/pin.key" ""
	ini_authorities corp "$CA_ID"
	echo "[inlet new]"
	echo "listen = 127.0.0.1:$P_PIN"
	echo "outlet = role=db@corp@127.0.0.1:$PORT_newdb"
	echo "service = redis"
	echo "deny = role=db+env=old@corp"
	echo
	P_PINOLD=$(free_port)
	echo "[inlet old]"
	echo "listen = 127.0.0.1:$P_PINOLD"
	echo "outlet = role=db@corp@127.0.0.1:$PORT_olddb"
	echo "service = redis"
	echo "deny = role=db+env=old@corp"
	echo
} >"$WORK/pin.ini"
start_node pin "$WORK/pin.ini"
[ "$(redis-cli -h 127.0.0.1 -p "$P_PIN" PING 2>&1)" = PONG ] ||
	die "the pinned inlet does not reach newdb"
[ "$(redis-cli -h 127.0.0.1 -p "$P_PINOLD" PING 2>&1 || true)" = PONG ] &&
	die "the pinned inlet reached olddb despite its deny entry"
wait_for_event "$WORK/pin.log" 5 event=audit decision=deny reason=denied \
    "peer=$ID_olddb" role=inlet "deny_rule=role=db+env=old@corp"
log_has "$WORK/olddb.log" event=open role=outlet &&
	die "olddb opened a connection"
say "pin: $(grep "reason=denied peer=$ID_olddb" "$WORK/pin.log" | head -n 1)"
# Counted by decision.
for d in would-allow would-deny; do
	m=$(metric "$ADMIN_PORT" "sallyport_access_decisions_total{role=\"outlet\",decision=\"$d\",reason=\"try\"}")
	[ "$m" -ge 1 ] || die "no $d in the metrics ($m)"
done

# has_src(log, id): the deny line of ${id} in ${log} names its source.
has_src()
{
	grep "decision=deny reason=denied peer=$2 " "$1" |
	    grep -q ' src=127\.0\.0\.1:[0-9]*$' ||
		die "no src= on the deny of $2 in $(basename "$1")"
}
has_src "$WORK/out.log" "$ID_dev"
has_src "$WORK/out.log" "$ID_banned"

# Through a relay.
relay_supported
HUB_PORT=$(free_port)
HUB="hub@127.0.0.1:$HUB_PORT"
{
	ini_node "$WORK/hub.key" "127.0.0.1:$HUB_PORT"
	ini_authorities corp "$CA_ID"
	ini_peers db "$ID_db"
	ini_relay redis "register=db" "allow=role=app@corp" \
	    "deny=role=app+!env=prod@corp"
} >"$WORK/hub.ini"
{
	ini_node "$WORK/db.key" ""
	ini_authorities corp "$CA_ID"
	ini_peers hub "$ID_hub"
	ini_outlet_relay redis "127.0.0.1:$REDIS_PORT" "$HUB" "role=app@corp"
} >"$WORK/db.ini"
for n in rprod rtest; do
	eval "P_$n=\$(free_port)"
	eval "_p=\$P_$n"
	{
		ini_node "$WORK/$n.key" "" "credential = $n.cred"
		ini_peers hub "$ID_hub" db "$ID_db"
		ini_inlet_via redis "127.0.0.1:$_p" db "$HUB"
	} >"$WORK/$n.ini"
done
start_node hub "$WORK/hub.ini"
start_node db "$WORK/db.ini"
wait_for_event "$WORK/db.log" 10 event=session-open role=outlet kind=register
start_node rprod "$WORK/rprod.ini"
wait_for_event "$WORK/rprod.log" 10 event=session-open role=inlet
ping_rprod() { [ "$(ping_via rprod)" = PONG ]; }
wait_until 10 ping_rprod || die "rprod is not let through the relay"
start_node rtest "$WORK/rtest.ini"
wait_for_event "$WORK/hub.log" 10 event=audit decision=deny reason=denied \
    "peer=$ID_rtest" role=relay "deny_rule=role=app+!env=prod@corp"
[ "$(ping_via rtest)" = PONG ] && die "rtest got through the relay's deny"
has_src "$WORK/hub.log" "$ID_rtest"
grep -q "peer=$ID_rtest" "$WORK/db.log" && die "the outlet heard of rtest"
ping_rprod || die "rprod lost its way after rtest's deny"
say "relay: $(grep "reason=denied peer=$ID_rtest" "$WORK/hub.log" | head -n 1)"
say "ok"
