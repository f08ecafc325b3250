#!/bin/sh
# Relayed connections end with the credential that admitted them (issue
# 19, N3), on loopback.  One authority (corp); a relay hub whose names
# alpha and beta need different attributes of a client:
#   [relay alpha] allow = role=app@corp    [relay beta] allow = env=prod@corp
# (credential_skew = 0, so a credential ends at its not-after).  db
# registers both (by identifier) and echoes; app (credential role=app +
# env=prod) reaches both through hub.  With a live, paced transfer on each
# name:
# (b) app renews in-band (reload) with env=prod only: hub keeps app's
#     sessions (beta still admits app) but ends alpha's pair at once
#     (audit deny reason=not-allowed service=alpha conn=N, close
#     reason=revoked: alpha's client is closed), while beta's pair goes on;
# (a) that renewed credential lives 30 s: when it expires, hub ends beta's
#     pair (audit deny reason=credential-expired service=beta conn=N) as
#     well as the sessions (session-close reason=credential-expired), and
#     beta's client is closed with its transfer unfinished;
# (c) the registrant side: dbg (an outlet node with role=db) registers
#     gamma (`register = role=db@corp`); app, renewed, holds a transfer
#     through it; dbg renews in-band with a 20 s credential, which moves
#     the pair's end (credential-renewed, the pair lives on); when it
#     expires hub ends the pair (audit deny reason=credential-expired
#     peer=dbg service=gamma conn=N) and dbg's registration.
# Before the fix alpha's pair outlived the renewal, and beta's and
# gamma's pairs went on after the sessions had closed at the expiry.
. "$(dirname "$0")/lib.sh"

TARGET_PORT=$(free_port)
start_echo "127.0.0.1:$TARGET_PORT"
HUB_PORT=$(free_port)
HUB="hub@127.0.0.1:$HUB_PORT"
P_ALPHA=$(free_port)
P_BETA=$(free_port)

CA_ID=$("$SALLYPORT" authority create "$WORK/ca.key" | tail -n 1)
case $CA_ID in I*) ;; *) die "authority create printed $CA_ID" ;; esac
for n in hub db dbg app; do
	eval "ID_$n=\$(make_identity $n)"
done
cred_issue ca.key app --attr role=app --attr env=prod --ttl 1h
cred_issue ca.key dbg --attr role=db --ttl 1h
P_GAMMA=$(free_port)

{
	ini_node "$WORK/hub.key" "127.0.0.1:$HUB_PORT" "credential_skew = 0"
	ini_peers db "$ID_db"
	ini_authorities corp "$CA_ID"
	echo "[relay alpha]"
	echo "register = db"
	echo "allow = role=app@corp"
	echo
	echo "[relay beta]"
	echo "register = db"
	echo "allow = env=prod@corp"
	echo
	echo "[relay gamma]"
	echo "register = role=db@corp"
	echo "allow = role=app@corp"
	echo
} >"$WORK/hub.ini"
{
	ini_node "$WORK/dbg.key" "" "credential = dbg.cred"
	ini_peers hub "$ID_hub" app "$ID_app"
	echo "[outlet gamma]"
	echo "target = 127.0.0.1:$TARGET_PORT"
	echo "relay = $HUB"
	echo "allow = app"
	echo
} >"$WORK/dbg.ini"
{
	ini_node "$WORK/db.key" ""
	ini_peers hub "$ID_hub" app "$ID_app"
	for s in alpha beta; do
		echo "[outlet $s]"
		echo "target = 127.0.0.1:$TARGET_PORT"
		echo "relay = $HUB"
		echo "allow = app"
		echo
	done
} >"$WORK/db.ini"
{
	ini_node "$WORK/app.key" "" "credential = app.cred"
	ini_peers hub "$ID_hub" db "$ID_db" dbg "$ID_dbg"
	echo "[inlet alpha]"
	echo "listen = 127.0.0.1:$P_ALPHA"
	echo "outlet = db"
	echo "via = $HUB"
	echo
	echo "[inlet beta]"
	echo "listen = 127.0.0.1:$P_BETA"
	echo "outlet = db"
	echo "via = $HUB"
	echo
	echo "[inlet gamma]"
	echo "listen = 127.0.0.1:$P_GAMMA"
	echo "outlet = dbg"
	echo "via = $HUB"
	echo
} >"$WORK/app.ini"

start_node hub "$WORK/hub.ini"
start_node db "$WORK/db.ini"
for s in alpha beta; do
	wait_for_event "$WORK/hub.log" 10 event=session-open role=relay \
	    kind=register "peer=$ID_db" "service=$s"
done
start_node app "$WORK/app.ini"
for s in alpha beta; do
	eval "_p=\$P_$(echo $s | tr a-z A-Z)"
	wait_until 15 eval "netkit echo-check 127.0.0.1:$_p --count 1 \
	    --size 4096 --timeout 5 >/dev/null 2>&1" ||
		die "no echo on $s through the relay"
done

# transfer(name): a live transfer through the inlet of ${name}: 8 MiB,
# paced over 240 s (far longer than the test needs); waits until the
# first 64 KiB came back.  Sets PID_name.
transfer()
{
	eval "_p=\$P_$(echo "$1" | tr a-z A-Z)"
	spawn "$WORK/$1.out" netkit echo-prefix "127.0.0.1:$_p" \
	    --size 8388608 --seed 3 --pace 240 --progress 65536 --timeout 300
	eval "PID_$1=\$LAST_PID"
	wait_for_log "$WORK/$1.out" '^progress' 15
	wait_for_event "$WORK/hub.log" 5 event=open role=relay "name=$1" \
	    "peer=$ID_app"
}
transfer alpha
transfer beta
# pair_conn(name): the conn= of the last pair of ${name} the hub opened.
pair_conn()
{
	awk -v n="name=$1" '/event=open role=relay / {
		for (i = 1; i <= NF; i++) if ($i == n) c = $0 }
	END { print c }' "$WORK/hub.log" | grep -o 'conn=[0-9]*'
}
C_ALPHA=$(pair_conn alpha)
C_BETA=$(pair_conn beta)
say "live pairs: alpha $C_ALPHA, beta $C_BETA"

# ended(name): the transfer of ${name} was cut short (closed, unfinished,
# every byte that came back unaltered).
ended()
{
	eval "_pid=\$PID_$1"
	wait_exit "$_pid" 10 ||
		die "$1's client is still carrying data 10 s later"
	_r=$(tail -n 1 "$WORK/$1.out")
	say "$1's client: $_r"
	[ "$(field "$_r" prefix_ok)" = 1 ] || die "$1 got altered bytes: $_r"
	[ "$(field "$_r" recv)" -lt 8388608 ] ||
		die "$1's transfer completed: $_r"
	case $(field "$_r" end) in
	eof|reset|error-*) ;;
	*) die "$1's client was not closed: $_r" ;;
	esac
}

# (b) An in-band renewal without role=app: alpha's pair ends, beta's not.
cred_issue ca.key app --attr env=prod --ttl 30s
reload_node app
wait_for_event "$WORK/app.log" 5 event=credentials-renewed sessions=3
wait_for_event "$WORK/hub.log" 10 event=audit decision=allow \
    reason=credential-renewed "peer=$ID_app" rule=env=prod@corp
wait_for_event "$WORK/hub.log" 10 event=audit decision=deny \
    reason=not-allowed "peer=$ID_app" service=alpha role=relay "$C_ALPHA"
ended alpha
log_has "$WORK/hub.log" event=close role=relay "$C_ALPHA" reason=revoked ||
	die "no close reason=revoked for alpha's pair"
log_has "$WORK/hub.log" event=session-close role=relay "peer=$ID_app" &&
	die "the renewal ended a session of app (beta still admits it)"
proc_alive "$PID_beta" || die "beta's transfer ended with alpha's renewal: \
$(cat "$WORK/beta.out")"
log_has "$WORK/hub.log" event=close role=relay "$C_BETA" &&
	die "beta's pair ended with the renewal"
say "after the renewal: alpha's pair revoked, beta's carries on"

# (a) The renewed credential expires: beta's pair ends with it.
wait_for_event "$WORK/hub.log" 60 event=session-close role=relay \
    "peer=$ID_app" reason=credential-expired
ended beta
log_has "$WORK/hub.log" event=audit decision=deny reason=credential-expired \
    "peer=$ID_app" service=beta role=relay "$C_BETA" ||
	die "no audit deny reason=credential-expired for beta's pair"
log_has "$WORK/hub.log" event=close role=relay "$C_BETA" reason=revoked ||
	die "no close reason=revoked for beta's pair"
# New connections of app are refused now (its credential expired).
r=$(netkit probe "127.0.0.1:$P_BETA" --send-hex 50494e470d0a --timeout 5)
say "a new client of beta: $r"
[ "$(field "$r" bytes)" = 0 ] || die "a new client of beta got data: $r"

# (c) The registrant side: dbg's renewed 20 s credential expires.
cred_issue ca.key app --attr role=app --ttl 1h
reload_node app
start_node dbg "$WORK/dbg.ini"
wait_for_event "$WORK/hub.log" 10 event=audit decision=allow \
    reason=registered "peer=$ID_dbg" service=gamma rule=role=db@corp
wait_until 20 eval "netkit echo-check 127.0.0.1:$P_GAMMA --count 1 \
    --size 4096 --timeout 5 >/dev/null 2>&1" ||
	die "no echo on gamma through the relay"
transfer gamma
C_GAMMA=$(pair_conn gamma)
cred_issue ca.key dbg --attr role=db --ttl 20s
reload_node dbg
wait_for_event "$WORK/hub.log" 10 event=audit decision=allow \
    reason=credential-renewed "peer=$ID_dbg" service=gamma
proc_alive "$PID_gamma" || die "gamma's transfer ended with dbg's renewal"
wait_for_event "$WORK/hub.log" 60 event=session-close role=relay \
    kind=register "peer=$ID_dbg" service=gamma reason=credential-expired
ended gamma
log_has "$WORK/hub.log" event=audit decision=deny reason=credential-expired \
    "peer=$ID_dbg" service=gamma role=relay "$C_GAMMA" ||
	die "no audit deny reason=credential-expired for gamma's pair"
say "ok"
