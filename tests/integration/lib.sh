# lib.sh: shared helpers of the integration tests, sourced by every
# tests/integration/NN-name.sh (POSIX sh; dash and bash).
#
# Each test gets its own work directory ($WORK, removed on exit), starts its
# processes with spawn/start_node (their PIDs are remembered and only those
# are killed on exit), picks free ports with free_port, and waits for
# readiness with bounded polls (wait_for_log, wait_for_port, wait_for_file,
# wait_exit: all through the one poller, wait_until).  die fails the test
# and dumps the node logs; skip exits 77.
#
# Environment (set by `make check`): SALLYPORT (the binary), top_srcdir,
# top_builddir.  Standalone: SALLYPORT=src/sallyport sh tests/integration/X.sh

set -eu
umask 077

TEST_NAME=$(basename "$0" .sh)
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
: "${SALLYPORT:=$top_builddir/src/sallyport}"
NETKIT="$top_srcdir/tests/helpers/netkit.py"

PIDS=""		# every process this test started, by PID
NODE_LOGS=""	# node logs, dumped on failure
WORK=""

# say(msg...): progress on stderr (automake keeps it in NN-name.log).
say()
{
	echo "$TEST_NAME: $*" >&2
}

# die(msg...): fail the test; the EXIT trap dumps the logs and cleans up.
die()
{
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

# skip(msg...): the test cannot run here (exit 77).
skip()
{
	echo "SKIP: $TEST_NAME: $*" >&2
	exit 77
}

# proc_alive(pid): true while ${pid} runs (a zombie counts as gone).
proc_alive()
{
	[ -r "/proc/$1/stat" ] || return 1
	# Field 3 of /proc/PID/stat is the state; the command name (field 2)
	# is in parentheses and may contain spaces, so cut after the last ')'.
	_st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) ||
		return 1
	[ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ]
}

# proc_gone(pid): ${pid} has exited (the negation of proc_alive).
proc_gone()
{
	! proc_alive "$1"
}

# stop_pid(pid [signal]): signal ${pid} (TERM), wait up to 5 s, then KILL;
# reap it.  Only for PIDs this test started.
stop_pid()
{
	_p=$1
	kill "-${2:-TERM}" "$_p" 2>/dev/null || true
	if ! wait_until 5 proc_gone "$_p"; then
		kill -KILL "$_p" 2>/dev/null || true
	fi
	wait "$_p" 2>/dev/null || true
}

dump_logs()
{
	for _f in $NODE_LOGS; do
		[ -f "$_f" ] || continue
		echo "----- $(basename "$_f") (last 60 lines) -----" >&2
		tail -n 60 "$_f" >&2
	done
}

cleanup()
{
	_rc=$?
	trap - EXIT INT TERM
	set +e
	if [ "$_rc" != 0 ] && [ "$_rc" != 77 ]; then
		dump_logs
	fi
	for _p in $PIDS; do
		stop_pid "$_p"
	done
	# A sanitizer report in a node log (--enable-sanitizers builds; leaks
	# are reported when a node exits on SIGTERM) fails the test.
	for _f in $NODE_LOGS; do
		if grep -qE 'Sanitizer|runtime error:' "$_f" 2>/dev/null; then
			echo "FAIL: $TEST_NAME: sanitizer report in $(basename "$_f"):" >&2
			grep -E -A30 'Sanitizer|runtime error:' "$_f" | head -n 60 >&2
			[ "$_rc" != 0 ] && [ "$_rc" != 77 ] || _rc=1
		fi
	done
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		if [ "$_rc" != 0 ] && [ "$_rc" != 77 ] && [ -n "${KEEP_WORK:-}" ]; then
			echo "work directory kept: $WORK" >&2
		else
			rm -rf "$WORK"
		fi
	fi
	exit "$_rc"
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sallyport-$TEST_NAME.XXXXXX") ||
	die "mktemp -d failed"

# need(cmd...): skip unless every command is installed.
need()
{
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 ||
			skip "$_c is not installed (contrib/scripts/deps.sh)"
	done
}

[ -x "$SALLYPORT" ] || skip "no sallyport binary at $SALLYPORT"
need python3

# SANITIZED: "yes" for a build with ASan (--enable-sanitizers), else empty.
SANITIZED=
! ldd "$SALLYPORT" 2>/dev/null | grep -q libasan || SANITIZED=yes

# SLOW: how many times longer than on an idle machine a wait may take
# before the test gives up.  Every bound given to wait_until (and so to
# every wait_* helper) is multiplied by it, and so is every operation
# timeout written as $(slow_s N); a wait still ends as soon as its event
# comes, so a passing test takes no longer for it.  From
# SALLYPORT_TEST_SLOW (a whole number) when set; otherwise 3, or 6 for a
# sanitizer build (ASan makes the daemon 2 to 3 times slower, and the
# suite must pass on a busy 2-core machine: README.md, "Testing").
# Timing goals (failover, revocation) are measured by bench/timing.sh;
# the tests check them with wide margins only.
if [ -n "${SALLYPORT_TEST_SLOW:-}" ]; then
	case $SALLYPORT_TEST_SLOW in
	*[!0-9]*|0) die "SALLYPORT_TEST_SLOW must be a whole number >= 1" ;;
	esac
	SLOW=$SALLYPORT_TEST_SLOW
elif [ -n "$SANITIZED" ]; then
	SLOW=6
else
	SLOW=3
fi

# slow_s(secs): ${secs} stretched by $SLOW (a whole number of seconds).
slow_s()
{
	echo $(($1 * SLOW))
}

# spawn(logfile, cmd...): start cmd (a program, or netkit) in the
# background, output to logfile; remember its PID (in $LAST_PID and for the
# EXIT trap).  Never a shell function: its PID would be a subshell's.
spawn()
{
	_log=$1
	shift
	# Run netkit as python3 itself, not through the shell function, so
	# that $! is the process we will have to stop.
	if [ "$1" = netkit ]; then
		shift
		set -- python3 "$NETKIT" "$@"
	fi
	"$@" >"$_log" 2>&1 &
	LAST_PID=$!
	PIDS="$PIDS $LAST_PID"
}

# forget_pid(pid): the test reaped ${pid} itself.
forget_pid()
{
	_new=""
	for _p in $PIDS; do
		[ "$_p" = "$1" ] || _new="$_new $_p"
	done
	PIDS=$_new
}

# netkit(args...): run the Python endpoint helper.
netkit()
{
	python3 "$NETKIT" "$@"
}

# free_port [host]: print a TCP port of ${host} (127.0.0.1) that nobody
# uses, never the same one twice in a test, nor one another test picked
# in the last 10 minutes (a shared list under a lock: two tests that ran
# at once once both bound the port they had each found free).  Ports are drawn below the
# kernel's ephemeral range, so that the outgoing connections of tests
# running in parallel (make -j check) cannot take them before our servers
# bind them; the kernel's choice is the fallback when that range is small.
free_port()
{
	_port=$(python3 - "${1:-127.0.0.1}" "$WORK/.ports" <<'PY'
import os, random, socket, sys
host, used_file = sys.argv[1], sys.argv[2]
try:
    used = set(open(used_file).read().split())
except OSError:
    used = set()
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
def bindable(port):
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.bind((host, port))
        return s.getsockname()[1]
    except OSError:
        return None
    finally:
        s.close()
# Tests run two at a time (make -j): a port another test picked in the
# last 10 minutes is not free for this one, though nothing is bound to
# it yet.  One machine-wide list, "port time" lines, under a lock.
import fcntl, time
shared = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                      "sallyport-test-ports")
lock = open(shared, "a+")
fcntl.flock(lock, fcntl.LOCK_EX)
lock.seek(0)
now = time.time()
recent = {}
for line in lock.read().split("\n"):
    f = line.split()
    if len(f) == 2 and now - float(f[1]) < 600:
        recent[f[0]] = f[1]
rng = random.SystemRandom()
for _ in range(200):
    p = rng.randrange(10000, low) if low > 12000 else 0
    got = bindable(p)
    if got and str(got) not in used and str(got) not in recent:
        recent[str(got)] = "%.0f" % now
        lock.seek(0)
        lock.truncate()
        lock.write("".join("%s %s\n" % kv for kv in recent.items()))
        lock.flush()
        print(got)
        sys.exit(0)
sys.exit(1)
PY
) || die "no free port found"
	echo "$_port" >>"$WORK/.ports"
	echo "$_port"
}

# now_ms: milliseconds of the real-time clock.
now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# wait_until(timeout_s, cmd...): THE bounded poller; every wait of the
# integration tests goes through it.  Runs cmd, then every 50 ms, until it
# succeeds (return 0) or ${timeout_s} seconds (an integer, stretched by
# $SLOW) have passed on the clock or that many seconds' worth of tries
# (20 a second, +1) were made, whichever comes first (return 1).  So a
# slow cmd (a probe through a tunnel, a command in a namespace) cannot
# stretch the wait, and a stuck clock cannot make it endless.  cmd may
# call die to give up early.  Never a pause: a wait for something that
# must not happen has no place here.
wait_until()
{
	_wdl=$(($(now_ms) + $1 * SLOW * 1000))
	_wn=$(($1 * SLOW * 20 + 1))
	shift
	while :; do
		"$@" && return 0
		_wn=$((_wn - 1))
		[ "$_wn" -gt 0 ] && [ "$(now_ms)" -lt "$_wdl" ] || return 1
		sleep 0.05
	done
}

# log_has(file, key=value...): some line of ${file} carries every given
# key=value as a whole space-separated field (order does not matter).
log_has()
{
	_f=$1
	shift
	[ -f "$_f" ] || return 1
	awk -v want="$*" '
	BEGIN { n = split(want, w, " ") }
	{
		delete have
		for (i = 1; i <= NF; i++) have[$i] = 1
		ok = 1
		for (i = 1; i <= n; i++) if (!(w[i] in have)) { ok = 0; break }
		if (ok) { found = 1; exit }
	}
	END { exit found ? 0 : 1 }' "$_f"
}

# log_count(file, key=value...): how many lines carry every given field.
log_count()
{
	_f=$1
	shift
	[ -f "$_f" ] || { echo 0; return 0; }
	awk -v want="$*" '
	BEGIN { n = split(want, w, " "); c = 0 }
	{
		delete have
		for (i = 1; i <= NF; i++) have[$i] = 1
		ok = 1
		for (i = 1; i <= n; i++) if (!(w[i] in have)) { ok = 0; break }
		c += ok
	}
	END { print c }' "$_f"
}

# lines_match(file, pattern, n): at least ${n} lines of ${file} match the
# extended regular expression ${pattern}.
lines_match()
{
	_c=$(grep -Ec -- "$2" "$1" 2>/dev/null || true)
	[ "${_c:-0}" -ge "$3" ]
}

# wait_for_log(file, pattern, timeout_s [count]): wait until an extended
# regular expression matches a line (${count} lines) of ${file}.
wait_for_log()
{
	wait_until "$3" lines_match "$1" "$2" "${4:-1}" ||
		die "timed out after $(slow_s "$3") s waiting for /$2/ in $(basename "$1")"
}

# wait_for_event(file, timeout_s, key=value...): wait for a log line that
# carries every given field (see log_has).
wait_for_event()
{
	_wf=$1
	_wt=$2
	shift 2
	wait_until "$_wt" log_has "$_wf" "$@" ||
		die "timed out after $(slow_s "$_wt") s waiting for '$*' in $(basename "$_wf")"
}

# port_listening(port [host]): something listens on TCP ${port}.  Looks at
# the socket table (ss) so it never connects to what it probes.
port_listening()
{
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# wait_for_port(port, timeout_s): wait until TCP ${port} listens.
wait_for_port()
{
	need ss
	wait_until "$2" port_listening "$1" ||
		die "timed out after $(slow_s "$2") s waiting for port $1"
}

# wait_for_file(path, timeout_s): wait until ${path} exists.
wait_for_file()
{
	wait_until "$2" test -e "$1" ||
		die "timed out after $(slow_s "$2") s waiting for $1"
}

# accept_log(name, addr, log): a target on ${addr} that accepts, logs each
# connection to ${log} (netkit accept-log), reads and discards, never
# answers; output in $WORK/name.out; waits (10 s) until it listens.
accept_log()
{
	spawn "$WORK/$1.out" netkit accept-log "$2" --log "$3" \
	    --ready "$WORK/$1.ready"
	wait_for_file "$WORK/$1.ready" 10
}

# wait_exit(pid, timeout_s): wait for ${pid} (a child) to exit, then reap
# it; prints nothing, sets $EXIT_CODE; returns 1 on timeout.
wait_exit()
{
	if wait_until "$2" proc_gone "$1"; then
		EXIT_CODE=0
		wait "$1" || EXIT_CODE=$?
		forget_pid "$1"
		return 0
	fi
	return 1
}

# make_identity(name): create $WORK/name.key and print its identifier.
make_identity()
{
	_out=$("$SALLYPORT" identity create "$WORK/$1.key") ||
		die "identity create $1 failed"
	_id=$(printf '%s\n' "$_out" | grep -Eo 'I[0-9a-f]{64}' | tail -n 1)
	[ -n "$_id" ] || die "identity create $1 printed no identifier: $_out"
	echo "$_id"
}

# start_node(name, config): run `sallyport run config` logging to
# $WORK/name.log and wait (10 s) for event=ready.  Sets $LAST_PID and
# PID_<name>.
start_node()
{
	_name=$1
	_log="$WORK/$1.log"
	NODE_LOGS="$NODE_LOGS $_log"
	spawn "$_log" "$SALLYPORT" run "$2"
	eval "PID_$_name=$LAST_PID"
	wait_until 10 node_ready "$_log" "$LAST_PID" "$_name" 0 ||
		die "node $_name: no event=ready within $(slow_s 10) s"
}

# node_ready(log, pid, name, before): ${log} has more than ${before}
# event=ready lines; dies if ${pid} exited first (for wait_until).
node_ready()
{
	_now=$(grep -c 'event=ready' "$1" 2>/dev/null || true)
	[ "${_now:-0}" -gt "$4" ] && return 0
	proc_alive "$2" || die "node $3 exited before event=ready"
	return 1
}

# start_echo(listen_addr [accept_log]): start the echo target and wait
# until it listens.
start_echo()
{
	_r="$WORK/.echo-ready.$$.$(date +%s%N)"
	spawn "$WORK/echo.out" netkit echo "$1" --ready "$_r" ${2:+--log "$2"}
	wait_for_file "$_r" 10
}

# --- config writers (docs/config.md) ---

# ini_node(keyfile [listen] [extra "key = value" lines...])
# Run as root (as CI does), the node stays root, without capabilities and
# in its sandbox (allow_root = yes): the tests' files and unix sockets
# are root's.  70-sandbox.sh covers the switch to [node] user.
ini_node()
{
	echo "[node]"
	echo "identity = $1"
	[ -z "${2:-}" ] || echo "listen = $2"
	[ "$(id -u)" != 0 ] || echo "allow_root = yes"
	[ $# -le 2 ] || { shift 2; for _l in "$@"; do echo "$_l"; done; }
	echo
}

# ini_peers(name id [name id ...])
ini_peers()
{
	echo "[peers]"
	while [ $# -ge 2 ]; do
		echo "$1 = $2"
		shift 2
	done
	echo
}

# ini_outlet(name target allowed...): one allow line per entry.
ini_outlet()
{
	echo "[outlet $1]"
	echo "target = $2"
	shift 2
	for _a in "$@"; do
		echo "allow = $_a"
	done
	echo
}

# ini_inlet(name listen peer@host:port [service])
ini_inlet()
{
	echo "[inlet $1]"
	echo "listen = $2"
	echo "outlet = $3"
	[ -z "${4:-}" ] || echo "service = $4"
	echo
}

# tunnel(service target [node-extra-lines...]): the common set-up.  An
# outlet node "out" exposing ${service} (target ${target}) to the inlet
# node "in", whose inlet listens on 127.0.0.1:$INLET_PORT.  Both started.
# Sets OUT_ID IN_ID NODE_PORT INLET_PORT INLET.
tunnel()
{
	tunnel_configs "$@"
	start_node out "$WORK/out.ini"
	start_node in "$WORK/in.ini"
}

# tunnel_configs(service target [node-extra-lines...]): tunnel() without
# starting the nodes: $WORK/out.ini and $WORK/in.ini (for a test that
# starts them elsewhere, e.g. in a namespace: ns_start_node).  The inlet
# dials the outlet node at $TUNNEL_HOST (default 127.0.0.1).
tunnel_configs()
{
	_svc=$1
	_tgt=$2
	shift 2
	OUT_ID=$(make_identity out)
	IN_ID=$(make_identity in)
	NODE_PORT=$(free_port)
	INLET_PORT=$(free_port)
	INLET="127.0.0.1:$INLET_PORT"
	{
		ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT" "$@"
		ini_peers client "$IN_ID"
		ini_outlet "$_svc" "$_tgt" client
	} >"$WORK/out.ini"
	{
		ini_node "$WORK/in.key" "" "$@"
		ini_peers server "$OUT_ID"
		ini_inlet "$_svc" "$INLET" \
		    "server@${TUNNEL_HOST:-127.0.0.1}:$NODE_PORT"
	} >"$WORK/in.ini"
}

# outlets_ab: the outlet node of the deny tests (21, 26): outlet "a" lets
# the peer "client" (the node "in") through to its target, outlet "b" the
# peer "other"; each target logs what it accepts ($WORK/accepts-a.log,
# $WORK/accepts-b.log).  Starts the targets, makes the identities out, in
# and other, and writes $WORK/out.ini (nothing else started).  Sets PORT_A
# PORT_B OUT_ID IN_ID OTHER_ID NODE_PORT.
outlets_ab()
{
	PORT_A=$(free_port)
	PORT_B=$(free_port)
	accept_log target-a "127.0.0.1:$PORT_A" "$WORK/accepts-a.log"
	accept_log target-b "127.0.0.1:$PORT_B" "$WORK/accepts-b.log"
	OUT_ID=$(make_identity out)
	IN_ID=$(make_identity in)
	OTHER_ID=$(make_identity other)
	NODE_PORT=$(free_port)
	{
		ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT"
		ini_peers client "$IN_ID" other "$OTHER_ID"
		ini_outlet a "127.0.0.1:$PORT_A" client
		ini_outlet b "127.0.0.1:$PORT_B" other
	} >"$WORK/out.ini"
}

# peers_ab(): the nodes of the per-peer limit tests (28, 42): the outlet
# node "out" (its [node] and [peers] a, b written to $WORK/out.ini, the
# caller adds its outlets: peers_ab; ini_outlet ... >>"$WORK/out.ini") and
# two inlet nodes "a" and "b" (inlet_node).  Sets OUT_ID A_ID B_ID
# NODE_PORT.
peers_ab()
{
	OUT_ID=$(make_identity out)
	A_ID=$(make_identity a)
	B_ID=$(make_identity b)
	NODE_PORT=$(free_port)
	{
		ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT" "$@"
		ini_peers a "$A_ID" b "$B_ID"
	} >"$WORK/out.ini"
}

# inlet_node(name service...): $WORK/${name}.ini, the inlet node ${name}
# (key $WORK/${name}.key) with one inlet per service, each reaching it on
# the outlet node $OUT_ID at 127.0.0.1:$NODE_PORT and listening on
# 127.0.0.1:$P_${name}_${service} (a free port, set here).  Not started.
inlet_node()
{
	_in_n=$1
	shift
	{
		ini_node "$WORK/$_in_n.key" ""
		ini_peers server "$OUT_ID"
		for _in_s in "$@"; do
			eval "P_${_in_n}_$_in_s=\$(free_port)"
			eval "_in_p=\$P_${_in_n}_$_in_s"
			ini_inlet "$_in_s" "127.0.0.1:$_in_p" \
			    "server@127.0.0.1:$NODE_PORT"
		done
	} >"$WORK/$_in_n.ini"
}

# start_redis([redis-server options...]): a redis-server on a free port of
# 127.0.0.1 ($REDIS_PORT, set here), no persistence, its log in
# $WORK/redis.log; returns once it listens.
start_redis()
{
	REDIS_PORT=$(free_port)
	spawn "$WORK/redis.log" redis-server --port "$REDIS_PORT" \
		--bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
		--protected-mode yes "$@"
	wait_for_port "$REDIS_PORT" 10
}

# write_ini(file): standard input into ${file}, replaced at once (a
# rename), so that a node reloading it never reads half of it.
write_ini()
{
	cat >"$1.new" && mv -f "$1.new" "$1" || die "cannot write $1"
}

# redis_inlet(name [node-extra-lines...]): the inlet node ${name} (key
# $WORK/${name}.key, config $WORK/${name}.ini) whose inlet "redis" listens
# on 127.0.0.1:$P_${name} (a free port, set here) and reaches the outlet
# node $OUT_ID ("server") at 127.0.0.1:$NODE_PORT.  Not started.
redis_inlet()
{
	_ri_n=$1
	shift
	eval "P_$_ri_n=\$(free_port)"
	eval "_ri_p=\$P_$_ri_n"
	{
		ini_node "$WORK/$_ri_n.key" "" "$@"
		ini_peers server "$OUT_ID"
		ini_inlet redis "127.0.0.1:$_ri_p" "server@127.0.0.1:$NODE_PORT"
	} >"$WORK/$_ri_n.ini"
}

# metric(port, series): the value of one series line of the /metrics of
# the admin endpoint on 127.0.0.1:${port} (0 if absent).
metric()
{
	curl -fsS "http://127.0.0.1:$1/metrics" |
		awk -v s="$2" 'index($0, s " ") == 1 { print $2; f = 1 }
		    END { if (!f) print 0 }'
}

# check_prints(ini, regex): `sallyport check ini` passes and a line of its
# output matches the basic regular expression ${regex}.
check_prints()
{
	"$SALLYPORT" check "$1" >"$WORK/check.out" 2>&1 ||
		die "check $1: $(cat "$WORK/check.out")"
	grep -q -- "$2" "$WORK/check.out" ||
		die "check $1 prints no /$2/: $(cat "$WORK/check.out")"
}

# ping_via(name): what redis answers PING through the inlet of the node
# ${name} (redis_inlet, on 127.0.0.1:$P_${name}), or redis-cli's error.
ping_via()
{
	eval "_p=\$P_$1"
	redis-cli -h 127.0.0.1 -p "$_p" PING 2>&1 || true
}

# give_to_user(user file...): the layout docs/config.md asks of a node
# started as root that switches to [node] user: each file root-owned,
# mode 0640, in the user's primary group, and $WORK searchable, so the
# user can read them again at a reload (run refuses to start otherwise).
give_to_user()
{
	_grp=$(id -gn "$1")
	shift
	chmod 711 "$WORK"
	for _f in "$@"; do
		chgrp "$_grp" "$_f"
		chmod 640 "$_f"
	done
}

# field(line, key): the value of key=value in ${line}.
field()
{
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# probe_denied(addr [accept_log]): connect to ${addr}, send a request, and
# assert the connection was closed (EOF or reset within 5 s) with zero bytes
# received; if ${accept_log} is given, assert the target saw no connection.
probe_denied()
{
	_r=$(netkit probe "$1" --send-hex 50494e470d0a --timeout 5)
	say "denied client: $_r"
	[ "$(field "$_r" bytes)" = 0 ] || die "denied client received data: $_r"
	case $(field "$_r" end) in
	eof|reset) ;;
	*) die "denied client not closed promptly: $_r" ;;
	esac
	if [ -n "${2:-}" ] && [ -s "$2" ]; then
		die "the target saw a connection: $(wc -l <"$2") in $(basename "$2")"
	fi
}

# fd_count(pid): open file descriptors of ${pid}.
fd_count()
{
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

# fds_back_to(pid, n, timeout_s): wait until ${pid} holds at most ${n} fds.
fds_back_to()
{
	wait_until "$3" eval "[ \$(fd_count $1) -le $2 ]"
}

# secs_between(value, low, high): low <= value <= high (decimals).
secs_between()
{
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'
}

# on_host(host, cmd...): run cmd here ("-") or inside the network
# namespace ${host} (netns.sh).
on_host()
{
	_h=$1
	shift
	if [ "$_h" = - ]; then
		"$@"
	else
		ns_exec "$_h" "$@"
	fi
}

# redis_has(host, port, n): the redis on ${port} of ${host} holds ${n} keys
# or more.
redis_has()
{
	[ "$(on_host "$1" redis-cli -p "$2" DBSIZE)" -ge "$3" ]
}

# redis_bursts(n, inlet, redis_port, client_host, redis_host): the burst
# checks of issue 14 against a redis-server on 127.0.0.1:${redis_port} of
# ${redis_host}, through ${inlet} from ${client_host} (on_host names):
# ${n} clients that each send one SET and hang up at once, one at a time
# and then 8 at a time, leave ${n} keys each time (redis-cli DBSIZE, polled
# at most 120 s for the last ones in flight: on a shared machine under a
# load of 10 or more, the last of a burst still waiting in the inlet's
# listen backlog may take over 30 s; they are late, not lost); ${n}
# connections opened at once each get +PONG to one PING.  Any miss fails
# the test.
redis_bursts()
{
	_bn=$1
	_bi=$2
	_bp=$3
	_bc=$4
	_bs=$5
	for _par in 1 8; do
		on_host "$_bs" redis-cli -p "$_bp" FLUSHALL >/dev/null ||
			die "redis FLUSHALL failed"
		_r=$(on_host "$_bc" python3 "$NETKIT" send-close "$_bi" \
		    --count "$_bn" --parallel "$_par" \
		    --format "SET k$_par:%d v\r\n" --timeout 30) ||
			die "send-close ($_par at a time): $_r"
		wait_until 120 redis_has "$_bs" "$_bp" "$_bn" || true
		_got=$(on_host "$_bs" redis-cli -p "$_bp" DBSIZE)
		say "send-and-close, $_par at a time: $_r keys=$_got"
		[ "$_got" = "$_bn" ] ||
			die "$_got of $_bn keys arrived ($_par at a time)"
	done
	_r=$(on_host "$_bc" python3 "$NETKIT" burst "$_bi" --count "$_bn" \
	    --send-hex 50494e470d0a --expect-hex 2b504f4e470d0a \
	    --timeout 120) || die "PING burst: $_r"
	say "PING burst: $_r"
}

# --- credentials (issue 11; docs/credentials.md) ---

# cred_issue(authority-key, name, args...): `sallyport credential issue`
# by the authority $WORK/${authority-key} for the identity $ID_${name}
# into $WORK/${name}.cred, with ${args} (--attr, --ttl, --not-before).
cred_issue()
{
	_ci_key=$1 _ci_name=$2
	shift 2
	eval "_ci_id=\$ID_$_ci_name"
	"$SALLYPORT" credential issue --authority "$WORK/$_ci_key" --subject \
	    "$_ci_id" --out "$WORK/$_ci_name.cred" "$@" >/dev/null ||
		die "credential issue for $_ci_name failed"
}

# ini_authorities(name id [name id ...]): an [authorities] section.
ini_authorities()
{
	echo "[authorities]"
	while [ $# -ge 2 ]; do
		echo "$1 = $2"
		shift 2
	done
	echo
}

# logger_burst(host, addr, tag, n, par): on ${host} (on_host), ${par}
# loops of `logger --tcp` send ${n} syslog messages "sp-TAG-I-" (I from 1
# to ${n}, each once) to ${addr} (127.0.0.1:PORT), one connection each;
# every logger must exit 0 (like a client that sends and hangs up, it
# cannot tell whether the message arrived).
logger_burst()
{
	on_host "$1" sh -c '
	host=${1%:*}; port=${1##*:}; tag=$2; n=$3; par=$4; w=1
	while [ "$w" -le "$par" ]; do
		(
			i=$w
			while [ "$i" -le "$n" ]; do
				logger --tcp -n "$host" -P "$port" "sp-$tag-$i-" ||
					echo "logger $i exited $?"
				i=$((i + par))
			done
		) &
		w=$((w + 1))
	done
	wait' sh "$2" "$3" "$4" "$5" >"$WORK/logger-$3.err" 2>&1 ||
		die "logger loops ($3) failed"
	[ ! -s "$WORK/logger-$3.err" ] ||
		die "logger ($3): $(head -n 3 "$WORK/logger-$3.err")"
}

# logger_count(file, tag): how many distinct messages of logger_burst
# ${tag} ${file} holds.
logger_count()
{
	{ grep -o "sp-$2-[0-9]*-" "$1" 2>/dev/null || true; } | sort -u |
		wc -l | tr -d ' '
}

# logger_has(file, tag, n): ${file} holds ${n} distinct messages of ${tag}.
logger_has()
{
	[ "$(logger_count "$1" "$2")" -ge "$3" ]
}

# --- configuration reload (SIGHUP, [node] reload = watch) ---

# reload_total(log): how many reload result lines (`event=reload`, any
# status; not the `event=reload-change` lines) ${log} has.
reload_total()
{
	log_count "$1" event=reload
}

# reload_total_ge(log, n): ${log} has ${n} reload result lines or more.
reload_total_ge()
{
	[ "$(reload_total "$1")" -ge "$2" ]
}

# wait_reload(name, n, status [timeout_s]): wait (10 s) until node
# ${name}'s log ($WORK/name.log) has ${n} reload result lines; the ${n}th
# must carry status=${status}.  Sets RELOAD_LINE to it.
wait_reload()
{
	_wr_log="$WORK/$1.log"
	wait_until "${4:-10}" reload_total_ge "$_wr_log" "$2" ||
		die "node $1: no reload result line #$2 within $(slow_s "${4:-10}") s"
	RELOAD_LINE=$(awk -v n="$2" '{
		for (i = 1; i <= NF; i++)
			if ($i == "event=reload" && ++c == n) { print; exit }
	}' "$_wr_log")
	case " $RELOAD_LINE " in
	*" status=$3 "*) ;;
	*) die "node $1: reload #$2 is not status=$3: $RELOAD_LINE" ;;
	esac
}

# reload_node(name [status [timeout_s]]): send SIGHUP to node ${name}
# (PID_name) and wait for its next reload result line, which must carry
# status=${status} (default ok).  Sets RELOAD_LINE.
reload_node()
{
	_rn_log="$WORK/$1.log"
	eval "_rn_pid=\${PID_$1}"
	_rn_before=$(reload_total "$_rn_log")
	kill -HUP "$_rn_pid" || die "cannot send SIGHUP to node $1"
	wait_reload "$1" $((_rn_before + 1)) "${2:-ok}" "${3:-10}"
}

# reload_ends(node, pid): reload node ${node} (reload_node), then wait until
# ${pid}, a client whose connection the reload takes away, is gone (10 s,
# stretched by $SLOW: a wide margin that still tells "at once" from "at
# the next keepalive or never"; the goal itself, within 1 s of the reload,
# is measured by bench/timing.sh).  Sets ENDED_MS (from the reload line).
reload_ends()
{
	reload_node "$1"
	_re_t0=$(now_ms)
	wait_until 10 proc_gone "$2" ||
		die "pid $2 outlived the reload of $1 by $(slow_s 10) s"
	ENDED_MS=$(($(now_ms) - _re_t0))
}

# put_file(src, dst): replace ${dst} by a copy of ${src} atomically (a
# rename), as a configuration manager would.
put_file()
{
	cp "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2" ||
		die "cannot install $2"
}

# listen_inode(port): the socket inode of the TCP listener on ${port}
# (ss -e), empty when nothing listens there.
listen_inode()
{
	ss -Hltne "sport = :$1" 2>/dev/null | grep -o 'ino:[0-9]*' | head -n 1
}

# timed_clients(n, inlet, inlet_log, pid, rss_max_kb): ${n} tunneled
# connections through ${inlet}, one after another (4 KiB echoed each); each
# must complete with the inlet's setup_ms (its "open" line in ${inlet_log}:
# from the client's connect to the open tunnel) under 1000 ms times $SLOW
# (the goal, under 1000 on an idle machine, is measured by bench/timing.sh;
# a node starved by the flood takes its handshake_timeout, 10 s or more),
# and the VmRSS of ${pid} must stay under ${rss_max_kb} kB after each.
# For the flood tests (34, 35).
timed_clients()
{
	_tn0=$(log_count "$3" event=open)
	_ti=0
	while [ "$_ti" -lt "$1" ]; do
		_ti=$((_ti + 1))
		_tt0=$(now_ms)
		_tres=$(netkit echo-check "$2" --count 1 --size 4096 \
			--timeout "$(slow_s 10)") ||
			die "client $_ti under the flood: $_tres"
		_tk=$((_tn0 + _ti))
		wait_until 5 eval "[ \$(log_count \"$3\" event=open) -ge $_tk ]" ||
			die "client $_ti: no open line at the inlet"
		_tms=$(grep 'event=open' "$3" | sed -n "${_tk}p" |
			sed 's/.*setup_ms=\([0-9.]*\).*/\1/')
		say "client $_ti: $_tres setup_ms=$_tms (client saw" \
			"$(($(now_ms) - _tt0)) ms)"
		awk -v m="$_tms" -v l="$((SLOW * 1000))" \
		    'BEGIN { exit !(m + 0 < l) }' ||
			die "client $_ti: setup took $_tms ms under the flood (limit $((SLOW * 1000)))"
		_trss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$4/status")
		say "VmRSS of $4 under the flood: $_trss kB"
		[ "$_trss" -lt "$5" ] ||
			die "VmRSS $_trss kB over the bound of $5 kB"
	done
}
