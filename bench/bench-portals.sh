#!/bin/bash
# bench-portals.sh: sallyport beside its peers on loopback, in one run (not
# a test; run by hand, as root for the ssh row and for 10,000 connections).
#
# Rows: direct (no tunnel), socat (one hop), socat x2 (two chained hops: the
# no-crypto floor of an inlet plus an outlet), stunnel (TLS 1.3, mutual
# ECDSA P-256 certificates), spiped (both ends), ssh -L (private sshd,
# aes256-gcm), sallyport (inlet node + outlet node, every connection a full
# handshake: resume = no), sallyport resumed (the same with resume = yes:
# after the first connection every one is a resumed handshake, docs/
# protocol.md 2.7), sallyport warm (resumed, and the inlet's warm = 2:
# docs/config.md "Warm channels"), sallyport via relay (resumed, through
# one relay node).
# Columns: iperf3 throughput (1 and 8 streams, both directions), request
# latency on one connection (redis-benchmark PING, -P 1 -c 1: p50/p99), time
# to first byte of a new connection (connect to its 1-byte echo, p50 of
# BENCH_TTFB_N one after the other), new connections per second (connect,
# 1-byte echo, close; concurrency 1 and 8), memory per idle tunneled connection with 1,000 and 10,000 held open
# (sum of Pss of every tunnel process, after minus before, divided by N;
# Pss equals RSS for a single process and shares fork()ed pages fairly).
#
# Usage: bench/bench-portals.sh            (from the source tree; finds the
#        sallyport binary via $SALLYPORT, ./src/sallyport or /tmp/build-*)
# Knobs: BENCH_TOOLS="direct socat socat2 stunnel spiped ssh sallyport
#        spresume spwarm sprelay"
#        BENCH_TTFB_N=2000 (connections timed for the TTFB column, one
#        right after the other), BENCH_TTFB_GAP_US=10000 and
#        BENCH_TTFB_GAP_N=300 (the column "TTFB gap": a client that
#        waits that long between connections)
#        BENCH_SECS=4 (iperf3 -t, after a 1 s omitted warm-up, and
#        connection-rate seconds)
#        BENCH_HOLD_SECS=45 (most time spent opening the held connections)
#        BENCH_PINGS=20000 (redis-benchmark -n)
#        BENCH_MEM="1000 10000" (held connections; fork-per-connection
#        socat rows stop at 1000)
#        BENCH_MAX_DIALS (the outlet's max_dials; unset: the default)
#        BENCH_MEM="" skips the memory columns
#        BENCH_PERF=1: a system-wide profile (perf record -a, 999 Hz) of
#        each row's 1-client connection-rate phase and of its 1-stream
#        forward iperf3 phase ("ROW-1stream"), printed after the tables:
#        the share of CPU samples by process and object and by function
#        (where a new connection's time, and a stream's, goes)
# Prints the CPU model, a table of numbers, ratios to socat x2 and to
# stunnel, and the issue's targets for sallyport.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
TOOLS=${BENCH_TOOLS:-direct socat socat2 stunnel spiped ssh sallyport spresume spwarm sprelay}
TTFB_N=${BENCH_TTFB_N:-2000}
TTFB_GAP_US=${BENCH_TTFB_GAP_US:-10000}
TTFB_GAP_N=${BENCH_TTFB_GAP_N:-300}
SECS=${BENCH_SECS:-4}
HOLD_SECS=${BENCH_HOLD_SECS:-45}
PINGS=${BENCH_PINGS:-20000}
MEM=${BENCH_MEM-1000 10000}
PERF=${BENCH_PERF:-}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-portals.XXXXXX")
RES="$WORK/results"
PIDS=""
TPIDS=""
: >"$RES"

note() { echo "bench: $*" >&2; }

# descendants(pid...): the given PIDs and all their descendants (one ps
# snapshot; fork-per-connection relays have thousands of children).
descendants()
{
	[ $# -gt 0 ] || return 0
	ps -e -o pid=,ppid= | awk -v roots="$*" '
	{ kids[$2] = kids[$2] " " $1; alive[$1] = 1 }
	END {
		n = split(roots, q, " ")
		for (i = 1; i <= n; i++) {
			p = q[i]
			if (!(p in alive) || (p in seen)) continue
			seen[p] = 1
			print p
			m = split(kids[p], k, " ")
			for (j = 1; j <= m; j++) q[++n] = k[j]
		}
	}'
}

# kill_pids(pid...): TERM, wait up to 5 s, KILL; only PIDs we started
# (and their children, for fork-per-connection relays).
kill_pids()
{
	local all p i
	all=$(descendants "$@")
	[ -n "$all" ] || return 0
	kill -TERM $all 2>/dev/null
	for i in $(seq 100); do
		local alive=""
		for p in $all; do
			[ -d "/proc/$p" ] && ! grep -q '^State:.Z' "/proc/$p/status" 2>/dev/null &&
				alive="$alive $p"
		done
		[ -z "$alive" ] && break
		sleep 0.05
	done
	kill -KILL $all 2>/dev/null
	for p in "$@"; do wait "$p" 2>/dev/null; done
	return 0
}

cleanup()
{
	trap - EXIT INT TERM
	kill_pids $TPIDS $PIDS
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$HERE/lib.sh"	# free_port, listening, wait_port

# bg(log, cmd...): start in the background; PID in $LAST.
bg()
{
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	LAST=$!
}

record() { echo "$1 $2 $3" >>"$RES"; }

for c in python3 iperf3 redis-server redis-benchmark ss cc; do
	command -v $c >/dev/null || { note "$c is missing (contrib/scripts/deps.sh)"; exit 1; }
done

# Many connections: raise the fd limit (root may raise the hard one too).
ulimit -n 1048576 2>/dev/null || ulimit -n 200000 2>/dev/null ||
	ulimit -n "$(ulimit -Hn)" 2>/dev/null
# A single-process tunnel end holds two fds per connection: clamp the
# held-connection counts to what the limit allows (and say so).
maxheld=$((($(ulimit -n) - 200) / 2))
mem=""
for n in $MEM; do
	if [ "$n" -gt "$maxheld" ]; then
		note "fd limit $(ulimit -n): holding $maxheld connections instead of $n"
		n=$maxheld
	fi
	mem="$mem $n"
done
MEM=$mem
note "fd limit $(ulimit -n); held connections:$MEM; work directory $WORK"

cc -O2 -pthread -o "$WORK/netbench" "$HERE/netbench.c" || exit 1
NB="$WORK/netbench"

# --- the targets, shared by every row ---
IPERF_PORT=$(free_port)
REDIS_PORT=$(free_port)
ECHO_PORT=$(free_port)
bg "$WORK/iperf3.log" iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT"
PIDS="$PIDS $LAST"
bg "$WORK/redis.log" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 \
	--save '' --appendonly no --dir "$WORK" --maxclients 100000
PIDS="$PIDS $LAST"
bg "$WORK/echo.log" "$NB" echo "$ECHO_PORT"
PIDS="$PIDS $LAST"
for p in $IPERF_PORT $REDIS_PORT $ECHO_PORT; do
	wait_port "$p" || { note "a target did not start"; exit 1; }
done

# --- the tunnels: up_TOOL target_port sets FRONT and TPIDS ---

up_direct() { FRONT=$1; TPIDS=""; }

up_socat()
{
	FRONT=$(free_port)
	bg "$WORK/socat.log" socat TCP-LISTEN:"$FRONT",bind=127.0.0.1,fork,reuseaddr,backlog=4096,nodelay \
		TCP:127.0.0.1:"$1",nodelay
	TPIDS=$LAST
	wait_port "$FRONT"
}

up_socat2()
{
	local mid
	mid=$(free_port)
	FRONT=$(free_port)
	bg "$WORK/socat-b.log" socat TCP-LISTEN:"$mid",bind=127.0.0.1,fork,reuseaddr,backlog=4096,nodelay \
		TCP:127.0.0.1:"$1",nodelay
	TPIDS=$LAST
	bg "$WORK/socat-a.log" socat TCP-LISTEN:"$FRONT",bind=127.0.0.1,fork,reuseaddr,backlog=4096,nodelay \
		TCP:127.0.0.1:"$mid",nodelay
	TPIDS="$TPIDS $LAST"
	wait_port "$mid" && wait_port "$FRONT"
}

make_certs()
{
	[ -f "$WORK/pki/ca.pem" ] && return 0
	mkdir -p "$WORK/pki"
	(
		cd "$WORK/pki" || exit 1
		openssl ecparam -name prime256v1 -genkey -noout -out ca.key &&
		openssl req -x509 -new -key ca.key -subj /CN=bench-ca -days 2 \
			-out ca.pem &&
		for n in server client; do
			openssl ecparam -name prime256v1 -genkey -noout -out $n.key &&
			openssl req -new -key $n.key -subj /CN=$n -out $n.csr &&
			openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key \
				-CAcreateserial -days 2 -out $n.pem || exit 1
		done
	) >"$WORK/pki.log" 2>&1
}

up_stunnel()
{
	local mid k
	command -v stunnel >/dev/null || return 1
	make_certs || return 1
	mid=$(free_port)
	FRONT=$(free_port)
	for k in server client; do
		{
			echo "foreground = yes"
			echo "pid ="
			echo "debug = 3"
			echo "[$k]"
			if [ $k = server ]; then
				echo "accept = 127.0.0.1:$mid"
				echo "connect = 127.0.0.1:$1"
			else
				echo "client = yes"
				echo "accept = 127.0.0.1:$FRONT"
				echo "connect = 127.0.0.1:$mid"
			fi
			echo "cert = $WORK/pki/$k.pem"
			echo "key = $WORK/pki/$k.key"
			echo "CAfile = $WORK/pki/ca.pem"
			echo "verifyChain = yes"
			echo "requireCert = yes"
			echo "sslVersionMin = TLSv1.3"
			echo "socket = l:TCP_NODELAY=1"
			echo "socket = r:TCP_NODELAY=1"
		} >"$WORK/stunnel-$k.conf"
	done
	bg "$WORK/stunnel-server.log" stunnel "$WORK/stunnel-server.conf"
	TPIDS=$LAST
	bg "$WORK/stunnel-client.log" stunnel "$WORK/stunnel-client.conf"
	TPIDS="$TPIDS $LAST"
	wait_port "$mid" && wait_port "$FRONT"
}

up_spiped()
{
	local mid
	command -v spiped >/dev/null || return 1
	[ -f "$WORK/spiped.key" ] || head -c 32 /dev/urandom >"$WORK/spiped.key"
	mid=$(free_port)
	FRONT=$(free_port)
	bg "$WORK/spiped-d.log" spiped -d -F -n 0 -s "[127.0.0.1]:$mid" \
		-t "[127.0.0.1]:$1" -k "$WORK/spiped.key"
	TPIDS=$LAST
	bg "$WORK/spiped-e.log" spiped -e -F -n 0 -s "[127.0.0.1]:$FRONT" \
		-t "[127.0.0.1]:$mid" -k "$WORK/spiped.key"
	TPIDS="$TPIDS $LAST"
	wait_port "$mid" && wait_port "$FRONT"
}

up_ssh()
{
	local mid
	[ "$(id -u)" = 0 ] || { note "ssh row needs root (private sshd)"; return 1; }
	[ -x /usr/sbin/sshd ] && command -v ssh >/dev/null || return 1
	mkdir -p "$WORK/ssh" /run/sshd
	if [ ! -f "$WORK/ssh/host" ]; then
		ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/host" &&
		ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/user" &&
		cp "$WORK/ssh/user.pub" "$WORK/ssh/authorized_keys" || return 1
	fi
	mid=$(free_port)
	FRONT=$(free_port)
	cat >"$WORK/ssh/sshd_config" <<EOF
Port $mid
ListenAddress 127.0.0.1
HostKey $WORK/ssh/host
AuthorizedKeysFile $WORK/ssh/authorized_keys
PidFile none
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
MaxStartups 1000
LogLevel ERROR
EOF
	bg "$WORK/sshd.log" /usr/sbin/sshd -D -e -f "$WORK/ssh/sshd_config"
	TPIDS=$LAST
	wait_port "$mid" || { note "sshd did not start: $(head -c 300 "$WORK/sshd.log")"; return 1; }
	bg "$WORK/ssh.log" ssh -N -F /dev/null -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o ExitOnForwardFailure=yes -c aes256-gcm@openssh.com \
		-i "$WORK/ssh/user" -p "$mid" \
		-L "127.0.0.1:$FRONT:127.0.0.1:$1" "$(id -un)@127.0.0.1"
	TPIDS="$TPIDS $LAST"
	wait_port "$FRONT" || { note "ssh -L failed: $(head -c 300 "$WORK/ssh.log")"; return 1; }
}

find_sallyport()
{
	local c
	for c in "${SALLYPORT:-}" "$TOP/src/sallyport" "$PWD/src/sallyport" \
	    /tmp/build-*/src/sallyport; do
		[ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
	done
	return 1
}

# sp_ids(name...): an identity per ${name} in $WORK/sp (made once), its
# identifier in ID_<name>; SP_AS: the [node] line a run as root needs (the
# node must be told to stay root, docs/security.md; it still drops every
# capability and runs sandboxed, as in production).
sp_ids()
{
	local sp n
	sp=$(find_sallyport) || return 1
	mkdir -p "$WORK/sp"
	for n in "$@"; do
		[ -f "$WORK/sp/$n.key" ] || ( umask 077
			"$sp" identity create "$WORK/sp/$n.key" >"$WORK/sp/$n.id" ) ||
			return 1
		eval "ID_$n=\$(grep -Eo 'I[0-9a-f]{64}' \"\$WORK/sp/\$n.id\" | tail -n 1)"
	done
	SP_AS=
	[ "$(id -u)" = 0 ] && SP_AS="allow_root = yes"
	return 0
}

# up_sallyport(port): inlet and outlet nodes in front of ${port}, with
# [node] resume = $SP_RESUME (no: a full handshake per connection).
up_sallyport()
{
	local sp mid i out in
	sp=$(find_sallyport) || { note "no sallyport binary (set SALLYPORT)"; return 1; }
	sp_ids out in || return 1
	out=$ID_out
	in=$ID_in
	mid=$(free_port)
	FRONT=$(free_port)
	cat >"$WORK/sp/out.ini" <<EOF
[node]
identity = $WORK/sp/out.key
listen = 127.0.0.1:$mid
max_connections = 100000
resume = ${SP_RESUME:-no}
$SP_AS

[peers]
client = $in

[outlet bench]
target = 127.0.0.1:$1
allow = client
${BENCH_MAX_DIALS:+max_dials = $BENCH_MAX_DIALS}
EOF
	cat >"$WORK/sp/in.ini" <<EOF
[node]
identity = $WORK/sp/in.key
max_connections = 100000
resume = ${SP_RESUME:-no}
$SP_AS

[peers]
server = $out

[inlet bench]
listen = 127.0.0.1:$FRONT
outlet = server@127.0.0.1:$mid
${SP_WARM:+warm = $SP_WARM}
EOF
	bg "$WORK/sp/out.log" "$sp" run "$WORK/sp/out.ini"
	TPIDS=$LAST
	bg "$WORK/sp/in.log" "$sp" run "$WORK/sp/in.ini"
	TPIDS="$TPIDS $LAST"
	for i in $(seq 200); do
		grep -q event=ready "$WORK/sp/out.log" && grep -q event=ready "$WORK/sp/in.log" &&
			return 0
		sleep 0.05
	done
	note "sallyport did not become ready: $(tail -n 3 "$WORK/sp/out.log" "$WORK/sp/in.log")"
	return 1
}

# up_spresume(port): up_sallyport with resumed handshakes.
up_spresume() { SP_RESUME=yes up_sallyport "$@"; }

# up_spwarm(port): resumed, and the inlet keeps two warm channels.
up_spwarm() { SP_RESUME=yes SP_WARM=2 up_sallyport "$@"; }

# up_sprelay(port): the same through one relay node (resume = yes, the
# default): the outlet registers with the relay, the inlet reaches it
# there (docs/relay.md).
up_sprelay()
{
	local sp hub i out in rly
	# The relay's default cap of 4,096 live connections per client and
	# name (docs/config.md, "Limits per peer") is off here: the memory
	# column holds 10,000 connections of one client.
	sp=$(find_sallyport) || { note "no sallyport binary (set SALLYPORT)"; return 1; }
	sp_ids out in hub || return 1
	out=$ID_out
	in=$ID_in
	rly=$ID_hub
	hub=$(free_port)
	FRONT=$(free_port)
	printf '[node]\nidentity = %s\nlisten = 127.0.0.1:%s\nmax_connections = 100000\n%s\n\n[peers]\nserver = %s\nclient = %s\n\n[relay bench]\nregister = server\nallow = client\nmax_connections_per_peer = 0\n' \
		"$WORK/sp/hub.key" "$hub" "$SP_AS" "$out" "$in" >"$WORK/sp/hub.ini"
	printf '[node]\nidentity = %s\nmax_connections = 100000\n%s\n\n[peers]\nhub = %s\nclient = %s\n\n[outlet bench]\ntarget = 127.0.0.1:%s\nallow = client\nrelay = hub@127.0.0.1:%s\n' \
		"$WORK/sp/out.key" "$SP_AS" "$rly" "$in" "$1" "$hub" >"$WORK/sp/out.ini"
	printf '[node]\nidentity = %s\nmax_connections = 100000\n%s\n\n[peers]\nhub = %s\nserver = %s\n\n[inlet bench]\nlisten = 127.0.0.1:%s\noutlet = server\nvia = hub@127.0.0.1:%s\n' \
		"$WORK/sp/in.key" "$SP_AS" "$rly" "$out" "$FRONT" "$hub" >"$WORK/sp/in.ini"
	bg "$WORK/sp/hub.log" "$sp" run "$WORK/sp/hub.ini"
	TPIDS=$LAST
	for i in $(seq 200); do
		grep -q event=ready "$WORK/sp/hub.log" && break
		sleep 0.05
	done
	bg "$WORK/sp/out.log" "$sp" run "$WORK/sp/out.ini"
	TPIDS="$TPIDS $LAST"
	bg "$WORK/sp/in.log" "$sp" run "$WORK/sp/in.ini"
	TPIDS="$TPIDS $LAST"
	for i in $(seq 400); do
		grep -q 'event=session-open.*service=bench' "$WORK/sp/out.log" &&
			grep -q 'event=session-open.*service=bench' "$WORK/sp/in.log" &&
			return 0
		sleep 0.05
	done
	note "sallyport via a relay did not become ready: $(tail -n 3 "$WORK/sp/hub.log" "$WORK/sp/out.log" "$WORK/sp/in.log")"
	return 1
}

down() { kill_pids $TPIDS; TPIDS=""; }

# pss_kib: the summed Pss (KiB) of the tunnel processes and their children.
pss_kib()
{
	local p sum=0 v
	for p in $(descendants $TPIDS); do
		v=$(awk '/^Pss:/ { print $2; exit }' "/proc/$p/smaps_rollup" 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# --- the measurements ---

bench_iperf()
{
	local tool=$1 p r dir out
	for p in 1 8; do
		for r in "" -R; do
			dir=fwd
			[ -z "$r" ] || dir=rev
			out="$WORK/iperf-$tool-$p$dir.json"
			[ "$p$dir" != 1fwd ] || perf_start "$tool-1stream"
			timeout $((SECS + 20)) iperf3 -c 127.0.0.1 -p "$FRONT" -t "$SECS" -O 1 \
				-P "$p" $r -J >"$out" 2>&1
			[ "$p$dir" != 1fwd ] || perf_stop "$tool-1stream"
			v=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print("%.2f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))' "$out" 2>/dev/null) ||
				v=err
			record "$tool" "tput_${p}_$dir" "$v"
			note "$tool iperf3 -P $p $dir: $v Gbit/s"
		done
	done
}

bench_latency()
{
	local tool=$1 line
	line=$(timeout 120 redis-benchmark -h 127.0.0.1 -p "$FRONT" -P 1 -c 1 \
		-n "$PINGS" -t ping --csv 2>/dev/null | grep '"PING_MBULK"')
	# "test","rps","avg","min","p50","p95","p99","max" (milliseconds)
	record "$tool" lat_p50 "$(echo "$line" | awk -F'"' '{ printf "%.0f", $10 * 1000 }')"
	record "$tool" lat_p99 "$(echo "$line" | awk -F'"' '{ printf "%.0f", $14 * 1000 }')"
	record "$tool" rps "$(echo "$line" | awk -F'"' '{ printf "%.0f", $4 }')"
	note "$tool latency: $line"
}

# perf_start(tool), perf_stop(tool): with BENCH_PERF, a system-wide
# profile around one phase, summarised into $WORK/perf-TOOL.txt.
perf_start()
{
	[ -n "$PERF" ] || return 0
	perf record -a -F 999 -o "$WORK/perf-$1.data" >/dev/null 2>&1 &
	PERF_PID=$!
	sleep 0.5 # perf's own start-up
}

perf_stop()
{
	[ -n "$PERF" ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null
	wait "$PERF_PID" 2>/dev/null
	{
		echo "--- $1: CPU samples by process and object (swapper: idle)"
		perf report -i "$WORK/perf-$1.data" --sort comm,dso --stdio \
		    2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 16
		echo "--- $1: by function (top 25; a stripped library's static"
		echo "    functions show as addresses in that library)"
		perf report -i "$WORK/perf-$1.data" --sort comm,dso,sym \
		    --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' |
		    head -n 25
	} >"$WORK/perf-$1.txt"
	rm -f "$WORK/perf-$1.data"
}

bench_connrate()
{
	local tool=$1 c out
	out=$(timeout 120 "$NB" ttfb "$FRONT" "$TTFB_N")
	record "$tool" ttfb_p50 "$(echo "$out" | sed -n 's/.*ttfb_p50_us=\([0-9]*\).*/\1/p')"
	note "$tool ttfb: $out"
	out=$(timeout 120 "$NB" ttfb "$FRONT" "$TTFB_GAP_N" "$TTFB_GAP_US")
	record "$tool" ttfb_gap_p50 "$(echo "$out" | sed -n 's/.*ttfb_p50_us=\([0-9]*\).*/\1/p')"
	note "$tool ttfb, ${TTFB_GAP_US} us between connections: $out"
	for c in 1 8; do
		[ "$c" != 1 ] || perf_start "$tool"
		out=$(timeout $((SECS + 30)) "$NB" connrate "$FRONT" "$SECS" $c)
		[ "$c" != 1 ] || perf_stop "$tool"
		record "$tool" "cps_$c" "$(echo "$out" | sed -n 's/.*conns_per_s=\([0-9]*\).*/\1/p')"
		note "$tool connrate c=$c: $out"
	done
}

bench_memory()
{
	local tool=$1 n before after held pid i k=0
	for n in $MEM; do
		k=$((k + 1))	# column mem_1, mem_2: the counts in $MEM
		case $tool in
		socat|socat2) [ "$n" -le 1000 ] || { record "$tool" "mem_$k" n/a; continue; } ;;
		direct) record "$tool" "mem_$k" n/a; continue ;;
		esac
		before=$(pss_kib)
		"$NB" hold "$FRONT" "$n" "$HOLD_SECS" >"$WORK/hold.out" 2>&1 &
		pid=$!
		for i in $(seq $((HOLD_SECS * 20 + 400))); do
			grep -q held= "$WORK/hold.out" && break
			sleep 0.05
		done
		held=$(sed -n 's/.*held=\([0-9]*\).*/\1/p' "$WORK/hold.out")
		after=$(pss_kib)
		kill_pids "$pid"
		# Per connection actually held; marked with * when the tunnel
		# refused some of the N, and with the count held when fewer
		# than 90% could be opened within $HOLD_SECS s.
		if [ "${held:-0}" -gt 0 ]; then
			v=$(awk -v a="$after" -v b="$before" -v n="$held" \
				'BEGIN { printf "%.1f", (a - b) / n }')
			if [ "$held" -lt $((n * 9 / 10)) ]; then
				v="$v@$held"
			elif [ "$held" -lt "$n" ]; then
				v="$v*"
			fi
		else
			v=fail
		fi
		record "$tool" "mem_$k" "$v"
		note "$tool memory n=$n: before ${before} KiB, after ${after} KiB: $v KiB/conn ($(cat "$WORK/hold.out"))"
		# Let the closed connections drain before the next count.
		for i in $(seq 100); do
			[ "$(ss -Htn state established "( sport = :$FRONT )" | wc -l)" = 0 ] && break
			sleep 0.05
		done
	done
}

t_start=$(date +%s)
for tool in $TOOLS; do
	note "=== $tool"
	if ! "up_$tool" "$IPERF_PORT"; then
		note "$tool: cannot start, row skipped"
		down
		continue
	fi
	bench_iperf "$tool"
	down
	"up_$tool" "$REDIS_PORT" && bench_latency "$tool"
	down
	"up_$tool" "$ECHO_PORT" && { bench_connrate "$tool"; bench_memory "$tool"; }
	if [ "$tool" = sallyport ]; then
		grep -hoE '(aes|ghash|impl)[a-z_]*=[^ ]+' "$WORK/sp/"*.log 2>/dev/null |
			sort -u >"$WORK/sp-impl"
	fi
	down
done

# --- the table ---
python3 - "$RES" "$WORK/sp-impl" "$(($(date +%s) - t_start))" $MEM <<'EOF'
import sys

res, impl, elapsed = sys.argv[1], sys.argv[2], sys.argv[3]
counts = sys.argv[4:]
data = {}
order = []
for line in open(res):
    tool, key, val = line.split(None, 2)
    if tool not in data:
        data[tool] = {}
        order.append(tool)
    data[tool][key] = val.strip()

names = {"direct": "direct (no tunnel)", "socat": "socat (1 hop)",
         "socat2": "socat x2 (2 hops)", "stunnel": "stunnel TLS1.3 mTLS",
         "spiped": "spiped", "ssh": "ssh -L aes256-gcm",
         "sallyport": "sallyport full hs", "spresume": "sallyport resumed",
         "spwarm": "sallyport warm = 2",
         "sprelay": "sallyport via relay"}
cols = [("tput_1_fwd", "1s Gb/s"), ("tput_1_rev", "1s -R"),
        ("tput_8_fwd", "8s Gb/s"), ("tput_8_rev", "8s -R"),
        ("lat_p50", "p50 us"), ("lat_p99", "p99 us"),
        ("ttfb_p50", "TTFB p50"), ("ttfb_gap_p50", "TTFB gap"),
        ("cps_1", "conn/s c1"), ("cps_8", "conn/s c8"),
        ] + [("mem_%d" % (i + 1), "KiB/c %s" % n) for i, n in enumerate(counts)]


def num(v):
    try:
        v = str(v)
        return None if "@" in v else float(v.rstrip("*"))
    except (TypeError, ValueError):
        return None


def table(title, cell):
    print("\n" + title)
    print("%-22s" % "" + "".join("%11s" % c[1] for c in cols))
    for t in order:
        print("%-22s" % names.get(t, t) +
              "".join("%11s" % cell(t, k) for k, _ in cols))


table("Measurements (throughput Gbit/s; latency microseconds; memory KiB "
      "per held connection)", lambda t, k: data[t].get(k, "-"))
for ref in ("socat2", "stunnel"):
    if ref not in data:
        continue

    def ratio(t, k, ref=ref):
        a, b = num(data[t].get(k)), num(data[ref].get(k))
        if a is None or b is None or b == 0:
            return "-"
        return "%.2fx" % (a / b)
    table("Ratio to %s (higher is better for throughput and conn/s, lower "
          "for latency and memory)" % names[ref], ratio)

sp = data.get("sallyport")
if sp:
    print("\nTargets for sallyport (issues 4 and 13):")

    def check(label, ok):
        print("  %-62s %s" % (label, "-" if ok is None else
                               ("met" if ok else "MISSED")))

    def cmp(a, b, f):
        a, b = num(a), num(b)
        return None if a is None or b is None else f(a, b)
    st = data.get("stunnel", {})
    s2 = data.get("socat2", {})
    check("single-stream throughput >= 1.5x stunnel",
          cmp(sp.get("tput_1_fwd"), st.get("tput_1_fwd"), lambda a, b: a >= 1.5 * b))
    check("single-stream throughput >= 0.8x socat x2",
          cmp(sp.get("tput_1_fwd"), s2.get("tput_1_fwd"), lambda a, b: a >= 0.8 * b))
    check("latency p50 <= stunnel's",
          cmp(sp.get("lat_p50"), st.get("lat_p50"), lambda a, b: a <= b))
    sh = data.get("ssh", {})
    for row, rname in (("sallyport", "full"), ("spresume", "resumed"),
                       ("spwarm", "warm")):
        r = data.get(row)
        if not r:
            continue
        check("%s: TTFB p50 <= ssh -L's" % rname,
              cmp(r.get("ttfb_p50"), sh.get("ttfb_p50"), lambda a, b: a <= b))
        check("%s: TTFB p50 <= ssh -L's, with a gap between connections"
              % rname, cmp(r.get("ttfb_gap_p50"), sh.get("ttfb_gap_p50"),
                           lambda a, b: a <= b))
        for c in ("1", "8"):
            check("%s: new connections/s >= 2x stunnel at concurrency %s"
                  % (rname, c), cmp(r.get("cps_" + c), st.get("cps_" + c),
                                    lambda a, b: a >= 2 * b))
            check("%s: new connections/s >= ssh -L's at concurrency %s"
                  % (rname, c), cmp(r.get("cps_" + c), sh.get("cps_" + c),
                                    lambda a, b: a >= b))
    if counts:
        check("<= 8 KiB per idle connection with %s held (target: 10,000)"
              % counts[-1], cmp(sp.get("mem_%d" % len(counts)), 8,
                                 lambda a, b: a <= b))
    try:
        lines = open(impl).read().split()
        if lines:
            print("  implementation fields logged by sallyport: " + " ".join(lines))
    except OSError:
        pass
print("\nMemory: * = per connection held, the tunnel refused a few of the N;"
      " X@K = only K could be opened within the time allowed")
print("run took %s s" % elapsed)
EOF

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'aes|pclmulqdq|avx2|sha_ni|vaes' | tr '\n' ' ')
echo "CPU: $cpu ($(nproc) cores; $flags); kernel $(uname -r)"
echo "versions: $(socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/socat \1/p'); $(stunnel -version 2>&1 | sed -n 's/^\(stunnel [0-9.]*\).*/\1/p' | head -n 1); $(spiped -v 2>&1); $(ssh -V 2>&1 | cut -d, -f1); $(iperf3 --version | head -n 1 | cut -d' ' -f1,2); redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
for f in "$WORK"/perf-*.txt; do
	if [ -e "$f" ]; then cat "$f"; fi
done
