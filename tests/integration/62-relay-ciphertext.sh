#!/bin/sh
# The relay never sees plaintext.  A client sends a known marker through
# inlet -> relay -> outlet, the server answers with another marker; tcpdump
# captures everything on the relay host (all interfaces) and, as a control
# that the capture method would see plaintext, the server's loopback (where
# the outlet talks to its target in the clear).  Both markers arrive at the
# far end; neither appears in the relay's capture; both appear in the
# control capture.
. "$top_srcdir/tests/integration/relaylib.sh"

need tcpdump
relay3_net
relay3_configs

rnd=$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
MARK_A="SALLYPORT-PLAINTEXT-CLIENT-$rnd;"
MARK_B="SALLYPORT-PLAINTEXT-SERVER-$rnd;"
COUNT=2000	# 2000 copies each way (about 90 KB)

ns_spawn server "$WORK/marker-server.out" python3 "$NETKIT" marker-server \
    "127.0.0.1:$TARGET_PORT" --expect "$MARK_A" --reply "$MARK_B" \
    --count "$COUNT" --result "$WORK/marker-result" --ready "$WORK/ms.ready"
wait_for_file "$WORK/ms.ready" 10

# Captures: -U writes each packet at once, -Z root keeps the file ours.
ns_spawn relay "$WORK/tcpdump-relay.log" tcpdump -n -i any -s 0 -U -Z root \
    -w "$WORK/relay.pcap" tcp
TCPDUMP_RELAY=$LAST_PID
ns_spawn server "$WORK/tcpdump-lo.log" tcpdump -n -i lo -s 0 -U -Z root \
    -w "$WORK/server-lo.pcap" tcp port "$TARGET_PORT"
TCPDUMP_LO=$LAST_PID
wait_for_log "$WORK/tcpdump-relay.log" 'listening on' 10
wait_for_log "$WORK/tcpdump-lo.log" 'listening on' 10

relay3_start
# No echo target here: wait until the inlet's port is up, then retry the
# first marker exchange a few times (registration, pool: at most ~35 s).
wait_until 10 eval "ns_exec client ss -Hltn 'sport = :$INLET_PORT' | grep -q ." ||
	die "the inlet does not listen"
# marker_try: one exchange of ${COUNT} markers each way; its result in $r.
marker_try()
{
	r=$(ns_exec client python3 "$NETKIT" marker-client "$INLET" \
	    --send "$MARK_A" --expect "$MARK_B" --count "$COUNT" --timeout 3)
}
r=""
wait_until 35 marker_try ||
	die "the markers did not make it through the relay: ${r:-none}"
say "marker exchange: $r"
# And once more on a fresh connection, the path now warm.
r=$(ns_exec client python3 "$NETKIT" marker-client "$INLET" \
    --send "$MARK_A" --expect "$MARK_B" --count "$COUNT" --timeout 10) ||
	die "second marker exchange failed: $r"

# The server got every copy of the client's marker.
got=$(grep -c "^got_a=$COUNT " "$WORK/marker-result" || true)
[ "$got" -ge 2 ] || die "the server did not get the markers: $(cat "$WORK/marker-result")"

stop_pid "$TCPDUMP_RELAY" INT
forget_pid "$TCPDUMP_RELAY"
stop_pid "$TCPDUMP_LO" INT
forget_pid "$TCPDUMP_LO"
sed 's/^/tcpdump relay: /' "$WORK/tcpdump-relay.log" >&2

count_in()
{
	grep -a -o -F -- "$1" "$2" | wc -l | tr -d ' '
}

relay_bytes=$(wc -c <"$WORK/relay.pcap" | tr -d ' ')
plain=$((2 * 2 * COUNT * ${#MARK_A}))
say "relay capture: $relay_bytes bytes; plaintext carried: $plain bytes"
[ "$relay_bytes" -gt "$plain" ] ||
	die "the relay capture is smaller than the traffic: did it go through the relay?"
a_lo=$(count_in "$MARK_A" "$WORK/server-lo.pcap")
b_lo=$(count_in "$MARK_B" "$WORK/server-lo.pcap")
a_relay=$(count_in "$MARK_A" "$WORK/relay.pcap")
b_relay=$(count_in "$MARK_B" "$WORK/relay.pcap")
# Also a shorter piece, in case a marker was split across segments.
rnd_relay=$(count_in "$rnd" "$WORK/relay.pcap")
say "server loopback (control): client marker x$a_lo, server marker x$b_lo"
say "relay: client marker x$a_relay, server marker x$b_relay, random part x$rnd_relay"
[ "$a_lo" -gt 0 ] && [ "$b_lo" -gt 0 ] ||
	die "the control capture did not see the plaintext: the method is broken"
[ "$a_relay" = 0 ] || die "the relay saw the client's plaintext marker"
[ "$b_relay" = 0 ] || die "the relay saw the server's plaintext marker"
[ "$rnd_relay" = 0 ] || die "the relay saw a piece of the plaintext markers"
log_has "$WORK/db.log" event=open role=outlet "peer=$APP_ID" service=postgres ||
	die "the outlet did not carry the connection"
say "ok: no plaintext on the relay host"
