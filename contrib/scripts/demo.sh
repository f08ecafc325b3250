#!/bin/sh
# The main job of sallyport, end to end on loopback:
#   redis-cli -> inlet (127.0.0.1) ==secure channel==> outlet -> redis-server
# Builds sallyport (installing Debian 12 packages when run as root), makes
# three identities and their configs in a temporary folder, starts a real
# redis-server with an outlet in front of it and an inlet for the client,
# shows redis-cli talking through the tunnel, then shows an inlet whose
# identity is not on the outlet's allow-list being refused.  Stops only
# what it started, by PID.  Exit 0 on success, non-zero if any step fails.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${SALLYPORT_DEMO_BUILD:-$top/build-demo}

say() { printf '\n== %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

say "dependencies (contrib/scripts/deps.sh)"
sh "$top/contrib/scripts/deps.sh"

say "build in $build"
(cd "$top" && { [ -x configure ] || ./bootstrap >/dev/null 2>&1 || ./bootstrap; })
mkdir -p "$build"
(cd "$build" && { [ -f Makefile ] || "$top/configure" -q; } &&
    make -s -j"$(nproc 2>/dev/null || echo 2)" src/sallyport)
sp=$build/src/sallyport
[ -x "$sp" ] || die "no binary at $sp"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sallyport-demo.XXXXXX")
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

# free_port: a TCP port no socket uses (bounded tries), drawn below the
# kernel's ephemeral range so that no outgoing connection can take it.
used=
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[ "$low" -gt 12000 ] || low=32768
free_port() {
	i=0
	while [ $i -lt 200 ]; do
		p=$(( ($(od -An -N2 -tu2 /dev/urandom) % (low - 11000)) + 10000 ))
		case " $used " in *" $p "*) i=$((i + 1)); continue ;; esac
		if ! ss -Htan "sport = :$p" | grep -q .; then
			used="$used $p"
			echo "$p"
			return 0
		fi
		i=$((i + 1))
	done
	die "no free port found"
}

# wait_for FILE PATTERN: poll a log for a line, at most 10 s.
wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "--- $1" >&2
	cat "$1" >&2 || true
	die "timed out waiting for '$2' in $1"
}

redis_port=$(free_port)
node_port=$(free_port)
inlet_port=$(free_port)
intruder_port=$(free_port)

# Started as root, a node drops to [node] user once its keys are read
# and its listeners bound (docs/security.md): the demo uses nobody.
as_user=
[ "$(id -u)" = 0 ] && as_user="user = nobody"

say "identities (sallyport identity create)"
db_id=$("$sp" identity create "$tmp/db.key")
app_id=$("$sp" identity create "$tmp/app.key")
intruder_id=$("$sp" identity create "$tmp/intruder.key")
echo "outlet node (db):       $db_id"
echo "client node (app):      $app_id"
echo "intruder (not allowed): $intruder_id"

cat > "$tmp/db.ini" <<EOF
; the outlet node, in front of redis
[node]
identity = db.key
listen   = 127.0.0.1:$node_port
shutdown_grace = 2
$as_user

[peers]
app = $app_id

[outlet redis]
target = 127.0.0.1:$redis_port
allow  = app
EOF
cat > "$tmp/app.ini" <<EOF
; the client's node: redis-cli connects to 127.0.0.1:$inlet_port
[node]
identity = app.key
$as_user

[peers]
db = $db_id

[inlet redis]
listen = 127.0.0.1:$inlet_port
outlet = db@127.0.0.1:$node_port
EOF
cat > "$tmp/intruder.ini" <<EOF
; a node with a valid key that the outlet does not allow
[node]
identity = intruder.key
$as_user

[inlet redis]
listen = 127.0.0.1:$intruder_port
outlet = $db_id@127.0.0.1:$node_port
EOF
if [ -n "$as_user" ]; then
	# What a reload reads again must stay readable by that user: the
	# files root-owned in its group, mode 0640, in a directory it can
	# search (run and check refuse it otherwise, docs/config.md "user").
	chmod 711 "$tmp"
	for f in db app intruder; do
		chgrp "$(id -gn nobody)" "$tmp/$f.key" "$tmp/$f.ini"
		chmod 640 "$tmp/$f.key" "$tmp/$f.ini"
	done
fi
say "configs"
for f in db app intruder; do
	"$sp" check "$tmp/$f.ini" >/dev/null || die "$f.ini does not check"
	echo "$tmp/$f.ini: OK"
done

say "redis-server on 127.0.0.1:$redis_port"
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' \
    --appendonly no --daemonize no >"$tmp/redis.log" 2>&1 &
pids="$pids $!"
wait_for "$tmp/redis.log" "Ready to accept connections"

say "outlet node on 127.0.0.1:$node_port, inlet on 127.0.0.1:$inlet_port"
"$sp" run "$tmp/db.ini" 2>"$tmp/db.log" &
db_pid=$!
pids="$pids $db_pid"
"$sp" run "$tmp/app.ini" 2>"$tmp/app.log" &
app_pid=$!
pids="$pids $app_pid"
wait_for "$tmp/db.log" "event=ready"
wait_for "$tmp/app.log" "event=ready"
grep -h 'event=ready' "$tmp/db.log" "$tmp/app.log"

say "redis-cli through the tunnel"
echo "\$ redis-cli -p $inlet_port SET greeting 'hello through sallyport'"
out=$(redis-cli -p "$inlet_port" SET greeting 'hello through sallyport')
echo "$out"
[ "$out" = OK ] || die "SET through the tunnel failed"
echo "\$ redis-cli -p $inlet_port GET greeting"
out=$(redis-cli -p "$inlet_port" GET greeting)
echo "$out"
[ "$out" = "hello through sallyport" ] || die "GET through the tunnel failed"
# The value really is in the redis behind the outlet.
[ "$(redis-cli -p "$redis_port" GET greeting)" = "hello through sallyport" ] ||
    die "the value did not reach redis"
wait_for "$tmp/db.log" "event=close"
echo "outlet log:"
grep -h 'event=audit\|event=open\|event=close' "$tmp/db.log" | sed 's/^/  /'

say "an identity that is not allowed is refused"
"$sp" run "$tmp/intruder.ini" 2>"$tmp/intruder.log" &
intruder_pid=$!
pids="$pids $intruder_pid"
wait_for "$tmp/intruder.log" "event=ready"
echo "\$ redis-cli -p $intruder_port GET greeting"
if out=$(redis-cli -p "$intruder_port" GET greeting 2>&1) &&
    [ "$out" = "hello through sallyport" ]; then
	die "the intruder got an answer: $out"
fi
echo "${out:-(no data, connection closed)}"
wait_for "$tmp/db.log" "decision=deny reason=not-allowed"
echo "outlet audit line:"
grep -h 'decision=deny' "$tmp/db.log" | sed 's/^/  /'

say "stop (SIGTERM): each node logs shutdown and exit"
for p in $intruder_pid $app_pid $db_pid; do
	kill -TERM "$p"
done
for p in $intruder_pid $app_pid $db_pid; do
	wait "$p" || die "a node exited with status $?"
done
grep -h 'event=exit' "$tmp/db.log" "$tmp/app.log" "$tmp/intruder.log" |
    sed 's/^/  /'
say "demo OK"
