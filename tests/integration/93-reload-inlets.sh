#!/bin/sh
# Inlets and targets changed by reload (issue 8 part 2):
# 1. an inlet added by reload: reload-change kind=inlet change=added, its
#    port listens and carries traffic;
# 2. that inlet removed by reload while a connection opened through it is
#    live (a paced echo): change=removed, its port no longer accepts, and
#    the live connection completes intact (drain, close reason=eof);
# 3. an inlet whose listen address never changes keeps serving through 20
#    reloads that add and remove another inlet: a client making one
#    connection after the other meanwhile never sees a refused or failed
#    connection, and the listener keeps its socket (same inode);
# 4. the outlet's target moved by reload: the next connections reach the
#    new target, none the old one.
. "$(dirname "$0")/lib.sh"
need ss

T1=$(free_port)
T2=$(free_port)
start_echo "127.0.0.1:$T1" "$WORK/t1.log"
start_echo "127.0.0.1:$T2" "$WORK/t2.log"
: >>"$WORK/t1.log"
: >>"$WORK/t2.log"

OUT_ID=$(make_identity out)
IN_ID=$(make_identity in)
NODE_PORT=$(free_port)
PA=$(free_port)
PB=$(free_port)
PC=$(free_port)

# write_out(target_port), write_in(inlet...): the nodes' files; an inlet
# is a, b or c, listening on $PA, $PB or $PC, all for service echo.
write_out()
{
	{
		ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT"
		ini_peers client "$IN_ID"
		ini_outlet echo "127.0.0.1:$1" client
	} >"$WORK/out.ini.new"
	mv -f "$WORK/out.ini.new" "$WORK/out.ini"
}
write_in()
{
	{
		ini_node "$WORK/in.key" ""
		ini_peers server "$OUT_ID"
		for _i in "$@"; do
			eval "_p=\$P$(echo "$_i" | tr a-z A-Z)"
			ini_inlet "$_i" "127.0.0.1:$_p" \
			    "server@127.0.0.1:$NODE_PORT" echo
		done
	} >"$WORK/in.ini.new"
	mv -f "$WORK/in.ini.new" "$WORK/in.ini"
}
write_out "$T1"
write_in a
start_node out "$WORK/out.ini"
start_node in "$WORK/in.ini"
lines()
{
	grep -c . "$1" || true
}
echo_through()
{
	_r=$(netkit echo-check "127.0.0.1:$1" --count "${2:-1}" --size 4096 \
	    --timeout 10) || die "echo through port $1 failed: $_r"
}
echo_through "$PA"
ino_a=$(listen_inode "$PA")
[ -n "$ino_a" ] || die "inlet a does not listen"
port_listening "$PB" && die "port $PB listens before inlet b exists"

# 1. Inlet b added.
write_in a b
reload_node in
say "add b: $RELOAD_LINE"
[ "$(field "$RELOAD_LINE" added)" = 1 ] || die "reload does not say added=1"
log_has "$WORK/in.log" event=reload-change kind=inlet name=b change=added ||
	die "no reload-change line for the added inlet b"
wait_for_port "$PB" 5
echo_through "$PB" 2

# 2. Inlet b removed while a connection through it is live.
before=$(lines "$WORK/t1.log")
spawn "$WORK/drain.out" netkit echo-check "127.0.0.1:$PB" --count 1 \
	--size 262144 --pace 3 --seed 7 --timeout 30
drain=$LAST_PID
wait_until 10 eval '[ "$(lines "$WORK/t1.log")" -gt "$before" ]' ||
	die "the connection through inlet b did not reach the target"
write_in a
reload_node in
say "remove b: $RELOAD_LINE"
[ "$(field "$RELOAD_LINE" removed)" = 1 ] || die "reload does not say removed=1"
log_has "$WORK/in.log" event=reload-change kind=inlet name=b change=removed ||
	die "no reload-change line for the removed inlet b"
wait_until 5 eval '! port_listening "$PB"' ||
	die "inlet b's port still listens after its removal"
r=$(netkit probe "127.0.0.1:$PB" --send-hex 50494e470d0a --timeout 3)
say "new connection to the removed inlet: $r"
[ "$(field "$r" end)" = connect-error ] ||
	die "the removed inlet's port still accepts: $r"
proc_alive "$drain" || die "the live connection through b ended at the reload"
wait_exit "$drain" 30 || die "the live connection through b did not finish"
[ "$EXIT_CODE" = 0 ] ||
	die "the live connection through b broke: $(cat "$WORK/drain.out")"
say "drained: $(cat "$WORK/drain.out")"
wait_for_event "$WORK/in.log" 5 event=close role=inlet name=b reason=eof
log_has "$WORK/in.log" event=close name=b reason=revoked &&
	die "the removed inlet's connection was revoked, not drained"
echo_through "$PA"

# 3. Inlet a unchanged through 20 reloads (inlet c comes and goes).
spawn "$WORK/loop.out" netkit connect-loop "127.0.0.1:$PA" \
	--stop "$WORK/loop.stop" --timeout 120
loop=$LAST_PID
before=$(lines "$WORK/t1.log")
wait_until 10 eval '[ "$(lines "$WORK/t1.log")" -gt $((before + 5)) ]' ||
	die "the connection loop through inlet a did not start"
i=0
while [ "$i" -lt 20 ]; do
	i=$((i + 1))
	if [ $((i % 2)) = 1 ]; then
		write_in a c
	else
		write_in a
	fi
	reload_node in
	proc_alive "$loop" ||
		die "the connection loop stopped at reload $i: $(cat "$WORK/loop.out")"
done
touch "$WORK/loop.stop"
wait_exit "$loop" 20 || die "the connection loop did not stop"
say "during 20 reloads: $(cat "$WORK/loop.out")"
[ "$EXIT_CODE" = 0 ] ||
	die "a client of the unchanged inlet failed: $(cat "$WORK/loop.out")"
[ "$(listen_inode "$PA")" = "$ino_a" ] ||
	die "inlet a's listener was re-opened ($ino_a -> $(listen_inode "$PA"))"
log_has "$WORK/in.log" event=reload-change name=a &&
	die "inlet a was reported changed"
for ev in event=refuse event=backlog; do
	log_has "$WORK/in.log" "$ev" && die "the inlet logged $ev"
done
log_has "$WORK/in.log" event=drop role=inlet && die "the inlet dropped a client"

# 4. The target moved.
write_out "$T2"
reload_node out
say "move target: $RELOAD_LINE"
log_has "$WORK/out.log" event=reload-change kind=outlet name=echo \
    change=changed || die "no reload-change line for outlet echo"
b1=$(lines "$WORK/t1.log")
b2=$(lines "$WORK/t2.log")
echo_through "$PA" 3
a1=$(lines "$WORK/t1.log")
a2=$(lines "$WORK/t2.log")
[ "$a1" = "$b1" ] || die "the old target got $((a1 - b1)) connections"
[ $((a2 - b2)) = 3 ] || die "the new target got $((a2 - b2)) of 3"
say "ok: inlet added, removed with drain, kept through 20 reloads; target moved"
