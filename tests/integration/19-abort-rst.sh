#!/bin/sh
# Every abort path ends the plain side with a reset, never a FIN
# (docs/protocol.md 3.3; issue 14 part 2).  The client of an inlet must
# see ECONNRESET, not a clean EOF, when the inlet gives up on it:
#   - the outlet node address refuses the connect (nothing listens);
#   - the outlet node address never answers (connect_timeout = 1, a
#     netkit blackhole whose accept queue is full);
#   - the outlet refuses: not-allowed, unknown-service;
#   - the outlet's target is down (its port is closed);
#   - peer-mismatch (the inlet pins another identity);
#   - through a relay: no-registrant (nobody registered the name) and
#     relay-session-down (the relay is not running);
#   - idle_timeout = 1 ends an idle live connection (after ~1 s);
#   - shutdown_grace = 1: SIGTERM with a live idle connection (~1 s);
#   - dead channel: kill -9 of the outlet node under an idle connection.
# Each refusal is probed twice: with no byte sent (a plain close would be
# a FIN, so the reset is sallyport's own, not the kernel's answer to
# unread data) and with a request sent first.
# The target side: the target sees a reset when the client resets
# (15-reset.sh accepts EOF there, so it is checked strictly here), when
# the inlet gives up on idle_timeout or at the end of its shutdown grace,
# and when the inlet node is killed (-9) under a live connection.
. "$(dirname "$0")/lib.sh"

# rk.py: a target that echoes and logs how each connection ended
# ("end=reset" or "end=eof"), and a client that makes one echo round trip,
# writes its ready file, then waits for the end (or aborts at once).
cat >"$WORK/rk.py" <<'PY'
import os, socket, sys, threading, time

def ready(path):
    with open(path + ".tmp", "w") as f:
        f.write("ready\n")
    os.rename(path + ".tmp", path)

def addr(s):
    h, _, p = s.rpartition(":")
    return (h, int(p))

def target(listen, rfile, log):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(addr(listen))
    ls.listen(64)
    ready(rfile)
    lock = threading.Lock()
    def one(c):
        end = "eof"
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
        except ConnectionResetError:
            end = "reset"
        except OSError as e:
            end = "error-" + type(e).__name__
        with lock, open(log, "a") as f:
            f.write("end=%s\n" % end)
        c.close()
    while True:
        c, _ = ls.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()

def client(connect, rfile, mode, timeout):
    s = socket.create_connection(addr(connect), timeout=10)
    s.sendall(b"x")
    if s.recv(1) != b"x":
        print("end=no-echo")
        return
    if mode == "abort":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     (1).to_bytes(4, "little") + (0).to_bytes(4, "little"))
        s.close()
        print("end=aborted")
        return
    ready(rfile)
    t0 = time.monotonic()
    s.settimeout(0.05)
    end, n = "timeout", 0
    while time.monotonic() - t0 < timeout:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            end = "reset"
            break
        except OSError as e:
            end = "error-" + type(e).__name__
            break
        if not d:
            end = "eof"
            break
        n += len(d)
    print("end=%s bytes=%d secs=%.3f" % (end, n, time.monotonic() - t0),
          flush=True)

if sys.argv[1] == "target":
    target(*sys.argv[2:5])
else:
    client(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
PY

TARGET_PORT=$(free_port)
TLOG="$WORK/target-ends.log"
: >"$TLOG"
spawn "$WORK/target.out" python3 "$WORK/rk.py" target "127.0.0.1:$TARGET_PORT" \
	"$WORK/target.ready" "$TLOG"
wait_for_file "$WORK/target.ready" 10
HOLE_PORT=$(free_port)
spawn "$WORK/hole.out" netkit blackhole "127.0.0.1:$HOLE_PORT" \
	--ready "$WORK/hole.ready"
wait_for_file "$WORK/hole.ready" 10
CLOSED_PORT=$(free_port)	# nobody ever listens here (the outlet's "down")
CLOSED_NODE=$(free_port)	# nor here (an outlet node that is not there)
DEAD_RELAY=$(free_port)		# nor here (a relay that is not running)

OUT_ID=$(make_identity out)
IN_ID=$(make_identity in)
IN2_ID=$(make_identity in2)
IDLE_ID=$(make_identity idle)
KILL_ID=$(make_identity kill)
OTHER_ID=$(make_identity other)
HUB_ID=$(make_identity hub)
GONE_ID=$(make_identity gone)
NODE_PORT=$(free_port)
HUB_PORT=$(free_port)
NODE="127.0.0.1:$NODE_PORT"

{
	ini_node "$WORK/out.key" "$NODE"
	ini_peers client "$IN_ID" client2 "$IN2_ID" idle "$IDLE_ID" \
	    kill "$KILL_ID" other "$OTHER_ID"
	ini_outlet echo "127.0.0.1:$TARGET_PORT" client client2 idle kill
	ini_outlet down "127.0.0.1:$CLOSED_PORT" client
	ini_outlet private "127.0.0.1:$TARGET_PORT" other
} >"$WORK/out.ini"
{
	ini_node "$WORK/hub.key" "127.0.0.1:$HUB_PORT"
	ini_peers server "$OUT_ID" client "$IN_ID"
	printf '[relay lonely]\nregister = server\nallow = client\n\n'
} >"$WORK/hub.ini"
# The inlet node under test: one inlet per abort path.
P_ECHO=$(free_port)
P_REFUSED=$(free_port)
P_TIMEOUT=$(free_port)
P_NOTALLOWED=$(free_port)
P_UNKNOWN=$(free_port)
P_DOWN=$(free_port)
P_MISMATCH=$(free_port)
P_NOREG=$(free_port)
P_RELAYDOWN=$(free_port)
{
	ini_node "$WORK/in.key" "" "connect_timeout = 1" "shutdown_grace = 1"
	ini_peers server "$OUT_ID" other "$OTHER_ID" hub "$HUB_ID" \
	    gone "$GONE_ID"
	ini_inlet echo "127.0.0.1:$P_ECHO" "server@$NODE"
	ini_inlet refused "127.0.0.1:$P_REFUSED" "server@127.0.0.1:$CLOSED_NODE" echo
	ini_inlet timeout "127.0.0.1:$P_TIMEOUT" "server@127.0.0.1:$HOLE_PORT" echo
	ini_inlet notallowed "127.0.0.1:$P_NOTALLOWED" "server@$NODE" private
	ini_inlet unknown "127.0.0.1:$P_UNKNOWN" "server@$NODE" nosuch
	ini_inlet down "127.0.0.1:$P_DOWN" "server@$NODE"
	ini_inlet mismatch "127.0.0.1:$P_MISMATCH" "other@$NODE" echo
	echo "[inlet noreg]"
	echo "listen = 127.0.0.1:$P_NOREG"
	echo "outlet = server"
	echo "via = hub@127.0.0.1:$HUB_PORT"
	echo "service = lonely"
	echo
	echo "[inlet relaydown]"
	echo "listen = 127.0.0.1:$P_RELAYDOWN"
	echo "outlet = server"
	echo "via = gone@127.0.0.1:$DEAD_RELAY"
	echo "service = echo"
	echo
} >"$WORK/in.ini"
# plain(name, port, key=value...): an inlet node ${name} whose inlet "echo"
# on ${port} reaches the outlet directly.
plain()
{
	_pn=$1 _pp=$2
	shift 2
	{
		ini_node "$WORK/$_pn.key" "" "$@"
		ini_peers server "$OUT_ID"
		ini_inlet echo "127.0.0.1:$_pp" "server@$NODE"
	} >"$WORK/$_pn.ini"
}
P_IN2=$(free_port)
P_IDLE=$(free_port)
P_KILL=$(free_port)
plain in2 "$P_IN2"
plain idle "$P_IDLE" "idle_timeout = 1"
plain kill "$P_KILL"

start_node out "$WORK/out.ini"
start_node hub "$WORK/hub.ini"
start_node in "$WORK/in.ini"
start_node in2 "$WORK/in2.ini"
start_node idle "$WORK/idle.ini"
start_node kill "$WORK/kill.ini"
wait_for_event "$WORK/in.log" 10 event=session-open role=inlet "peer=$HUB_ID"

# The tunnel itself works (else every reset below proves nothing).
r=$(netkit echo-check "127.0.0.1:$P_ECHO" --count 1 --size 4096 --timeout 10) ||
	die "no echo through the tunnel: $r"
r=$(netkit echo-check "127.0.0.1:$P_IN2" --count 1 --size 4096 --timeout 10) ||
	die "no echo through in2: $r"
: >"$TLOG"

# expect_reset(what, port [min_s]): a client of the inlet on ${port} is
# reset with no byte, within 5 s (and not before ${min_s}): once without
# sending anything, once after a request.
expect_reset()
{
	for _send in "" 50494e470d0a; do
		_r=$(netkit probe "127.0.0.1:$2" ${_send:+--send-hex $_send} \
		    --timeout 8)
		_how="nothing sent"
		[ -z "$_send" ] || _how="request sent"
		say "$1 ($_how): $_r"
		[ "$(field "$_r" end)" = reset ] ||
			die "$1: the client saw end=$(field "$_r" end), not a reset: $_r"
		[ "$(field "$_r" bytes)" = 0 ] || die "$1: the client got data: $_r"
		secs_between "$(field "$_r" secs)" "${3:-0}" 5 ||
			die "$1: reset after $(field "$_r" secs) s (want ${3:-0} to 5 s)"
	done
}

expect_reset "outlet node refuses the connect" "$P_REFUSED"
wait_for_event "$WORK/in.log" 5 event=drop role=inlet reason=connect-failed
expect_reset "outlet node never answers (connect_timeout = 1)" "$P_TIMEOUT" 0.5
wait_for_event "$WORK/in.log" 5 event=drop role=inlet reason=connect-timeout
expect_reset "outlet refuses: not-allowed" "$P_NOTALLOWED"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny reason=not-allowed \
    "peer=$IN_ID" service=private
expect_reset "outlet refuses: unknown-service" "$P_UNKNOWN"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny \
    reason=unknown-service "peer=$IN_ID"
expect_reset "target down" "$P_DOWN"
wait_for_event "$WORK/out.log" 5 event=target-failed role=outlet service=down
expect_reset "peer-mismatch" "$P_MISMATCH"
wait_for_event "$WORK/in.log" 5 event=audit decision=deny reason=peer-mismatch
expect_reset "relay: no-registrant" "$P_NOREG"
wait_for_event "$WORK/hub.log" 5 event=audit decision=deny \
    reason=no-registrant "peer=$IN_ID"
expect_reset "relay session down" "$P_RELAYDOWN"
wait_for_event "$WORK/in.log" 5 event=drop role=inlet reason=relay-session-down
[ ! -s "$TLOG" ] || die "a refused client reached the target: $(cat "$TLOG")"

# target_ended(n): the target log has ${n} lines.
target_ended()
{
	[ "$(grep -c . "$TLOG" 2>/dev/null || true)" -ge "$1" ]
}
# expect_target_reset(what): the next target connection end is a reset.
TN=0
expect_target_reset()
{
	TN=$((TN + 1))
	wait_until 5 target_ended "$TN" ||
		die "$1: the target's connection did not end within 5 s"
	_e=$(sed -n "${TN}p" "$TLOG")
	say "$1: target $_e"
	[ "$_e" = end=reset ] || die "$1: the target saw $_e, not a reset"
}

# idle_client(tag, port): a live connection (one byte echoed through the
# tunnel), then idle; waits for it to be up.  Sets IDLE_PID.
idle_client()
{
	spawn "$WORK/client-$1.out" python3 "$WORK/rk.py" client \
	    "127.0.0.1:$2" "$WORK/client-$1.ready" wait 15
	IDLE_PID=$LAST_PID
	wait_until 10 test -e "$WORK/client-$1.ready" ||
		die "$1: the client's connection did not come up: $(cat "$WORK/client-$1.out")"
}

# client_reset(what, tag, min_s, max_s): the idle client ${tag} ended by a
# reset, ${min_s} to ${max_s} seconds after it was up.
client_reset()
{
	wait_exit "$IDLE_PID" 15 || die "$1: the client was never closed"
	_r=$(cat "$WORK/client-$2.out")
	say "$1: client $_r"
	[ "$(field "$_r" end)" = reset ] ||
		die "$1: the client saw end=$(field "$_r" end), not a reset: $_r"
	secs_between "$(field "$_r" secs)" "$3" "$4" ||
		die "$1: the client was reset after $(field "$_r" secs) s, want $3 to $4"
}

# The client resets: the target sees a reset (not EOF).
r=$(python3 "$WORK/rk.py" client "127.0.0.1:$P_ECHO" "$WORK/abort.ready" abort 5)
[ "$r" = end=aborted ] || die "client abort: $r"
expect_target_reset "client reset"

# idle_timeout = 1 at the inlet: both ends reset after about 1 s.
idle_client idle "$P_IDLE"
client_reset "idle_timeout" idle 0.5 4
expect_target_reset "idle_timeout"
wait_for_event "$WORK/idle.log" 5 event=close role=inlet reason=idle-timeout

# The inlet node is killed (-9) under a live connection: the outlet's
# channel dies, the target is reset.
idle_client killin "$P_KILL"
kill -KILL "$PID_kill"
wait_exit "$PID_kill" 5 || die "node kill survived SIGKILL"
expect_target_reset "inlet node killed"
wait_for_event "$WORK/out.log" 5 event=close role=outlet "peer=$KILL_ID" \
    reason=channel-closed
# (Its client was closed by the kernel with the killed process: not
# sallyport's doing, so not asserted.)
wait_until 5 proc_gone "$IDLE_PID" || true

# SIGTERM with shutdown_grace = 1 and a live idle connection: the client
# and the target are reset when the grace runs out, after about 1 s.
idle_client grace "$P_ECHO"
kill -TERM "$PID_in"
wait_for_event "$WORK/in.log" 5 event=shutdown live=1
client_reset "shutdown grace" grace 0.5 4
expect_target_reset "shutdown grace"
wait_exit "$PID_in" 5 || die "node in did not exit after its grace"
log_has "$WORK/in.log" event=close role=inlet reason=shutdown ||
	die "no close reason=shutdown at the inlet"

# Dead channel: the outlet node is killed (-9) under a live idle
# connection: the client of the inlet is reset at once.
idle_client deadchan "$P_IN2"
kill -KILL "$PID_out"
wait_exit "$PID_out" 5 || die "node out survived SIGKILL"
client_reset "outlet node killed" deadchan 0 3
wait_for_event "$WORK/in2.log" 5 event=close role=inlet reason=channel-closed
say "ok"
