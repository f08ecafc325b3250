#!/bin/sh
# from = address ranges (issue 22), with real redis on loopback.
# - Outlet: [outlet near] has from = 127.0.0.0/8, [outlet far] has
#   from = 198.18.0.0/15, both allow the inlet node.  Through near redis
#   answers; through far the outlet refuses the very same node: audit
#   deny reason=not-from with peer= and src=127.0.0.1:..., and the target
#   never sees it.  policy explain --from agrees for both addresses.
# - Inlet: [inlet local] has from = 127.0.0.2: a client bound to
#   127.0.0.2 gets +PONG, one bound to 127.0.0.1 is reset with no byte
#   and audited reason=not-from role=inlet src=127.0.0.1:...
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli

start_redis
OUT_ID=$(make_identity out)
IN_ID=$(make_identity in)
NODE_PORT=$(free_port)
{
	ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT"
	ini_peers client "$IN_ID"
	ini_outlet near "127.0.0.1:$REDIS_PORT" client
	echo "from = 127.0.0.0/8"
	echo
	ini_outlet far "127.0.0.1:$REDIS_PORT" client
	echo "from = 198.18.0.0/15"
	echo
} >"$WORK/out.ini"
P_NEAR=$(free_port)
P_FAR=$(free_port)
P_LOCAL=$(free_port)
{
	ini_node "$WORK/in.key" ""
	ini_peers server "$OUT_ID"
	ini_inlet near "127.0.0.1:$P_NEAR" "server@127.0.0.1:$NODE_PORT"
	ini_inlet far "127.0.0.1:$P_FAR" "server@127.0.0.1:$NODE_PORT"
	ini_inlet local "127.0.0.1:$P_LOCAL" "server@127.0.0.1:$NODE_PORT" \
	    near
	echo "from = 127.0.0.2"
	echo
} >"$WORK/in.ini"
check_prints "$WORK/out.ini" "^outlet   far -> .*; from: 198.18.0.0/15$"
start_node out "$WORK/out.ini"
start_node in "$WORK/in.ini"

[ "$(redis-cli -h 127.0.0.1 -p "$P_NEAR" PING 2>&1)" = PONG ] ||
	die "no PONG through near"
wait_for_event "$WORK/out.log" 5 event=audit decision=allow "peer=$IN_ID" \
    service=near role=outlet
[ "$(redis-cli -h 127.0.0.1 -p "$P_FAR" PING 2>&1 || true)" = PONG ] &&
	die "far let a node from 127.0.0.1 through"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny reason=not-from \
    "peer=$IN_ID" service=far role=outlet
grep "reason=not-from peer=$IN_ID " "$WORK/out.log" |
    grep -q ' src=127\.0\.0\.1:[0-9]*$' || die "no src= on the not-from deny"
log_has "$WORK/out.log" event=open role=outlet service=far &&
	die "the outlet opened a connection to far"
say "outlet: $(grep "reason=not-from" "$WORK/out.log" | head -n 1)"

# policy explain decides the same, given the address.
x=$("$SALLYPORT" policy explain "$WORK/out.ini" --peer client \
    --service far --from 127.0.0.1) && die "explain allowed far: $x"
case $x in "deny service=far role=outlet reason=not-from "*) ;;
*) die "explain far from 127.0.0.1: $x" ;; esac
x=$("$SALLYPORT" policy explain "$WORK/out.ini" --peer client \
    --service far --from 198.18.0.5) || die "explain refused far: $x"
"$SALLYPORT" policy explain "$WORK/out.ini" --peer client \
    --service near --from 127.0.0.1 >/dev/null || die "explain refused near"

# The inlet's own clients.
r=$(netkit probe "127.0.0.1:$P_LOCAL" --source 127.0.0.2 \
    --send-hex 50494e470d0a --shut --timeout 10)
say "client from 127.0.0.2: $r"
[ "$(field "$r" bytes)" -gt 0 ] || die "the client from 127.0.0.2 got nothing"
r=$(netkit probe "127.0.0.1:$P_LOCAL" --source 127.0.0.1 \
    --send-hex 50494e470d0a --shut --timeout 10)
say "client from 127.0.0.1: $r"
[ "$(field "$r" bytes)" = 0 ] || die "the client from 127.0.0.1 got data"
wait_for_event "$WORK/in.log" 5 event=audit decision=deny reason=not-from \
    service=near role=inlet
grep "reason=not-from .*role=inlet" "$WORK/in.log" |
    grep -q ' src=127\.0\.0\.1:[0-9]*$' || die "no src= on the inlet's deny"
say "ok"
