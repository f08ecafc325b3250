#!/bin/sh
# Credentials at a relay (issue 11), on loopback.  One authority (corp); a
# relay hub whose [relay echo] has the attribute rules
# `register = role=db@corp` and `allow = role=app@corp`:
# - db (an outlet node with a role=db credential) registers echo at hub
#   (audit allow rule=role=db@corp) and serves it;
# - app (an inlet node with role=app) reaches it through hub (audit allow
#   rule=role=app@corp) and its echo comes back whole;
# - none (no credential) and other (role=other) are refused at the relay
#   (audit deny reason=not-allowed), untrusted (role=app from another
#   authority) with reason=credential-untrusted, old (expired) with
#   reason=credential-expired; their clients are reset with no byte and the
#   outlet never hears of them;
# - rogue (an outlet node without a credential) and fake (role=app, not
#   db) cannot register echo: audit deny reason=not-registrant, no
#   registration session, no connection; app's connections still reach db;
# - db renews its credential (reload): the relay takes it in-band (audit
#   allow reason=credential-renewed) and keeps the registration; renewed
#   without role=db, the registration ends at once (reason=revoked).
. "$(dirname "$0")/lib.sh"

TARGET_PORT=$(free_port)
start_echo "127.0.0.1:$TARGET_PORT"
HUB_PORT=$(free_port)
HUB="hub@127.0.0.1:$HUB_PORT"

CA_ID=$("$SALLYPORT" authority create "$WORK/ca.key" | tail -n 1)
"$SALLYPORT" authority create "$WORK/rogue-ca.key" >/dev/null ||
	die "authority create failed"
case $CA_ID in I*) ;; *) die "authority create printed $CA_ID" ;; esac
for n in hub db app none other untrusted old rogue fake; do
	eval "ID_$n=\$(make_identity $n)"
done
cred_issue ca.key db --attr role=db --ttl 1h
cred_issue ca.key app --attr role=app --ttl 1h
cred_issue ca.key other --attr role=other --ttl 1h
cred_issue rogue-ca.key untrusted --attr role=app --ttl 1h
cred_issue ca.key old --attr role=app --ttl 1h --not-before now-2h
cred_issue ca.key fake --attr role=app --ttl 1h

{
	ini_node "$WORK/hub.key" "127.0.0.1:$HUB_PORT"
	echo "[authorities]"
	echo "corp = $CA_ID"
	echo
	echo "[relay echo]"
	echo "register = role=db@corp"
	echo "allow = role=app@corp"
	echo
} >"$WORK/hub.ini"
# outlet(name): an outlet node that registers echo at hub and lets in
# every inlet node of this test (the relay is what must stop them).
outlet()
{
	{
		if [ -f "$WORK/$1.cred" ]; then
			ini_node "$WORK/$1.key" "" "credential = $1.cred"
		else
			ini_node "$WORK/$1.key" ""
		fi
		ini_peers hub "$ID_hub" app "$ID_app" none "$ID_none" \
		    other "$ID_other" untrusted "$ID_untrusted" old "$ID_old"
		echo "[outlet echo]"
		echo "target = 127.0.0.1:$TARGET_PORT"
		echo "relay = $HUB"
		echo "allow = app, none, other, untrusted, old"
		echo
	} >"$WORK/$1.ini"
}
# inlet(name): an inlet node reaching db's echo through hub; sets P_name.
inlet()
{
	eval "P_$1=\$(free_port)"
	eval "_p=\$P_$1"
	{
		if [ -f "$WORK/$1.cred" ]; then
			ini_node "$WORK/$1.key" "" "credential = $1.cred"
		else
			ini_node "$WORK/$1.key" ""
		fi
		ini_peers hub "$ID_hub" db "$ID_db"
		echo "[inlet echo]"
		echo "listen = 127.0.0.1:$_p"
		echo "outlet = db"
		echo "via = $HUB"
		echo
	} >"$WORK/$1.ini"
}
outlet db
for n in app none other untrusted old; do
	inlet $n
done

start_node hub "$WORK/hub.ini"
start_node db "$WORK/db.ini"
wait_for_event "$WORK/db.log" 10 event=session-open role=outlet kind=register
wait_for_event "$WORK/hub.log" 5 event=audit decision=allow "peer=$ID_db" \
    rule=role=db@corp
say "registered: $(grep "event=audit decision=allow" "$WORK/hub.log" | head -n 1)"

start_node app "$WORK/app.ini"
wait_for_event "$WORK/app.log" 10 event=session-open role=inlet
echo_app()
{
	netkit echo-check "127.0.0.1:$P_app" --count 1 --size 65536 \
	    --timeout 5 >/dev/null 2>&1
}
wait_until 10 echo_app || die "no echo from app through the relay"
r=$(netkit echo-check "127.0.0.1:$P_app" --count 4 --size 262144 --timeout 20) ||
	die "app through the relay: $r"
say "app: $r"
wait_for_event "$WORK/hub.log" 5 event=audit decision=allow "peer=$ID_app" \
    rule=role=app@corp
wait_for_event "$WORK/db.log" 5 event=open role=outlet "peer=$ID_app"

# Clients the relay must refuse, each with the credential reason.
for c in none:not-allowed other:not-allowed untrusted:credential-untrusted \
    old:credential-expired; do
	n=${c%%:*} why=${c#*:}
	eval "_id=\$ID_$n"
	start_node $n "$WORK/$n.ini"
	wait_for_event "$WORK/hub.log" 10 event=audit decision=deny \
	    "reason=$why" "peer=$_id" role=relay
	say "$n: $(grep "event=audit decision=deny reason=$why peer=$_id" \
	    "$WORK/hub.log" | head -n 1)"
	eval "_p=\$P_$n"
	r=$(netkit probe "127.0.0.1:$_p" --send-hex 50494e470d0a --timeout 5)
	say "$n's client: $r"
	[ "$(field "$r" bytes)" = 0 ] || die "$n's client got data: $r"
	[ "$(field "$r" end)" = reset ] || die "$n's client was not reset: $r"
	grep -q "peer=$_id" "$WORK/db.log" && die "the outlet heard of $n"
done
log_has "$WORK/hub.log" event=audit decision=allow "peer=$ID_none" &&
	die "the relay allowed none"

# Outlet nodes the relay must not let register echo.
for n in rogue fake; do
	outlet $n
	eval "_id=\$ID_$n"
	start_node $n "$WORK/$n.ini"
	wait_for_event "$WORK/hub.log" 10 event=audit decision=deny \
	    reason=not-registrant "peer=$_id" role=relay
	say "$n: $(grep "reason=not-registrant peer=$_id" "$WORK/hub.log" | head -n 1)"
	# The node learns it is refused: a REFUSE (relay-not-registrant)
	# when the relay verified its identity (fake), a closed session when
	# it was refused before that (rogue: verified=no at the relay).
	wait_for_event "$WORK/$n.log" 10 event=session-close role=outlet \
	    kind=register
	log_has "$WORK/hub.log" event=session-open role=relay kind=register \
	    "peer=$_id" && die "$n got a registration session"
done
r=$(netkit echo-check "127.0.0.1:$P_app" --count 8 --size 4096 --timeout 20) ||
	die "app after the refused registrants: $r"
log_has "$WORK/rogue.log" event=open && die "rogue received a connection"
log_has "$WORK/fake.log" event=open && die "fake received a connection"

# In-band renewal of a registration's credential.
cred_issue ca.key db --attr role=db --ttl 2h
reload_node db
wait_for_event "$WORK/db.log" 5 event=credentials-renewed sessions=1
wait_for_event "$WORK/hub.log" 5 event=audit decision=allow \
    reason=credential-renewed "peer=$ID_db" rule=role=db@corp
log_has "$WORK/hub.log" event=session-close role=relay kind=register \
    "peer=$ID_db" && die "the renewal ended db's registration"
r=$(netkit echo-check "127.0.0.1:$P_app" --count 4 --size 4096 --timeout 20) ||
	die "app after db's renewal: $r"
cred_issue ca.key db --attr role=other --ttl 2h
reload_node db
wait_for_event "$WORK/hub.log" 5 event=audit decision=deny \
    reason=not-registrant "peer=$ID_db"
wait_for_event "$WORK/hub.log" 5 event=session-close role=relay \
    kind=register "peer=$ID_db" reason=revoked
say "ok"
