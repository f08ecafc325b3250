#!/bin/bash
# limits.sh: the figures of the per-peer limits (docs/config.md, "Limits
# per peer"; issue 22, section 3) on loopback with redis behind one outlet
# node and two inlet nodes, the peers a and b.  Not a test: prints a table.
#
#   bench/limits.sh [BUILD_DIR]      (default: ./build; needs src/sallyport)
#
# 1. New connections per second: a and b each open connections one after
#    the other (connect, PING, +PONG, close) for LIM_SECS seconds, at the
#    same time, to an outlet with new_connections_per_second = LIM_RATE
#    (burst the same); then b alone.  Printed: connections served and
#    refused per second for each, and b's rate beside a against b alone
#    (the limited peer must not starve the other).
# 2. Shaping: a reads a LIM_MIB MiB value through an outlet with
#    bytes_per_second_per_connection = LIM_BPS while b reads it through an
#    unshaped outlet, at the same time; then b alone.  Printed: MiB/s of
#    each, a's against its limit.
# 3. The cost of a refusal: the outlet's CPU per refused connection
#    (utime + stime over LIM_REFUSALS refusals at the connection cap).
#
# Knobs: LIM_SECS=10 LIM_RATE=20 LIM_MIB=32 LIM_BPS=4194304
# LIM_REFUSALS=500.  Needs redis-server, redis-cli, python3, ss.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
build=$(cd "${1:-$HERE/../build}" && pwd)
sp=$build/src/sallyport
[ -x "$sp" ] || { echo "limits.sh: no $sp (build first)" >&2; exit 1; }
for t in redis-server redis-cli python3 ss; do
	command -v "$t" >/dev/null 2>&1 ||
		{ echo "limits.sh: $t not installed" >&2; exit 1; }
done
SECS=${LIM_SECS:-10}
RATE=${LIM_RATE:-20}
MIB=${LIM_MIB:-32}
BPS=${LIM_BPS:-4194304}
REFUSALS=${LIM_REFUSALS:-500}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sp-limits-bench.XXXXXX")
pids=
cleanup()
{
	# shellcheck disable=SC2086 # a list of PIDs
	stop $pids
	[ -z "${LIM_KEEP:-}" ] || { echo "kept $tmp" >&2; return; }
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

root_ok=
[ "$(id -u)" != 0 ] || root_ok="allow_root = yes"
for k in out a b; do
	"$sp" identity create "$tmp/$k.key" >/dev/null
	eval "id_$k=\$(\"\$sp\" identity show \"\$tmp/\$k.key\")"
done
redis=$(free_port)
node=$(free_port)
redis-server --port "$redis" --bind 127.0.0.1 --save "" --appendonly no \
    >"$tmp/redis.log" 2>&1 &
pids="$pids $!"
wait_port "$redis"

cat >"$tmp/out.ini" <<EOF
[node]
identity = out.key
listen = 127.0.0.1:$node
log_level = warn
$root_ok
[peers]
a = $id_a
b = $id_b
[outlet rated]
target = 127.0.0.1:$redis
allow = a, b
new_connections_per_second = $RATE
[outlet capped]
target = 127.0.0.1:$redis
allow = a
max_connections_per_peer = 1
[outlet slow]
target = 127.0.0.1:$redis
allow = a
bytes_per_second_per_connection = $BPS
[outlet fast]
target = 127.0.0.1:$redis
allow = b
EOF
for n in a b; do
	{
		printf '[node]\nidentity = %s.key\nlog_level = warn\n%s\n' "$n" \
		    "$root_ok"
		printf '[peers]\nserver = %s\n' "$id_out"
		for s in rated capped slow fast; do
			p=$(free_port)
			eval "p_${n}_$s=$p"
			printf '[inlet %s]\nlisten = 127.0.0.1:%s\n' "$s" "$p"
			printf 'outlet = server@127.0.0.1:%s\n' "$node"
		done
	} >"$tmp/$n.ini"
done
for n in out a b; do
	(cd "$tmp" && exec "$sp" run "$n.ini" 2>"$tmp/$n.log") &
	pids="$pids $!"
	eval "pid_$n=$!"
done
wait_port "$node"
for n in a b; do
	for s in rated capped slow fast; do
		eval "wait_port \$p_${n}_$s"
	done
done

# pings(port, secs): connections one after the other for ${secs} s;
# prints "ok refused secs".
pings()
{
	python3 - "$1" "$2" <<'EOF'
import socket, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
ok = ref = 0
t0 = time.monotonic()
while time.monotonic() - t0 < secs:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"PING\r\n")
        d = b""
        while len(d) < 7:
            x = s.recv(64)
            if not x:
                break
            d += x
        s.close()
        if d.startswith(b"+PONG"):
            ok += 1
        else:
            ref += 1
    except OSError:
        ref += 1
print(ok, ref, "%.2f" % (time.monotonic() - t0))
EOF
}

echo "== 1. new_connections_per_second = $RATE (burst $RATE), $SECS s each"
pings "$p_b_rated" "$SECS" >"$tmp/rb1"
pings "$p_b_fast" "$SECS" >"$tmp/fb1"
pings "$p_a_rated" "$SECS" >"$tmp/ra" &
ra=$!
pings "$p_b_rated" "$SECS" >"$tmp/rb"
wait "$ra"
pings "$p_a_rated" "$SECS" >"$tmp/ra2" &
ra=$!
pings "$p_b_fast" "$SECS" >"$tmp/fb"
wait "$ra"
printf '%-36s %10s %10s\n' "" served/s refused/s
for f in rb1:"b alone (limited)" ra:"a (limited)" rb:"b beside a (limited)" \
    fb1:"b alone (no limit)" ra2:"a (limited)" fb:"b beside a (no limit)"; do
	read -r ok ref secs <"$tmp/${f%%:*}"
	awk -v n="${f#*:}" -v o="$ok" -v r="$ref" -v s="$secs" 'BEGIN {
	    printf "%-36s %10.1f %10.1f\n", n, o / s, r / s }'
done
for f in rb fb; do
	read -r ok _ secs <"$tmp/$f"
	read -r ok1 _ secs1 <"$tmp/${f}1"
	awk -v a="$ok" -v s="$secs" -v b="$ok1" -v t="$secs1" -v f="$f" \
	    'BEGIN { printf "b beside a / b alone (%s): %.2f\n",
	    f == "rb" ? "limited" : "no limit", (a / s) / (b / t) }'
done
echo "(a limited's expected served/s: $RATE + the burst $RATE / $SECS s)"

echo "== 2. bytes_per_second_per_connection = $BPS, a $MIB MiB value"
head -c $((MIB * 1048576)) /dev/zero | tr '\0' x >"$tmp/value"
redis-cli -p "$redis" -x SET big <"$tmp/value" >/dev/null
get() # get(port, out): MiB/s into ${out}
{
	python3 - "$1" "$MIB" >"$2" <<'EOF'
import socket, sys, time
port, mib = int(sys.argv[1]), int(sys.argv[2])
want = mib * 1048576 + len(b"$%d\r\n\r\n" % (mib * 1048576))
s = socket.create_connection(("127.0.0.1", port), timeout=600)
t0 = time.monotonic()
s.sendall(b"GET big\r\n")
n = 0
while n < want:
    x = s.recv(1 << 20)
    if not x:
        break
    n += len(x)
dt = time.monotonic() - t0
print("%.2f %d" % (n / 1048576 / dt, n == want))
EOF
}
get "$p_b_fast" "$tmp/sb1"
get "$p_a_slow" "$tmp/sa" &
sa=$!
get "$p_b_fast" "$tmp/sb"
wait "$sa"
printf '%-28s %10s %8s\n' "" MiB/s whole
read -r m w <"$tmp/sa"
printf '%-28s %10s %8s\n' "a (shaped)" "$m" "$w"
# Expected: the first second's burst, then the rate.
awk -v m="$m" -v b="$BPS" -v n="$MIB" 'BEGIN {
    e = n / ((n * 1048576 - b) / b)
    printf "a / its limit: %.3f (expected with the 1 s burst: %.3f)\n", \
    m * 1048576 / b, e * 1048576 / b }'
read -r m w <"$tmp/sb"
printf '%-28s %10s %8s\n' "b beside a (unshaped)" "$m" "$w"
read -r m w <"$tmp/sb1"
printf '%-28s %10s %8s\n' "b alone" "$m" "$w"

echo "== 3. the outlet's CPU per refused connection (cap 1, $REFUSALS refusals)"
python3 - "$p_a_capped" >"$tmp/hold" <<'EOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"PING\r\n")
s.recv(64)
print("held", flush=True)
time.sleep(600)
EOF
hold=$!
pids="$pids $hold"
while ! grep -q held "$tmp/hold" 2>/dev/null; do sleep 0.05; done
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
c0=$(cpu "$pid_out")
python3 - "$p_a_capped" "$REFUSALS" >"$tmp/ref" <<'EOF'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
ref = 0
t0 = time.monotonic()
for i in range(n):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"PING\r\n")
        ref += s.recv(64) == b""
        s.close()
    except OSError:
        ref += 1 # a reset: refused too
print(ref, "%.2f" % (time.monotonic() - t0))
EOF
c1=$(cpu "$pid_out")
read -r ref secs <"$tmp/ref"
awk -v c="$((c1 - c0))" -v r="$ref" -v hz="$(getconf CLK_TCK)" -v s="$secs" \
    'BEGIN { printf "refused %d in %.2f s; outlet CPU %.3f ms each\n", r, s,
    c / hz * 1000 / (r > 0 ? r : 1) }'
grep -c 'reason=limit' "$tmp/out.log" | sed 's/^/audit lines of every refusal of the run (at most 1 a second per peer and outlet): /'
