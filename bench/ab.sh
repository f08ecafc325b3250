#!/bin/bash
# ab.sh: an A/B of sallyport's data path between two commits (not a test;
# run by hand).
#
#   bench/ab.sh OLD NEW        e.g. bench/ab.sh main HEAD
#
# Builds both commits (each in its own detached git worktree under a
# temporary directory, removed afterwards; plain ./configure: -O2, no
# sanitizers; branches are never touched) and measures the same fixed
# workload through each: one connection of round trips of 64 bytes to an
# echo server (netbench rtt), and one connection carrying MiB one way to a
# sink (netbench send/sink), through an inlet and an outlet node.
#
# Two kinds of figures:
#  1. instructions (valgrind --tool=callgrind, user space of the tunnel
#     processes): per round trip and per GB, directly and through one relay.
#     They do not depend on the machine's load, so one life each is enough
#     and a difference of a few percent is real.  Each figure is a
#     difference of two lives of the daemons (one with the big workload,
#     one with a small one), so start-up, handshakes and shutdown cancel.
#     Under valgrind the node's seccomp filter cannot be loaded (valgrind
#     does not know the system call), so bench/vg-noseccomp.c stands in for
#     libseccomp there, and only there.
#  2. wall clock, native builds: RTT p50 and p99, single-stream Gbit/s and
#     tunnel CPU s/GB (utime + stime of the inlet and outlet from
#     /proc/PID/stat), in rounds OLD NEW OLD NEW ...; each round gives a
#     ratio NEW/OLD per figure.  A run is AB_ROUNDS rounds, its figure the
#     median of their ratios; runs go on (at least two, at most
#     AB_MAX_RUNS) until two runs in a row agree within AB_AGREE percent
#     for every figure.  Printed: the median of each build, the median
#     ratio over all rounds, its spread (min-max over rounds), each run's
#     median ratio and whether two runs in a row agreed.
#
# Knobs (environment):
#   AB_PHASES="instr wall"   which kinds of figures
#   AB_PATHS="direct relay"  paths for the instruction counts
#   AB_WALL_PATHS="direct"   paths for the wall-clock rounds
#   AB_ROUNDS=3 AB_MAX_RUNS=4 AB_AGREE=5 (rounds per run; percent)
#   AB_RTTS=20000 AB_MIB=1024        wall-clock workload
#   AB_VG_RTTS=2000 AB_VG_MIB=64     instruction workload (under valgrind;
#                                    AB_VG_MIB=0: no bulk figures)
#   AB_SIZE=64                       bytes per round trip
#   AB_CACHE=DIR   keep built binaries in DIR (by commit hash) and reuse them
#   AB_KEEP=1      keep the work directory (logs, callgrind files)
#   AB_REPO=DIR    the repository the commits are taken from (default: the
#                  one this script is in)
#   AB_BISECT=PCT  for git bisect run: exit 1 ("bad") when NEW's
#                  instructions per round trip (all tunnel processes, the
#                  first of AB_PATHS) exceed OLD's by more than PCT percent,
#                  0 when not, 125 ("skip") when NEW does not build.  From
#                  a copy of bench/ outside the tree under bisection:
#                    cp -r bench /tmp/abc && AB_REPO=. AB_PHASES=instr \
#                    AB_BISECT=2 git bisect run /tmp/abc/ab.sh GOOD HEAD
# Prints the commits, the instruction table, the wall-clock table and how
# long it took (about 10 minutes with the defaults on a busy 2-core
# machine, builds included).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=${AB_REPO:-$(dirname "$HERE")}
PHASES=${AB_PHASES:-instr wall}
PATHS=${AB_PATHS:-direct relay}
WALL_PATHS=${AB_WALL_PATHS:-direct}
ROUNDS=${AB_ROUNDS:-3}
MAX_RUNS=${AB_MAX_RUNS:-4}
AGREE=${AB_AGREE:-5}
RTTS=${AB_RTTS:-20000}
MIB=${AB_MIB:-1024}
VG_RTTS=${AB_VG_RTTS:-2000}
VG_MIB=${AB_VG_MIB:-64}
SIZE=${AB_SIZE:-64}
# The small lives the big ones are taken from.
VG_RTTS0=100
VG_MIB0=1

note() { echo "ab: $*" >&2; }

[ $# -eq 2 ] || { echo "usage: bench/ab.sh OLD_COMMIT NEW_COMMIT" >&2; exit 2; }
. "$HERE/lib.sh"	# free_port, listening, wait_port, build, stop, cleanup_work,
			# commit_of
OLD=$(commit_of "$1") || exit 2
NEW=$(commit_of "$2") || exit 2
for c in git python3 cc ss autoreconf make; do
	command -v $c >/dev/null || { note "$c is missing"; exit 1; }
done
has_phase() { case " $PHASES " in *" $1 "*) return 0 ;; esac; return 1; }
if has_phase instr; then
	command -v valgrind >/dev/null || { note "valgrind is missing"; exit 1; }
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sp-ab.XXXXXX")
PIDS=""		# targets, for the whole run
DPIDS=""	# daemons of one life
TREES=""
t_start=$(date +%s)


cleanup()
{
	trap - EXIT INT TERM
	cleanup_work
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# wait_log(file, pattern, pid): up to 120 s (valgrind starts slowly), less
# if the process ${pid} ends first.
wait_log()
{
	local i
	for i in $(seq 2400); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.05
	done
	grep -q -- "$2" "$1" 2>/dev/null && return 0
	note "no '$2' in $1: $(tail -n 3 "$1")"
	return 1
}

# keys(label): identities of one build (made by that build, once) in
# ID_in, ID_out, ID_hub.
keys()
{
	local dir=$WORK/$1 sp=$WORK/$1/sallyport k
	for k in in out hub; do
		[ -f "$dir/$k.id" ] || (
			umask 077
			"$sp" identity create "$dir/$k.key" >"$dir/$k.id"
		) || { note "$1: identity create failed"; return 1; }
		eval "ID_$k=\$(grep -Eo 'I[0-9a-f]{64}' \"\$dir/\$k.id\" | tail -n 1)"
	done
}

# --- the targets, shared by every life: an echo server and a sink ---
cc -O2 -pthread -o "$WORK/netbench" "$HERE/netbench.c" || exit 1
NB=$WORK/netbench
ECHO_PORT=$(free_port)
SINK_PORT=$(free_port)
"$NB" echo "$ECHO_PORT" >"$WORK/echo.log" 2>&1 &
PIDS="$PIDS $!"
"$NB" sink "$SINK_PORT" >"$WORK/sink.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$ECHO_PORT" && wait_port "$SINK_PORT" ||
	{ note "the targets did not start"; exit 1; }

if [ "$OLD" = "$NEW" ]; then
	note "OLD and NEW are the same commit: an A/A run (the noise floor)"
fi
build "$OLD" old || exit 1
if [ "$OLD" = "$NEW" ]; then
	mkdir -p "$WORK/new" && cp "$WORK/old/sallyport" "$WORK/new/sallyport"
else
	build "$NEW" new || exit $([ -n "${AB_BISECT:-}" ] && echo 125 || echo 1)
fi
# Configuration keys that only some commits know: a node started as root
# must be told it may stay root (docs/security.md) where that rule exists.
for b in old new; do
	h=$OLD
	[ $b = old ] || h=$NEW
	if git -C "$TOP" grep -q '"allow_root"' "$h" -- src/config.c; then
		echo "allow_root = $([ "$(id -u)" = 0 ] && echo yes || echo no)"
	fi >"$WORK/$b/node-extra"
done

if has_phase instr; then
	cc -O2 -shared -fPIC -o "$WORK/vg-noseccomp.so" "$HERE/vg-noseccomp.c" ||
		exit 1
fi

# configure(label, path): write in.ini, out.ini (and hub.ini) for one life
# in $WORK/$label/$path/; ports are fresh for every life.  Sets FRONT_ECHO,
# FRONT_SINK and ROLES (the daemons, in start order).
configure()
{
	local b=$1 path=$2 dir=$WORK/$1/$2 extra mid hub s
	mkdir -p "$dir"
	extra=$(cat "$WORK/$b/node-extra")
	FRONT_ECHO=$(free_port)
	FRONT_SINK=$(free_port)
	mid=$(free_port)
	hub=$(free_port)
	if [ "$path" = direct ]; then
		ROLES="out in"
		printf '[node]\nidentity = %s\nlisten = 127.0.0.1:%s\n%s\n' \
			"$WORK/$b/out.key" "$mid" "$extra" >"$dir/out.ini"
		printf '[peers]\nclient = %s\n' "$ID_in" >>"$dir/out.ini"
		printf '[node]\nidentity = %s\n%s\n[peers]\nserver = %s\n' \
			"$WORK/$b/in.key" "$extra" "$ID_out" >"$dir/in.ini"
		for s in echo sink; do
			eval "t=\$${s^^}_PORT f=\$FRONT_${s^^}"
			printf '[outlet %s]\ntarget = 127.0.0.1:%s\nallow = client\n' \
				"$s" "$t" >>"$dir/out.ini"
			printf '[inlet %s]\nlisten = 127.0.0.1:%s\noutlet = server@127.0.0.1:%s\n' \
				"$s" "$f" "$mid" >>"$dir/in.ini"
		done
	else
		ROLES="hub out in"
		printf '[node]\nidentity = %s\nlisten = 127.0.0.1:%s\n%s\n' \
			"$WORK/$b/hub.key" "$hub" "$extra" >"$dir/hub.ini"
		printf '[peers]\nserver = %s\nclient = %s\n' "$ID_out" "$ID_in" \
			>>"$dir/hub.ini"
		printf '[node]\nidentity = %s\n%s\n[peers]\nhub = %s\nclient = %s\n' \
			"$WORK/$b/out.key" "$extra" "$ID_hub" "$ID_in" >"$dir/out.ini"
		printf '[node]\nidentity = %s\n%s\n[peers]\nhub = %s\nserver = %s\n' \
			"$WORK/$b/in.key" "$extra" "$ID_hub" "$ID_out" >"$dir/in.ini"
		for s in echo sink; do
			eval "t=\$${s^^}_PORT f=\$FRONT_${s^^}"
			printf '[relay %s]\nregister = server\nallow = client\n' \
				"$s" >>"$dir/hub.ini"
			printf '[outlet %s]\ntarget = 127.0.0.1:%s\nallow = client\nrelay = hub@127.0.0.1:%s\n' \
				"$s" "$t" "$hub" >>"$dir/out.ini"
			printf '[inlet %s]\nlisten = 127.0.0.1:%s\noutlet = server\nvia = hub@127.0.0.1:%s\n' \
				"$s" "$f" "$hub" >>"$dir/in.ini"
		done
	fi
}

# up(label, path, how): start the daemons of one life, $how is "native" or
# a callgrind output prefix; waits until both services are reachable.
# Sets DPIDS and ROLE_PID_<role>.  A port taken by someone else between
# free_port and the daemon's bind: again with new ports, three times.
up()
{
	local a
	for a in 1 2 3; do
		up_once "$@" && return 0
		down
		grep -q event=listen-failed "$WORK/$1/$2/"*.log 2>/dev/null ||
			return 1
		note "a port was taken meanwhile: again with new ones"
	done
	return 1
}

up_once()
{
	local b=$1 path=$2 how=$3 dir=$WORK/$1/$2 r
	rm -f "$dir/"*.log
	configure "$b" "$path"
	DPIDS=""
	for r in $ROLES; do
		if [ "$how" = native ]; then
			"$WORK/$b/sallyport" run "$dir/$r.ini" >"$dir/$r.log" 2>&1 &
		else
			LD_PRELOAD=$WORK/vg-noseccomp.so valgrind -q \
				--tool=callgrind --callgrind-out-file="$how.$r" \
				--trace-syscalls=yes --log-file="$how.$r.vg" \
				"$WORK/$b/sallyport" run "$dir/$r.ini" \
				>"$dir/$r.log" 2>&1 &
		fi
		DPIDS="$DPIDS $!"
		eval "ROLE_PID_$r=$!"
		wait_log "$dir/$r.log" event=ready $! || return 1
	done
	if [ "$path" = relay ]; then
		for s in echo sink; do
			wait_log "$dir/out.log" "event=session-open.*service=$s" \
			    "$ROLE_PID_out" &&
			wait_log "$dir/in.log" "event=session-open.*service=$s" \
			    "$ROLE_PID_in" || return 1
		done
	fi
}

down() { stop $DPIDS; DPIDS=""; }

ticks()
{
	local p sum=0
	for p in "$@"; do
		sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo "$sum"
}

RES=$WORK/results
: >"$RES"
record() { echo "$*" >>"$RES"; }

# --- 1. instructions ---
# life(label, path, rtts, mib, name): one life of the daemons under
# callgrind; records "instr label path name role count" per daemon.
life()
{
	local b=$1 path=$2 n=$3 m=$4 name=$5 out r f v
	out=$WORK/$b/cg-$path-$name
	up "$b" "$path" "$out" || return 1
	"$NB" rtt "$FRONT_ECHO" "$n" "$SIZE" >"$out.rtt" 2>&1 &&
	"$NB" send "$FRONT_SINK" "$m" >"$out.send" 2>&1 ||
		{ note "$b $path $name: workload failed: $(cat "$out.rtt" "$out.send" 2>/dev/null)"; down; return 1; }
	down
	for r in $ROLES; do
		f=$out.$r
		v=$(sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' "$f" 2>/dev/null | tail -n 1)
		[ -n "$v" ] || { note "no callgrind count in $f"; return 1; }
		record instr "$b" "$path" "$name" "$r" "$v"
		sed -n 's/^SYSCALL\[[0-9,]*\]([ 0-9]*) \([a-z_0-9]*\) (.*/\1/p' \
			"$f.vg" | sort | uniq -c |
			while read -r v f; do
				record sys "$b" "$path" "$name" "$r" "$v" "$f"
			done
	done
}

if has_phase instr; then
	for b in old new; do
		keys "$b" || exit 1
		for path in $PATHS; do
			note "instructions: $b $path"
			life "$b" "$path" "$VG_RTTS0" "$VG_MIB0" base &&
			life "$b" "$path" "$VG_RTTS" "$VG_MIB0" rtt &&
			{ [ "$VG_MIB" = 0 ] ||
			  life "$b" "$path" "$VG_RTTS0" "$VG_MIB" bulk; } ||
				exit 1
		done
	done
fi

# --- 2. wall clock, OLD NEW OLD NEW ... ---
# slot(label, path, round): one native life: rtt, then bulk with CPU.
slot()
{
	local b=$1 path=$2 k=$3 out t0 t1 pids r
	out=$WORK/$b/wall-$path-$k
	up "$b" "$path" native || return 1
	"$NB" rtt "$FRONT_ECHO" "$RTTS" "$SIZE" >"$out.rtt" 2>&1 ||
		{ note "rtt failed: $(cat "$out.rtt")"; down; return 1; }
	pids=""
	for r in $ROLES; do eval "pids=\"\$pids \$ROLE_PID_$r\""; done
	t0=$(ticks $pids)
	"$NB" send "$FRONT_SINK" "$MIB" >"$out.send" 2>&1 ||
		{ note "send failed: $(cat "$out.send")"; down; return 1; }
	t1=$(ticks $pids)
	down
	record wall "$b" "$path" "$k" \
		"$(sed -n 's/.*rtt_p50_us=\([0-9.]*\).*/\1/p' "$out.rtt")" \
		"$(sed -n 's/.*rtt_p99_us=\([0-9.]*\).*/\1/p' "$out.rtt")" \
		"$(sed -n 's/.*gbit_per_s=\([0-9.]*\).*/\1/p' "$out.send")" \
		"$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v m="$MIB" \
			'BEGIN { printf "%.4f", t / hz / (m * 1048576 / 1e9) }')"
}

# agreed(path): 0 when the last two runs agree within AGREE % (every figure).
agreed() { python3 "$HERE/ab.py" agreed "$RES" "$1" "$AGREE" "$ROUNDS"; }

if has_phase wall; then
	for path in $WALL_PATHS; do
		k=0
		for run in $(seq "$MAX_RUNS"); do
			for i in $(seq "$ROUNDS"); do
				k=$((k + 1))
				for b in old new; do
					note "wall clock: run $run round $k $b $path"
					keys "$b" && slot "$b" "$path" "$k" ||
						exit 1
				done
			done
			[ "$run" -ge 2 ] && agreed "$path" && break
		done
	done
fi

# --- the tables ---
python3 "$HERE/ab.py" table "$RES" "$1" "$OLD" "$2" "$NEW" "$AGREE" "$ROUNDS" \
	"$SIZE" \
	"$((VG_RTTS - VG_RTTS0))" "$((VG_MIB > 0 ? VG_MIB - VG_MIB0 : 0))"
echo "ab.sh took $(($(date +%s) - t_start)) s"
[ -n "${AB_BISECT:-}" ] || exit 0
python3 "$HERE/ab.py" bisect "$RES" "${PATHS%% *}" "$AB_BISECT"
exit $?
