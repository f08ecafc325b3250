#!/bin/sh
# Credentials at an outlet (issue 11).  One authority (corp), an outlet in
# front of redis whose allow list is the rule role=app@corp, and inlet
# nodes with different credentials:
# - app (role=app from corp): allowed, audit rule=role=app@corp;
# - none (no credential): denied, reason=not-allowed;
# - rogue (role=app from another authority): credential-untrusted;
# - old (expired an hour ago): credential-expired;
# - early (valid from in an hour): credential-not-yet-valid;
# - thief (app's credential file): its node refuses to start (subject);
# - short (valid 3 s, outlet skew 0): its live connection ends at expiry;
# - app renews its credential (reload = watch): its live subscription
#   stays (the new credential is sent in-band: audit reason=
#   credential-renewed), a new connection still passes;
# - brief (valid 8 s) renews in-band: its live subscription outlives the
#   first credential; renewed again without role=app: it ends at once;
# - app's serial revoked by reload: its subscription closes at once
#   (reload_ends; audit reason=revoked), a new connection is
#   credential-revoked.
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli

start_redis

CA_ID=$("$SALLYPORT" authority create "$WORK/ca.key" | tail -n 1)
"$SALLYPORT" authority create "$WORK/rogue-ca.key" >/dev/null
OUT_ID=$(make_identity out)
NODE_PORT=$(free_port)
write_out()
{
	{
		ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT" \
		    "credential_skew = 0" "revoked = $WORK/revoked"
		echo "[authorities]"
		echo "corp = $CA_ID"
		echo
		ini_outlet redis "127.0.0.1:$REDIS_PORT" "role=app@corp"
	} | write_ini "$WORK/out.ini"
}
echo "# nothing revoked yet" >"$WORK/revoked"
write_out
start_node out "$WORK/out.ini"

# inlet(name, credential-file-or-empty, extra lines...): an inlet node.
inlet()
{
	_n=$1 _c=$2
	shift 2
	if [ -n "$_c" ]; then
		redis_inlet "$_n" "credential = $_c" "$@"
	else
		redis_inlet "$_n" "$@"
	fi
}
for n in app none rogue old early thief short brief; do
	eval "ID_$n=\$(make_identity $n)"
done
cred_issue ca.key app --attr role=app --attr env=prod --ttl 1h
cred_issue rogue-ca.key rogue --attr role=app --ttl 1h
cred_issue ca.key old --attr role=app --ttl 1h --not-before now-2h
cred_issue ca.key early --attr role=app --ttl 1h --not-before now+1h
"$SALLYPORT" credential show "$WORK/app.cred" >"$WORK/show.out" ||
	die "credential show failed"
grep -q '^signature   ok$' "$WORK/show.out" || die "show: no signature ok"
grep -q '^attribute   role=app$' "$WORK/show.out" || die "show: no role=app"
SERIAL=$(sed -n 's/^serial *//p' "$WORK/show.out")

inlet app "$WORK/app.cred" "reload = watch" "reload_interval = 1"
inlet none ""
for n in rogue old early; do
	inlet $n "$WORK/$n.cred"
done
for n in app none rogue old early; do
	start_node $n "$WORK/$n.ini"
done

# Allowed by attribute; the rule is named.
[ "$(ping_via app)" = PONG ] || die "app is not let through"
wait_for_event "$WORK/out.log" 5 event=audit decision=allow "peer=$ID_app" \
    rule=role=app@corp
# Each denial says why.
for c in none:not-allowed rogue:credential-untrusted \
    old:credential-expired early:credential-not-yet-valid; do
	n=${c%%:*} why=${c#*:}
	[ "$(ping_via $n)" = PONG ] && die "$n got through"
	eval "_id=\$ID_$n"
	wait_for_event "$WORK/out.log" 5 event=audit decision=deny \
	    "reason=$why" "peer=$_id" role=outlet
	say "$n denied: reason=$why"
done
# A credential copied to another node: that node will not present it.
inlet thief "$WORK/app.cred"
spawn "$WORK/thief.log" "$SALLYPORT" run "$WORK/thief.ini"
wait_exit "$LAST_PID" 10 || true
grep -q 'issued to another identity' "$WORK/thief.log" ||
	die "the thief's node did not refuse app's credential"

# A live connection ends when the credential that admitted it expires
# (issued here, just before its node starts: a loaded machine must not
# let it expire before it is used).
cred_issue ca.key short --attr role=app --ttl 4s
inlet short "$WORK/short.cred"
start_node short "$WORK/short.ini"
eval "_p=\$P_short"
spawn "$WORK/sub-short.out" redis-cli -h 127.0.0.1 -p "$_p" SUBSCRIBE news
SUB_SHORT=$LAST_PID
wait_for_event "$WORK/out.log" 5 event=open role=outlet "peer=$ID_short"
wait_until 8 proc_gone "$SUB_SHORT" || die "short's connection outlived its credential"
wait_for_event "$WORK/out.log" 2 event=audit decision=deny \
    reason=credential-expired "peer=$ID_short"

# Renewal by reload = watch keeps the live connection.
eval "_p=\$P_app"
spawn "$WORK/sub-app.out" redis-cli -h 127.0.0.1 -p "$_p" SUBSCRIBE news
SUB_APP=$LAST_PID
wait_until 10 eval '[ "$(redis-cli -p $REDIS_PORT PUBSUB NUMSUB news | sed -n 2p)" = 1 ]' ||
	die "app's subscription is not up"
before=$(reload_total "$WORK/app.log")
cred_issue ca.key app --attr role=app --attr env=prod --ttl 2h
wait_reload app $((before + 1)) ok 10
say "app renewed: $RELOAD_LINE"
[ "$(ping_via app)" = PONG ] || die "app is not let through after renewal"
proc_alive "$SUB_APP" || die "app's subscription ended at the renewal"
wait_for_event "$WORK/app.log" 5 event=credentials-renewed connections=1
wait_for_event "$WORK/out.log" 5 event=audit decision=allow \
    reason=credential-renewed "peer=$ID_app" rule=role=app@corp

# In-band renewal carries a live connection past the first credential's
# end; a renewal that no longer satisfies the rule ends it at once.
cred_issue ca.key brief --attr role=app --ttl 8s
first_end=$("$SALLYPORT" credential show "$WORK/brief.cred" |
    sed -n 's/^not-after *\([0-9]*\).*/\1/p')
inlet brief "$WORK/brief.cred" "reload = watch" "reload_interval = 1"
start_node brief "$WORK/brief.ini"
eval "_p=\$P_brief"
spawn "$WORK/sub-brief.out" redis-cli -h 127.0.0.1 -p "$_p" SUBSCRIBE news
SUB_BRIEF=$LAST_PID
wait_for_event "$WORK/out.log" 5 event=open role=outlet "peer=$ID_brief"
before=$(reload_total "$WORK/brief.log")
cred_issue ca.key brief --attr role=app --ttl 2h
wait_reload brief $((before + 1)) ok 10
wait_for_event "$WORK/out.log" 5 event=audit decision=allow \
    reason=credential-renewed "peer=$ID_brief"
past_first_end() { [ "$(date +%s)" -ge $((first_end + 2)) ]; }
wait_until 15 past_first_end || die "the clock did not pass $first_end"
proc_alive "$SUB_BRIEF" || die "brief's subscription ended with its first credential"
grep -q "reason=credential-expired peer=$ID_brief" "$WORK/out.log" &&
	die "the outlet expired brief's renewed connection"
[ "$(redis-cli -p "$REDIS_PORT" PUBLISH news renewed)" -ge 2 ] ||
	die "brief's subscription no longer listens"
say "brief's subscription outlived its first credential"
before=$(reload_total "$WORK/brief.log")
cred_issue ca.key brief --attr role=guest --ttl 2h
wait_reload brief $((before + 1)) ok 10
wait_until 5 proc_gone "$SUB_BRIEF" ||
	die "brief's subscription survived a renewal without role=app"
wait_for_event "$WORK/out.log" 2 event=audit decision=deny \
    reason=not-allowed "peer=$ID_brief"

# Revoke app's first credential by serial (its subscription used it) and
# its renewed one: the live subscription closes at once.
NEW_SERIAL=$("$SALLYPORT" credential show "$WORK/app.cred" | sed -n 's/^serial *//p')
printf '%s\n%s\n' "$SERIAL" "$NEW_SERIAL" >"$WORK/revoked"
reload_ends out "$SUB_APP"
wait_for_event "$WORK/out.log" 2 event=audit decision=deny reason=revoked \
    "peer=$ID_app"
[ "$(ping_via app)" = PONG ] && die "app got through after revocation"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny \
    reason=credential-revoked "peer=$ID_app"
say "ok: revoked in $ENDED_MS ms"
