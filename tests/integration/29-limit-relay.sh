#!/bin/sh
# Limits per peer through a relay (issue 22, section 3), on loopback, with
# redis behind the outlet node db, registered at the relay hub under two
# names, reached by the inlet nodes a and b:
#   capo: the outlet's [outlet capo] has max_connections_per_peer = 2
#         (the relay forwards blind: the outlet's REFUSE reaches the inlet
#         end to end, which logs reason=remote-limit);
#   capr: the relay's [relay capr] has max_connections_per_peer = 2 (the
#         relay tells the inlet over its session: reason=relay-limit).
# Asserts, for each: a holds 2 live connections (redis-cli BLPOP), its 3rd
# is refused (the inlet's deny line, the refusing node's audit
# limit=peer-connections), b is served meanwhile, and a's 2 held
# connections each get their answer afterwards (undisturbed).
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=relaylib.sh
. "$top_srcdir/tests/integration/relaylib.sh"
need redis-server redis-cli
relay_supported

start_redis
HUB_PORT=$(free_port)
HUB_ID=$(make_identity hub)
DB_ID=$(make_identity db)
A_ID=$(make_identity a)
B_ID=$(make_identity b)
HUB="hub@127.0.0.1:$HUB_PORT"
{
	ini_node "$WORK/hub.key" "127.0.0.1:$HUB_PORT"
	ini_peers db "$DB_ID" a "$A_ID" b "$B_ID"
	ini_relay capo register=db "allow=a, b"
	ini_relay capr register=db "allow=a, b" max_connections_per_peer=2
} >"$WORK/hub.ini"
{
	ini_node "$WORK/db.key" ""
	ini_peers hub "$HUB_ID" a "$A_ID" b "$B_ID"
	ini_outlet_relay capo "127.0.0.1:$REDIS_PORT" "$HUB" a b
	echo "max_connections_per_peer = 2"
	echo
	ini_outlet_relay capr "127.0.0.1:$REDIS_PORT" "$HUB" a b
} >"$WORK/db.ini"
for n in a b; do
	eval "PO_$n=\$(free_port) PR_$n=\$(free_port)"
	eval "_po=\$PO_$n _pr=\$PR_$n"
	{
		ini_node "$WORK/$n.key" ""
		ini_peers hub "$HUB_ID" db "$DB_ID"
		ini_inlet_via capo "127.0.0.1:$_po" db "$HUB"
		ini_inlet_via capr "127.0.0.1:$_pr" db "$HUB"
	} >"$WORK/$n.ini"
done
for n in hub db a b; do
	start_node "$n" "$WORK/$n.ini"
done

cli()
{
	timeout "$(slow_s 20)" redis-cli -h 127.0.0.1 -p "$@"
}
pong()
{
	[ "$(cli "$1" PING 2>/dev/null)" = PONG ]
}
wait_until 20 pong "$PO_b" || die "no PONG through the relay (capo)"
wait_until 20 pong "$PR_b" || die "no PONG through the relay (capr)"

# check_cap(name, port of a, port of b, refusing node's log, inlet reason)
check_cap()
{
	_n=$1 _pa=$2 _pb=$3 _cl=$4 _why=$5
	_before=$(log_count "$WORK/hub.log" event=open role=relay name="$_n")
	for _i in 1 2; do
		spawn "$WORK/held-$_n-$_i.out" timeout "$(slow_s 120)" \
		    redis-cli -h 127.0.0.1 -p "$_pa" BLPOP "$_n$_i" 0
		eval "HELD_$_i=\$LAST_PID"
	done
	wait_until 20 eval '[ "$(log_count "$WORK/hub.log" event=open \
	    role=relay name="$_n")" -ge $((_before + 2)) ]' ||
		die "$_n: a's 2 connections were not paired"
	_r=$(cli "$_pa" PING 2>&1) && die "$_n: a's 3rd connection was served"
	say "$_n: a's 3rd connection: $_r"
	wait_for_event "$WORK/a.log" 10 event=audit decision=deny \
	    "reason=$_why" role=inlet
	wait_for_event "$_cl" 10 event=audit decision=deny reason=limit \
	    limit=peer-connections "peer=$A_ID" "service=$_n" live=2 max=2
	pong "$_pb" || die "$_n: b was not served while a is capped"
	for _i in 1 2; do
		[ "$(cli "$_pb" RPUSH "$_n$_i" "v$_i")" = 1 ] ||
			die "$_n: RPUSH $_n$_i"
		eval "wait_exit \$HELD_$_i 20" ||
			die "$_n: held connection $_i did not end"
		[ "$EXIT_CODE" = 0 ] ||
			die "$_n: held connection $_i broke: $EXIT_CODE"
		grep -q "^v$_i\$" "$WORK/held-$_n-$_i.out" ||
			die "$_n: held $_i: $(cat "$WORK/held-$_n-$_i.out")"
	done
	say "$_n: a's 2 held connections answered after the refusal"
	wait_until 10 pong "$_pa" ||
		die "$_n: a not served once its connections ended"
}
check_cap capo "$PO_a" "$PO_b" "$WORK/db.log" remote-limit
check_cap capr "$PR_a" "$PR_b" "$WORK/hub.log" relay-limit
log_has "$WORK/hub.log" event=audit decision=deny "peer=$B_ID" &&
	die "the relay refused b"
log_has "$WORK/db.log" event=audit decision=deny "peer=$B_ID" &&
	die "the outlet refused b"
for n in hub db; do
	eval "proc_alive \$PID_$n" || die "$n died"
done
say "ok"
