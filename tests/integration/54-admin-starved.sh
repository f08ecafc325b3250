#!/bin/sh
# The admin endpoint cannot be starved by idle clients (issue 19, N6): 40
# local clients connect to it and send nothing, each connecting again at
# once whenever its connection is closed; meanwhile 15 /healthz probes
# (curl, one after another) must all be answered 200 ok.  Before the fix
# (4 slots held 2 s each, more clients waiting in a backlog of 16) most
# probes waited seconds or never got in.  Prints the probes' latencies
# and how often the idle clients were closed; the bound per probe is
# generous (10 s): a busy machine must not fail it, a starved endpoint
# does.
. "$(dirname "$0")/lib.sh"
need curl

OUT_ID=$(make_identity out)
make_identity in >/dev/null
ADMIN=$(free_port)
IDLE=40
PROBES=15
{
	ini_node "$WORK/in.key" "" "admin = 127.0.0.1:$ADMIN"
	ini_peers server "$OUT_ID"
	ini_inlet db "127.0.0.1:$(free_port)" "server@127.0.0.1:$(free_port)"
} >"$WORK/in.ini"
start_node in "$WORK/in.ini"

# The idle clients: until $WORK/stop exists (or 300 s); $WORK/idle.ready
# once all are connected; prints how many times they were closed.
cat >"$WORK/idle.py" <<'PY'
import os, selectors, socket, sys, time
port, n, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sel = selectors.DefaultSelector()
def dial():
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    sel.register(s, selectors.EVENT_READ)
for _ in range(n):
    dial()
closed, t0, ready = 0, time.monotonic(), False
while not os.path.exists(work + "/stop") and time.monotonic() - t0 < 300:
    for key, _ in sel.select(0.05):
        s = key.fileobj
        try:
            data = s.recv(4096)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if data == b"":
            sel.unregister(s)
            s.close()
            closed += 1
            dial()
    if not ready:
        ready = True
        open(work + "/idle.ready", "w").close()
print("closed=%d" % closed)
PY
spawn "$WORK/idle.out" python3 "$WORK/idle.py" "$ADMIN" "$IDLE" "$WORK"
idle=$LAST_PID
wait_for_file "$WORK/idle.ready" 10
# The idle clients fill the slots (and the backlog) before the probes.
wait_until 10 eval '[ "$(ss -Htn state established "dport = :$ADMIN" |
    wc -l)" -ge 16 ]' || die "the idle clients did not connect"

i=0
: >"$WORK/probes"
while [ "$i" -lt "$PROBES" ]; do
	i=$((i + 1))
	r=$(curl -sS -m 10 -o "$WORK/body" -w '%{http_code} %{time_total}' \
	    "http://127.0.0.1:$ADMIN/healthz" 2>&1) || r="failed: $r"
	[ "$r" != "${r#200 }" ] && [ "$(cat "$WORK/body")" = ok ] ||
		r="failed: $r"
	echo "$r" >>"$WORK/probes"
done
: >"$WORK/stop"
wait_until 10 proc_gone "$idle" || die "the idle clients did not stop"
forget_pid "$idle"
wait "$idle" 2>/dev/null || true

ok=$(grep -c '^200 ' "$WORK/probes" || true)
lat=$(awk '$1 == 200 { print $2 }' "$WORK/probes" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR) printf "min=%.3fs median=%.3fs max=%.3fs", v[1], v[int((NR + 1) / 2)], v[NR] }')
say "probes answered: $ok of $PROBES ($lat); idle clients closed: $(cat "$WORK/idle.out")"
[ "$ok" = "$PROBES" ] || die "probes failed: $(grep -v '^200 ' "$WORK/probes" | head -n 3)"
log_has "$WORK/in.log" event=admin-refused reason=evicted ||
	die "no idle client was evicted (the test did not fill the slots)"
proc_alive "$PID_in" || die "the node died"
say "ok"
