#!/bin/sh
# An inlet pinned by attribute (issue 11): `outlet = role=db@corp@...`
# accepts any outlet whose identity holds a valid role=db credential from
# corp, so two outlets with different keys (a, b) serve one name, both
# directly (db.test has the addresses of a then b in this namespace's
# /etc/hosts; the inlet tries them in order) and through a relay (hub,
# whose `register = role=db@corp` lets both register db).  In a network
# namespace (loopback only), in front of a real redis:
# - a and b up: the direct inlet reaches a (audit allow rule=role=db@corp
#   peer=a); the relayed one reaches one of them;
# - a stopped: both inlets reach b;
# - b's credential serial revoked at the inlet (reload): its live
#   subscription ends at once (reload_ends: the goal, 1 s, is measured by
#   bench/timing.sh) (audit deny reason=revoked), a new
#   connection is refused (reason=credential-revoked);
# - b stopped, a started again: both inlets reach a;
# - c (a valid corp credential, role=cache) is refused by the inlet before
#   msg3 (reason=peer-mismatch expected_rule=role=db@corp peer=c): c never
#   hears the service name; d (role=db from another authority) is refused
#   with reason=credential-untrusted;
# - e (role=db, valid 5 s; the inlet's credential_skew is 0): the inlet's
#   live connection to it ends at that expiry (audit deny
#   reason=credential-expired role=inlet), though e itself keeps it;
# - a renews its credential (reload): the inlet's live connection stays
#   (in-band, audit allow reason=credential-renewed); renewed as
#   role=cache, the inlet ends it at once (reason=peer-mismatch).
# Needs root (skips with 77 otherwise).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/dnslib.sh"
need redis-server redis-cli

# Fixed ports: the namespace is this test's own.
REDIS_PORT=6379
NODE_PORT=7400
HUB_PORT=7500
P_direct=15001
P_relayed=15002
P_wrong=15003
P_rogue=15004
P_short=15005

dns_setup
dns_hosts "127.0.0.2 db.test" "127.0.0.3 db.test"
ns_spawn dns "$WORK/redis.log" redis-server --port "$REDIS_PORT" \
    --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK"
wait_until 10 eval 'ns_exec dns redis-cli -p $REDIS_PORT PING >/dev/null 2>&1' ||
	die "redis did not start"

CA_ID=$("$SALLYPORT" authority create "$WORK/ca.key" | tail -n 1)
"$SALLYPORT" authority create "$WORK/rogue-ca.key" >/dev/null ||
	die "authority create failed"
for n in hub app a b c d e; do
	eval "ID_$n=\$(make_identity $n)"
done
cred_issue ca.key app --attr role=app --ttl 1h
cred_issue ca.key a --attr role=db --attr env=prod --ttl 1h
cred_issue ca.key b --attr role=db --ttl 1h
cred_issue ca.key c --attr role=cache --ttl 1h
cred_issue rogue-ca.key d --attr role=db --ttl 1h
SERIAL_b=$("$SALLYPORT" credential show "$WORK/b.cred" | sed -n 's/^serial *//p')
[ -n "$SERIAL_b" ] || die "no serial for b's credential"

{
	ini_node "$WORK/hub.key" "127.0.0.1:$HUB_PORT"
	ini_authorities corp "$CA_ID"
	echo "[relay db]"
	echo "register = role=db@corp"
	echo "allow = role=app@corp"
	echo
} >"$WORK/hub.ini"
# outlet(name, address): an outlet node at ${address}:$NODE_PORT in front
# of redis, presenting its credential, letting role=app@corp in; a and b
# also register db at hub.
outlet()
{
	{
		ini_node "$WORK/$1.key" "$2:$NODE_PORT" \
		    "credential = $WORK/$1.cred"
		ini_authorities corp "$CA_ID"
		ini_peers hub "$ID_hub"
		echo "[outlet db]"
		echo "target = 127.0.0.1:$REDIS_PORT"
		echo "allow = role=app@corp"
		case $1 in
		a|b) echo "relay = hub@127.0.0.1:$HUB_PORT" ;;
		esac
		echo
	} >"$WORK/$1.ini"
}
outlet a 127.0.0.2
outlet b 127.0.0.3
outlet c 127.0.0.4
outlet d 127.0.0.5
outlet e 127.0.0.6
echo "# nothing revoked yet" >"$WORK/revoked"
# pinned(name, outlet-value [via]): an [inlet] of app asking for db.
pinned()
{
	echo "[inlet $1]"
	eval "echo \"listen = 127.0.0.1:\$P_$1\""
	echo "outlet = $2"
	[ -z "${3:-}" ] || echo "via = $3"
	echo "service = db"
	echo
}
{
	ini_node "$WORK/app.key" "" "credential = $WORK/app.cred" \
	    "revoked = $WORK/revoked" "credential_skew = 0"
	ini_authorities corp "$CA_ID"
	ini_peers hub "$ID_hub"
	pinned direct "role=db@corp@db.test:$NODE_PORT"
	pinned relayed "role=db@corp" "hub@127.0.0.1:$HUB_PORT"
	pinned wrong "role=db@corp@127.0.0.4:$NODE_PORT"
	pinned rogue "role=db@corp@127.0.0.5:$NODE_PORT"
	pinned short "role=db@corp@127.0.0.6:$NODE_PORT"
} >"$WORK/app.ini"
"$SALLYPORT" check "$WORK/app.ini" >"$WORK/check.out" 2>&1 ||
	die "check app.ini: $(cat "$WORK/check.out")"
grep -q "outlet node by rule role=db@corp" "$WORK/check.out" ||
	die "check does not print the rule: $(cat "$WORK/check.out")"

ns_start_node dns hub "$WORK/hub.ini"
for n in a b c d; do
	ns_start_node dns $n "$WORK/$n.ini"
done
wait_for_event "$WORK/hub.log" 10 event=audit decision=allow \
    reason=registered "peer=$ID_a" rule=role=db@corp
wait_for_event "$WORK/hub.log" 10 event=audit decision=allow \
    reason=registered "peer=$ID_b" rule=role=db@corp
ns_start_node dns app "$WORK/app.ini"

# ping(inlet): redis PING through ${inlet}; prints the answer.
ping()
{
	eval "_p=\$P_$1"
	ns_exec dns redis-cli -p "$_p" PING 2>&1 || true
}
# reaches(inlet, outlet): a PING through ${inlet} comes back and the
# inlet's open line names ${outlet}'s identity.
reaches()
{
	eval "_id=\$ID_$2"
	_before=$(log_count "$WORK/app.log" event=open role=inlet "name=$1" \
	    "peer=$_id")
	[ "$(ping "$1")" = PONG ] || return 1
	[ "$(log_count "$WORK/app.log" event=open role=inlet "name=$1" \
	    "peer=$_id")" -gt "$_before" ]
}

# Both up: the direct inlet takes the first address (a).
reaches direct a || die "the direct inlet did not reach a"
wait_for_event "$WORK/app.log" 5 event=audit decision=allow role=inlet \
    "peer=$ID_a" rule=role=db@corp
[ "$(ping relayed)" = PONG ] || die "the relayed inlet got no PONG"
wait_for_event "$WORK/app.log" 5 event=open role=inlet name=relayed
say "a and b up: direct reached a, relayed reached one"

# a stopped: b serves both ways (the relay forgets a once its sessions
# close; a few tries at most).
stop_pid "$PID_a"
reaches direct b || die "the direct inlet did not fail over to b"
wait_until 10 reaches relayed b || die "the relayed inlet did not reach b"
say "a stopped: both inlets reached b"

# b revoked at the inlet by reload: its live connection ends at once.
ns_spawn dns "$WORK/sub.out" redis-cli -p "$P_direct" SUBSCRIBE news
SUB=$LAST_PID
wait_until 10 eval '[ "$(ns_exec dns redis-cli -p $REDIS_PORT PUBSUB NUMSUB news | sed -n 2p)" = 1 ]' ||
	die "the subscription through b is not up"
printf '%s\n' "$SERIAL_b" >"$WORK/revoked"
reload_ends app "$SUB"
wait_for_event "$WORK/app.log" 2 event=audit decision=deny reason=revoked \
    role=inlet "peer=$ID_b"
[ "$(ping direct)" = PONG ] && die "b was reached after its revocation"
wait_for_event "$WORK/app.log" 5 event=audit decision=deny \
    reason=credential-revoked role=inlet "peer=$ID_b" \
    expected_rule=role=db@corp
say "b revoked: live connection ended in $ENDED_MS ms"

# b stopped, a back: a serves both ways.
stop_pid "$PID_b"
ns_start_node dns a "$WORK/a.ini"
reaches direct a || die "the direct inlet did not reach a again"
wait_until 10 reaches relayed a || die "the relayed inlet did not reach a"
say "b stopped, a back: both inlets reached a"

# A valid credential without the attribute, and one from an authority the
# inlet does not trust: refused before msg3.
[ "$(ping wrong)" = PONG ] && die "c (role=cache) was reached"
wait_for_event "$WORK/app.log" 5 event=audit decision=deny role=inlet \
    reason=peer-mismatch "peer=$ID_c" expected_rule=role=db@corp
[ "$(ping rogue)" = PONG ] && die "d (untrusted authority) was reached"
wait_for_event "$WORK/app.log" 5 event=audit decision=deny role=inlet \
    reason=credential-untrusted "peer=$ID_d" expected_rule=role=db@corp
for n in c d; do
	! log_has "$WORK/$n.log" event=audit ||
		die "$n made an access decision: it heard a request"
	! grep -q service=db "$WORK/$n.log" || die "$n heard the service name"
done
say "ok: c refused (peer-mismatch), d refused (credential-untrusted)"

# The credential that admitted an outlet ends the inlet's connection at
# its expiry (issued here, just before e starts).
cred_issue ca.key e --attr role=db --ttl 5s
ns_start_node dns e "$WORK/e.ini"
ns_spawn dns "$WORK/sub-short.out" redis-cli -p "$P_short" SUBSCRIBE news
SUB=$LAST_PID
wait_for_event "$WORK/app.log" 5 event=open role=inlet name=short \
    "peer=$ID_e"
wait_until 10 proc_gone "$SUB" ||
	die "the connection to e outlived e's credential"
wait_for_event "$WORK/app.log" 2 event=audit decision=deny role=inlet \
    reason=credential-expired "peer=$ID_e"
! log_has "$WORK/e.log" event=audit decision=deny ||
	die "e ended it, not the inlet"
say "ok: the connection to e ended at its credential's expiry"

# a renews its credential (reload): the inlet takes it in-band and keeps
# its live connection (audit allow reason=credential-renewed); renewed
# without role=db, the inlet ends the connection at once.
ns_spawn dns "$WORK/sub-a.out" redis-cli -p "$P_direct" SUBSCRIBE news
SUB=$LAST_PID
wait_until 10 eval '[ "$(ns_exec dns redis-cli -p $REDIS_PORT PUBSUB NUMSUB news | sed -n 2p)" = 1 ]' ||
	die "the subscription through a is not up"
cred_issue ca.key a --attr role=db --ttl 2h
reload_node a
wait_for_event "$WORK/app.log" 5 event=audit decision=allow role=inlet \
    reason=credential-renewed "peer=$ID_a" rule=role=db@corp
proc_alive "$SUB" || die "a's renewal ended the subscription"
cred_issue ca.key a --attr role=cache --ttl 2h
reload_node a
wait_until 5 proc_gone "$SUB" ||
	die "the subscription survived a's renewal without role=db"
wait_for_event "$WORK/app.log" 2 event=audit decision=deny role=inlet \
    reason=peer-mismatch "peer=$ID_a"
say "ok: a's renewal kept the connection; without role=db it ended it"
