#!/bin/sh
# Resumed handshakes with short-lived credentials (issue 19, N4), the set-up
# docs/credentials.md recommends (credentials renewed by `reload = watch`,
# resumption on by default), on loopback, directly (inlet in -> outlet out)
# and through a relay (inlet rin -> relay hub -> outlet rout); outlets and
# the relay allow `role=app@corp` with credential_skew = 0.  Each inlet
# starts with a credential that lives FIRST_TTL seconds:
# 1. a first connection (a full handshake: the tickets are made);
# 2. the credential is renewed (1 h), and a long connection opens after
#    the renewal: a resumed one;
# 3. once the clock is well past the first credential's end, the long
#    connection still carries bytes (it was admitted by the credential it
#    showed, the renewed one, not by the one the full handshake saw), and
#    new connections, resumed, get their bytes back: no credential-expired
#    refusal anywhere.
# 4. An inlet whose resumed connection is refused as not allowed where a
#    full handshake passes (as with an outlet of an earlier build, which
#    decided on the ticket's credentials): stood in for by a frame gate
#    that carries resumed msg1s (a 65-byte body) to outlet outb, which
#    holds a copy of out's key and stops allowing role=app, and every
#    other connection to out.  The inlet gin forgets the ticket and carries
#    the client, with the bytes it sent and its EOF, over a new connection
#    with a full handshake, once: the client gets its echo.
. "$(dirname "$0")/lib.sh"

FIRST_TTL=12
TARGET_PORT=$(free_port)
start_echo "127.0.0.1:$TARGET_PORT"
CA_ID=$("$SALLYPORT" authority create "$WORK/ca.key" | tail -n 1)
case $CA_ID in I*) ;; *) die "authority create printed $CA_ID" ;; esac
for n in out in hub rout rin; do
	eval "ID_$n=\$(make_identity $n)"
done
NODE_PORT=$(free_port)
HUB_PORT=$(free_port)
IN_PORT=$(free_port)
RIN_PORT=$(free_port)
HUB="hub@127.0.0.1:$HUB_PORT"
# The nodes that decide on credentials: expiry with no skew.
DECIDE="credential_skew = 0"
# The inlets: renewed credential files are picked up within 0.5 s.
WATCH="reload = watch"
POLL="reload_interval = 0.5"

{
	ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT" "$DECIDE" \
	    "log_level = debug"
	ini_authorities corp "$CA_ID"
	ini_outlet echo "127.0.0.1:$TARGET_PORT" "role=app@corp"
} >"$WORK/out.ini"
{
	ini_node "$WORK/hub.key" "127.0.0.1:$HUB_PORT" "$DECIDE"
	ini_authorities corp "$CA_ID"
	ini_peers rout "$ID_rout"
	printf '[relay echo]\nregister = rout\nallow = role=app@corp\n\n'
} >"$WORK/hub.ini"
{
	ini_node "$WORK/rout.key" "" "$DECIDE" "log_level = debug"
	ini_authorities corp "$CA_ID"
	ini_peers hub "$ID_hub"
	printf '[outlet echo]\ntarget = 127.0.0.1:%s\nrelay = %s\n' \
	    "$TARGET_PORT" "$HUB"
	printf 'allow = role=app@corp\n\n'
} >"$WORK/rout.ini"
{
	ini_node "$WORK/in.key" "" "credential = in.cred" "$WATCH" "$POLL" \
	    "log_level = debug"
	ini_peers server "$ID_out"
	ini_inlet echo "127.0.0.1:$IN_PORT" "server@127.0.0.1:$NODE_PORT"
} >"$WORK/in.ini"
{
	ini_node "$WORK/rin.key" "" "credential = rin.cred" "$WATCH" "$POLL" \
	    "log_level = debug"
	ini_peers hub "$ID_hub" rout "$ID_rout"
	printf '[inlet echo]\nlisten = 127.0.0.1:%s\noutlet = rout\nvia = %s\n\n' \
	    "$RIN_PORT" "$HUB"
} >"$WORK/rin.ini"

start_node out "$WORK/out.ini"
start_node hub "$WORK/hub.ini"
start_node rout "$WORK/rout.ini"
wait_for_event "$WORK/rout.log" 10 event=session-open role=outlet \
    kind=register
# The short credentials are issued just before their nodes start.
cred_issue ca.key in --attr role=app --ttl "${FIRST_TTL}s"
cred_issue ca.key rin --attr role=app --ttl "${FIRST_TTL}s"
first_end=$("$SALLYPORT" credential show "$WORK/in.cred" |
    sed -n 's/^not-after *\([0-9]*\).*/\1/p')
rin_end=$("$SALLYPORT" credential show "$WORK/rin.cred" |
    sed -n 's/^not-after *\([0-9]*\).*/\1/p')
[ "$rin_end" -gt "$first_end" ] && first_end=$rin_end
start_node in "$WORK/in.ini"
start_node rin "$WORK/rin.ini"
wait_for_event "$WORK/rin.log" 10 event=session-open role=inlet

# echo_ok(inlet-port): one client gets its 6 bytes back.
echo_ok()
{
	_r=$(netkit probe "127.0.0.1:$1" --send-hex 50494e470d0a --shut \
	    --timeout 10)
	[ "$(field "$_r" bytes)" = 6 ] ||
		die "no echo through 127.0.0.1:$1: $_r"
}
# resumed(log): resumed connections an outlet took.
resumed()
{
	log_count "$1" event=resumed role=outlet
}

# 1. Full handshakes: each inlet now holds a ticket for its outlet.
echo_ok "$IN_PORT"
echo_ok "$RIN_PORT"
[ "$(resumed "$WORK/out.log")" = 0 ] && [ "$(resumed "$WORK/rout.log")" = 0 ] ||
	die "a first connection resumed"

# 2. Renewal, then a long connection on each path: resumed ones.
cred_issue ca.key in --attr role=app --ttl 1h
cred_issue ca.key rin --attr role=app --ttl 1h
wait_reload in 1 ok 10
wait_reload rin 1 ok 10
for p in in:$IN_PORT rin:$RIN_PORT; do
	spawn "$WORK/long-${p%%:*}.out" netkit echo-twice "127.0.0.1:${p#*:}" \
	    --ready "$WORK/long-${p%%:*}.ready" --go "$WORK/long.go" \
	    --timeout 120
	eval "LONG_${p%%:*}=\$LAST_PID"
	wait_for_file "$WORK/long-${p%%:*}.ready" 10
done
opened=$(date +%s)
[ "$(resumed "$WORK/out.log")" = 1 ] ||
	die "the long connection did not resume (direct)"
[ "$(resumed "$WORK/rout.log")" = 1 ] ||
	die "the long connection did not resume (relay)"
if [ "$opened" -lt "$first_end" ]; then
	say "long connections resumed $((first_end - opened)) s before the first credentials end"
else
	say "long connections resumed after the first credentials ended (a slow machine)"
fi

# 3. Well past the first credentials' end (no skew at the deciders).
past_first_end() { [ "$(date +%s)" -ge $((first_end + 2)) ]; }
wait_until 60 past_first_end || die "the clock did not pass $first_end"
touch "$WORK/long.go"
for n in in rin; do
	eval "_pid=\$LONG_$n"
	wait_until 30 proc_gone "$_pid" || die "the long client ($n) hangs"
	grep -q 'first=ok second=ok' "$WORK/long-$n.out" ||
		die "the long connection ($n) was cut: $(cat "$WORK/long-$n.out")"
done
say "resumed connections made after the renewal outlived the first credential"
echo_ok "$IN_PORT"
echo_ok "$RIN_PORT"
[ "$(resumed "$WORK/out.log")" = 2 ] ||
	die "no resumed connection after the first credential ended (direct)"
[ "$(resumed "$WORK/rout.log")" = 2 ] ||
	die "no resumed connection after the first credential ended (relay)"
for l in out rout; do
	log_has "$WORK/$l.log" event=audit decision=deny &&
		die "$l denied: $(grep 'decision=deny' "$WORK/$l.log" | head -n 1)"
done
say "ok: new resumed connections pass after the first credential ended"

# 4. A resumed connection refused where a full handshake passes.
for n in gin; do
	eval "ID_$n=\$(make_identity $n)"
done
cred_issue ca.key gin --attr role=app --ttl 1h
cp -p "$WORK/out.key" "$WORK/outb.key"
OUTB_PORT=$(free_port)
GATE_PORT=$(free_port)
GIN_PORT=$(free_port)
write_outb()
{
	{
		ini_node "$WORK/outb.key" "127.0.0.1:$OUTB_PORT" "$DECIDE" \
		    "log_level = debug"
		ini_authorities corp "$CA_ID"
		ini_outlet echo "127.0.0.1:$TARGET_PORT" "$1"
	} >"$WORK/outb.ini.new"
	mv -f "$WORK/outb.ini.new" "$WORK/outb.ini"
}
write_outb "role=app@corp"
start_node outb "$WORK/outb.ini"
spawn "$WORK/gate.out" netkit frame-gate "127.0.0.1:$GATE_PORT" \
	"127.0.0.1:$NODE_PORT" --drop-len 65 \
	--route-to "127.0.0.1:$OUTB_PORT" --log "$WORK/gate.log" \
	--ready "$WORK/gate.ready"
wait_for_file "$WORK/gate.ready" 10
{
	ini_node "$WORK/gin.key" "" "credential = gin.cred" "log_level = debug"
	ini_peers server "$ID_out"
	ini_inlet echo "127.0.0.1:$GIN_PORT" "server@127.0.0.1:$GATE_PORT"
} >"$WORK/gin.ini"
start_node gin "$WORK/gin.ini"
# A full handshake with out; the resumed attempt goes to outb, which does
# not know that ticket: a full handshake with outb on the same stream,
# whose ticket gin keeps.
echo_ok "$GIN_PORT"
echo_ok "$GIN_PORT"
wait_for_event "$WORK/gin.log" 5 event=resume-refused
[ "$(log_count "$WORK/gate.log" routed)" = 1 ] ||
	die "the gate did not route one resumed msg1 to outb"
write_outb "role=db@corp"
reload_node outb
# Resumed with outb's ticket: refused; the client is carried over a full
# handshake (to out) with its 6 bytes and its EOF.
n_out=$(log_count "$WORK/out.log" event=audit decision=allow "peer=$ID_gin")
echo_ok "$GIN_PORT"
wait_for_event "$WORK/outb.log" 5 event=audit decision=deny \
    reason=not-allowed "peer=$ID_gin" role=outlet
# (held= is what the client had sent when the refusal came: 0 to 6, as
# the machine's load orders them; echo_ok saw all 6 carried over.)
wait_for_event "$WORK/gin.log" 5 event=resume-denied role=inlet \
    reason=remote-not-allowed redial=yes
[ "$(log_count "$WORK/out.log" event=audit decision=allow "peer=$ID_gin")" = \
    $((n_out + 1)) ] || die "the client was not carried over to out"
log_has "$WORK/gin.log" event=audit decision=deny &&
	die "gin logged a deny: $(grep 'decision=deny' "$WORK/gin.log")"
# Once: the connection that carried the client offered no ticket.
[ "$(log_count "$WORK/gate.log" routed)" = 2 ] ||
	die "the carried client resumed: $(log_count "$WORK/gate.log" routed) routed"
say "ok: a refused resumed connection carried over a full handshake"
