#!/bin/sh
# Relay benchmark on loopback: the same redis (and iperf3) reached three
# ways, a direct sallyport tunnel, through one relay, through two relays,
# and one row each with throughput (iperf3), request latency p50 (redis
# PING, one client), new connections per second and time to first byte
# (connect, PING, +PONG, close; one at a time), and for the relay the
# client reaches first its CPU per new connection and its memory per idle
# carried connection (RSS growth over 1000 connections held open); then,
# if strace is installed, the relay's system calls per new connection
# (strace -c over 300 made one at a time).  Not a test: prints a table.
#
#   bench/relay.sh [BUILD_DIR]      (default: ./build; needs src/sallyport)
#
# Needs redis-server, redis-benchmark, iperf3, python3, ss.  Everything runs
# on 127.0.0.1 on this machine, so the numbers include the CPU contention of
# all processes sharing its cores.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
sp=$build/src/sallyport
[ -x "$sp" ] || { echo "relay.sh: no $sp (build first)" >&2; exit 1; }
for t in redis-server redis-benchmark iperf3 python3 ss; do
	command -v "$t" >/dev/null 2>&1 ||
		{ echo "relay.sh: $t not installed" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sp-relay-bench.XXXXXX")
pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

used=
free_port() {
	i=0
	while [ $i -lt 200 ]; do
		p=$(( ($(od -An -N2 -tu2 /dev/urandom) % 12000) + 20000 ))
		i=$((i + 1))
		case " $used " in *" $p "*) continue ;; esac
		if ! ss -Htan "sport = :$p" | grep -q .; then
			used="$used $p"
			echo "$p"
			return 0
		fi
	done
	echo "no free port" >&2
	exit 1
}

wait_log() {
	i=0
	while [ $i -lt 100 ]; do
		c=$(grep -c -- "$2" "$1" 2>/dev/null || true)
		[ "${c:-0}" -ge "${3:-1}" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "relay.sh: timed out waiting for '$2' in $1" >&2
	exit 1
}

run() {
	"$sp" run "$tmp/$1.ini" 2>"$tmp/$1.log" &
	pids="$pids $!"
	eval "pid_$1=$!"
}

redis=$(free_port)
iperf=$(free_port)
direct=$(free_port)
hub=$(free_port)
hub2=$(free_port)
for s in redis iperf; do
	eval "d_$s=\$(free_port) r1_$s=\$(free_port) r2_$s=\$(free_port)"
done

# As root (a CI container), the nodes must be told they may stay root.
root_ok=
[ "$(id -u)" != 0 ] || root_ok="allow_root = yes"

for k in app db hub hub2; do
	"$sp" identity create "$tmp/$k.key" >/dev/null
	eval "id_$k=\$(\"\$sp\" identity show \"\$tmp/\$k.key\")"
done

redis-server --port "$redis" --bind 127.0.0.1 --save "" --appendonly no \
    >"$tmp/redis.log" 2>&1 &
pids="$pids $!"
iperf3 -s -p "$iperf" >"$tmp/iperf.log" 2>&1 &
pids="$pids $!"

cat >"$tmp/hub.ini" <<EOF
[node]
identity = hub.key
listen = 127.0.0.1:$hub
log_level = warn
$root_ok
[peers]
db = $id_db
app = $id_app
hub2 = $id_hub2
[relay redis]
register = db
allow = app, hub2
[relay iperf]
register = db
allow = app, hub2
EOF
cat >"$tmp/hub2.ini" <<EOF
[node]
identity = hub2.key
listen = 127.0.0.1:$hub2
log_level = warn
$root_ok
[peers]
hub = $id_hub
app = $id_app
[relay redis]
allow = app
via = hub@127.0.0.1:$hub
[relay iperf]
allow = app
via = hub@127.0.0.1:$hub
EOF
cat >"$tmp/db.ini" <<EOF
[node]
identity = db.key
listen = 127.0.0.1:$direct
log_level = warn
$root_ok
[peers]
hub = $id_hub
app = $id_app
[outlet redis]
target = 127.0.0.1:$redis
allow = app
relay = hub@127.0.0.1:$hub
[outlet iperf]
target = 127.0.0.1:$iperf
allow = app
relay = hub@127.0.0.1:$hub
EOF
{
	printf '[node]\nidentity = app.key\nlog_level = warn\nmax_handshakes = 2048\n'
	printf '%s\n' "$root_ok"
	printf '[peers]\nhub = %s\nhub2 = %s\ndb = %s\n' "$id_hub" "$id_hub2" \
	    "$id_db"
	for s in redis iperf; do
		eval "p1=\$d_$s p2=\$r1_$s p3=\$r2_$s"
		printf '[inlet d-%s]\nlisten = 127.0.0.1:%s\nservice = %s\n' \
		    "$s" "$p1" "$s"
		printf 'outlet = db@127.0.0.1:%s\n' "$direct"
		printf '[inlet r1-%s]\nlisten = 127.0.0.1:%s\nservice = %s\n' \
		    "$s" "$p2" "$s"
		printf 'outlet = db\nvia = hub@127.0.0.1:%s\n' "$hub"
		printf '[inlet r2-%s]\nlisten = 127.0.0.1:%s\nservice = %s\n' \
		    "$s" "$p3" "$s"
		printf 'outlet = db\nvia = hub2@127.0.0.1:%s\n' "$hub2"
	done
} >"$tmp/app.ini"

for n in hub hub2 db app; do
	run "$n"
done
sleep 1
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	redis-cli -p "$r2_redis" ping 2>/dev/null | grep -q PONG && break
	sleep 0.25
done

cat >"$tmp/probe.py" <<'EOF'
import socket, sys, time
port, what, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def one():
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"PING\r\n")
    b = s.recv(16)
    t1 = time.perf_counter()
    s.close()
    if not b.startswith(b"+PONG"):
        raise SystemExit("bad reply %r" % b)
    return t1 - t0
if what == "count":
    for i in range(n):
        one()
elif what == "conns":
    t = []
    start = time.perf_counter()
    while time.perf_counter() - start < n:
        t.append(one())
    el = time.perf_counter() - start
    t.sort()
    print("%d %.0f %.0f" % (len(t), len(t) / el, t[len(t) // 2] * 1e6))
else:
    held = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"PING\r\n")
        if not s.recv(16).startswith(b"+PONG"):
            raise SystemExit("bad reply")
        held.append(s)
    sys.stdout.write("held\n")
    sys.stdout.flush()
    sys.stdin.read()
EOF

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

printf '%-12s %10s %10s %10s %10s %12s %12s\n' path Gbit/s p50_us \
    conn/s ttfb_us relay_us/conn relay_B/conn
for path in d r1 r2; do
	eval "pi=\$${path}_iperf pr=\$${path}_redis"
	gb=$(iperf3 -c 127.0.0.1 -p "$pi" -t 5 -f g 2>/dev/null |
	    awk '/receiver/ {print $7}')
	p50=$(redis-benchmark -p "$pr" -c 1 -n 5000 -t ping_mbulk -q 2>/dev/null |
	    tr '\r' '\n' | sed -n 's/.*p50=\([0-9.]*\) msec.*/\1/p' | tail -n 1)
	p50=$(echo "$p50" | awk '{printf "%.0f", $1 * 1000}')
	# Warn level everywhere: info lines per connection would weigh in.
	# The relay measured is the one the client reaches first.
	rp=$pid_hub
	[ "$path" != r2 ] || rp=$pid_hub2
	t0=$(ticks "$rp")
	set -- $(python3 "$tmp/probe.py" "$pr" conns 3)
	t1=$(ticks "$rp")
	cpu="-"
	[ "$path" = d ] || cpu=$(( (t1 - t0) * 1000000 / hz / $1 ))
	mem="-"
	if [ "$path" != d ]; then
		m0=$(rss_kb "$rp")
		mkfifo "$tmp/hold.$path"
		python3 "$tmp/probe.py" "$pr" hold 1000 <"$tmp/hold.$path" \
		    >"$tmp/hold.$path.out" &
		hp=$!
		exec 9>"$tmp/hold.$path"
		wait_log "$tmp/hold.$path.out" held
		m1=$(rss_kb "$rp")
		mem=$(( (m1 - m0) * 1024 / 1000 ))
		exec 9>&-
		wait "$hp" 2>/dev/null || true
	fi
	printf '%-12s %10s %10s %10s %10s %12s %12s\n' "$path" "$gb" "$p50" \
	    "$2" "$3" "$cpu" "$mem"
done
# System calls of the relay per new relayed connection (r1): strace -c
# over 300 connections made one at a time (strace slows the relay, so
# not during the timed rows above).
if command -v strace >/dev/null 2>&1; then
	strace -c -f -o "$tmp/strace.out" -p "$pid_hub" 2>/dev/null &
	st=$!
	# strace prints nothing when attached; give it a moment.
	sleep 0.5
	python3 "$tmp/probe.py" "$r1_redis" count 300
	kill -INT "$st"
	wait "$st" 2>/dev/null || true
	awk '$NF == "total" { printf "relay syscalls per new connection (r1, strace -c): %.1f\n", $4 / 300 }' \
	    "$tmp/strace.out"
	awk 'NR > 2 && $1 ~ /^[0-9.]+$/ && $NF != "total" {
	    printf "  %s %.2f\n", $NF, $4 / 300 }' \
	    "$tmp/strace.out" | sort -k2 -rn | head -n 20
fi
echo "(d: direct tunnel; r1: through one relay; r2: through two relays;"
echo " relay columns: the relay the client reaches first; conn/s and ttfb: one client,"
echo " connect + PING + close in a loop for 3 s)"
