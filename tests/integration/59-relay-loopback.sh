#!/bin/sh
# Relays on loopback (docs/relay.md): redis through
#   inlet -> relay hub -> outlet (an outlet node with no listen address)
#   inlet -> relay hub2 -> relay hub -> outlet (a chain)
# Asserts the data through one and two relays, a client the relay does not
# allow (refused and audited, nothing reaches the outlet), a registrant the
# relay does not list (refused and audited; the real one keeps the name),
# that after a relay restart the outlet registers again on its own so a
# new connection works soon after the relay's return (its backoff is at
# most 5 s; the test allows 15 s, stretched by $SLOW), and that with two
# registrants of one name new connections are spread and one's death is
# skipped.
# Needs redis-server, redis-cli and ss; skips (77) without them.
set -eu

# Loopback only: relaylib.sh for its config writers; no namespace is made.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=relaylib.sh
. "$top_srcdir/tests/integration/relaylib.sh"
need redis-server redis-cli ss sha256sum
tmp=$WORK

fail() {
	die "$@"
}

# wait_log FILE PATTERN [COUNT]: wait (10 s) until FILE has COUNT lines
# matching PATTERN (default 1).
wait_log() {
	wait_for_log "$1" "$2" 10 "${3:-1}"
}

# k1_ok PORT: GET k1 through the inlet on PORT gives the value set in 1.
k1_ok() {
	[ "$(redis-cli -p "$1" get k1 2>/dev/null)" = through-one-relay ]
}

# start NAME: run the node NAME.ini in the background, log in NAME.log.
start() {
	"$SALLYPORT" run "$tmp/$1.ini" 2>>"$tmp/$1.log" &
	eval "pid_$1=$!"
	PIDS="$PIDS $!"
	NODE_LOGS="$NODE_LOGS $tmp/$1.log"
}

redis_port=$(free_port)
hub_port=$(free_port)
hub2_port=$(free_port)
in1=$(free_port)
in2=$(free_port)
in3=$(free_port)
HUB="hub@127.0.0.1:$hub_port"

id_app=$(make_identity app)
id_db=$(make_identity db)
id_hub=$(make_identity hub)
id_hub2=$(make_identity hub2)
id_intruder=$(make_identity intruder)
id_rogue=$(make_identity rogue)

redis-server --port "$redis_port" --bind 127.0.0.1 --save "" \
    --appendonly no >"$tmp/redis.log" 2>&1 &
PIDS="$PIDS $!"

{
	ini_node "$tmp/hub.key" "127.0.0.1:$hub_port" "keepalive = 2"
	ini_peers db "$id_db" app "$id_app" hub2 "$id_hub2"
	ini_relay redis register=db "allow=app, hub2"
} >"$tmp/hub.ini"
{
	ini_node "$tmp/hub2.key" "127.0.0.1:$hub2_port"
	ini_peers hub "$id_hub" app "$id_app"
	ini_relay redis allow=app "via=$HUB"
} >"$tmp/hub2.ini"
{
	ini_node "$tmp/db.key" "" "keepalive = 2"
	ini_peers hub "$id_hub" app "$id_app"
	ini_outlet_relay redis "127.0.0.1:$redis_port" "$HUB" app
} >"$tmp/db.ini"
{
	ini_node "$tmp/app.key" ""
	ini_peers hub "$id_hub" hub2 "$id_hub2" db "$id_db"
	ini_inlet_via one "127.0.0.1:$in1" db "$HUB" redis
	ini_inlet_via two "127.0.0.1:$in2" db "hub2@127.0.0.1:$hub2_port" redis
} >"$tmp/app.ini"
{
	ini_node "$tmp/intruder.key" ""
	ini_peers hub "$id_hub" db "$id_db"
	ini_inlet_via redis "127.0.0.1:$in3" db "$HUB"
} >"$tmp/intruder.ini"
{
	ini_node "$tmp/rogue.key" ""
	ini_peers hub "$id_hub"
	ini_outlet_relay redis 127.0.0.1:1 "$HUB" "$id_intruder"
} >"$tmp/rogue.ini"

for n in hub hub2 db app; do
	start "$n"
done
wait_log "$tmp/db.log" "event=session-open role=outlet kind=register"
wait_log "$tmp/hub2.log" "event=session-open role=relay kind=client relay="
wait_log "$tmp/app.log" "event=session-open role=inlet" 2

# 1. Through one relay, back through two.
[ "$(redis-cli -p "$in1" set k1 through-one-relay)" = OK ] ||
	fail "SET through one relay"
[ "$(redis-cli -p "$in2" get k1)" = through-one-relay ] ||
	fail "GET through two relays"
head -c 1000000 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/big"
redis-cli -p "$in2" -x set big <"$tmp/big" >/dev/null ||
	fail "large SET through two relays"
a=$(sha256sum <"$tmp/big" | cut -d' ' -f1)
b=$(redis-cli -p "$in1" --raw get big | head -c 2000000 | sha256sum |
    cut -d' ' -f1)
[ "$a" = "$b" ] || fail "large value differs after one/two relays"
grep -q "event=open role=relay" "$tmp/hub2.log" || fail "hub2 carried nothing"
grep -q "event=audit decision=allow reason=allowed peer=$id_hub2" \
    "$tmp/hub.log" || fail "hub did not audit hub2's hop"

# 2. A client the relay does not allow: refused at its session, audited.
start intruder
wait_log "$tmp/hub.log" \
    "event=audit decision=deny reason=not-allowed peer=$id_intruder"
if out=$(redis-cli -p "$in3" ping 2>&1) && [ "$out" = PONG ]; then
	fail "an unlisted client got through the relay"
fi
if grep -q "peer=$id_intruder" "$tmp/db.log"; then
	fail "the outlet heard of the unlisted client"
fi

# 3. A registrant the relay does not list: refused; the name stays db's.
start rogue
wait_log "$tmp/hub.log" \
    "event=audit decision=deny reason=not-registrant peer=$id_rogue"
grep -q "event=session-open role=relay kind=register peer=$id_rogue" "$tmp/hub.log" &&
	fail "the rogue registrant got a session"
for i in 1 2 3 4 5 6; do
	[ "$(redis-cli -p "$in1" get k1)" = through-one-relay ] ||
		fail "legitimate path broken after the rogue registrant ($i)"
done

# 4. Relay restart: the outlet registers again by itself; a new connection
# works soon after the relay's return (backoff at most 5 s; 15 s allowed).
kill "$pid_hub"
wait "$pid_hub" 2>/dev/null || true
forget_pid "$pid_hub"
wait_log "$tmp/db.log" "event=session-close role=outlet"
ups=$(grep -c "event=session-open role=outlet" "$tmp/db.log")
start hub
wait_log "$tmp/hub.log" "event=ready" 2
t0=$(now_ms)
wait_until 15 k1_ok "$in1" ||
	fail "no connection through the restarted relay within $(slow_s 15) s"
ms=$(($(now_ms) - t0))
say "first connection through the restarted relay after $ms ms"
wait_log "$tmp/db.log" "event=session-open role=outlet" $((ups + 1))

# 5. Two registrants of one name (the same identity on two outlet nodes):
# the relay spreads new connections; with one killed, the other serves.
cp "$tmp/db.ini" "$tmp/db2.ini"
start db2
wait_log "$tmp/db2.log" "event=session-open role=outlet kind=register"
for i in 1 2 3 4 5 6 7 8; do
	[ "$(redis-cli -p "$in1" get k1)" = through-one-relay ] ||
		fail "GET with two registrants ($i)"
done
grep -q "event=open role=outlet" "$tmp/db2.log" ||
	fail "the second registrant got no connection (no spreading)"
closes=$(grep -c "event=session-close role=relay kind=register" \
    "$tmp/hub.log" || true)
kill -9 "$pid_db"
wait "$pid_db" 2>/dev/null || true
forget_pid "$pid_db"
wait_log "$tmp/hub.log" "event=session-close role=relay kind=register" \
    $((closes + 1))
for i in 1 2 3 4 5 6; do
	[ "$(redis-cli -p "$in1" get k1)" = through-one-relay ] ||
		fail "GET after one registrant died ($i)"
done
echo "59-relay-loopback: one relay, two relays, refusals, restart (${ms} ms), two registrants: ok"
