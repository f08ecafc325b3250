#!/bin/bash
# authority-stall.sh: does an enrolment burst at an authority node slow
# the node's other tunnels? (issue 21; not a test, run by hand)
#
#   bench/authority-stall.sh OLD NEW     e.g. bench/authority-stall.sh main HEAD
#
# Builds both commits (build in bench/lib.sh; AB_CACHE as for ab.sh) and,
# for each, in turns OLD NEW OLD NEW ... (STALL_ROUNDS rounds): an
# authority node that is also the outlet "echo" (netbench echo behind
# it), an inlet node in front; one connection of round trips of 64 bytes
# through the tunnel (netbench rtt, STALL_RTTS of them), first quiet,
# then while STALL_C `sallyport enroll` processes enrol one new key after
# another against that node (one token of many uses; the authority's
# default per-source limit, 4 a second after a burst of 32, applies to
# both builds alike: the same load).  Printed per build: the median over
# rounds of the quiet and the loaded p50 and p99 (us), the loaded/quiet
# ratio of each, the enrolments done per loaded phase, and the store_ms
# figures of the audit lines (p50, p99: the store's time, which the old
# build spent on the loop).
#
# Knobs: STALL_ROUNDS=3 STALL_RTTS=20000 STALL_C=4 AB_CACHE=DIR AB_KEEP=1
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=${AB_REPO:-$(dirname "$HERE")}
ROUNDS=${STALL_ROUNDS:-3}
RTTS=${STALL_RTTS:-20000}
C=${STALL_C:-4}

note() { echo "stall: $*" >&2; }

[ $# -eq 2 ] || { echo "usage: bench/authority-stall.sh OLD NEW" >&2; exit 2; }
. "$HERE/lib.sh"	# free_port, wait_port, build, stop, cleanup_work,
			# commit_of
OLD=$(commit_of "$1") || exit 2
NEW=$(commit_of "$2") || exit 2

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sp-stall.XXXXXX")
PIDS=""
DPIDS=""
TREES=""

cleanup()
{
	trap - EXIT INT TERM
	touch "$WORK/stop"
	cleanup_work
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -O2 -pthread -o "$WORK/netbench" "$HERE/netbench.c" || exit 1
NB=$WORK/netbench
ECHO_PORT=$(free_port)
"$NB" echo "$ECHO_PORT" >"$WORK/echo.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$ECHO_PORT" || { note "no echo server"; exit 1; }
build "$OLD" old || exit 1
build "$NEW" new || exit 1
EXTRA=""
[ "$(id -u)" = 0 ] && EXTRA="allow_root = yes"

# wait_ready(log, pid): up to 60 s for event=ready.
wait_ready()
{
	local i
	for i in $(seq 1200); do
		grep -q 'event=ready' "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.05
	done
	note "no event=ready in $1: $(tail -n 3 "$1")"
	return 1
}

# enrol_loop(sp, dir, token, k): enrol new keys one after another until
# $WORK/stop exists; one line per success in $dir/ok.$k.  Each enroll
# tries once (--retry-for 0 where the build retries): the same load.
enrol_loop()
{
	local n=0
	while [ ! -e "$WORK/stop" ]; do
		n=$((n + 1))
		"$1" enroll "$3" --identity "$2/e$4.$n.key" \
		    --out "$2/e$4.$n.cred" $ONCE >/dev/null 2>&1 &&
			echo ok >>"$2/ok.$4"
	done
}

# life(label, round): one authority+outlet node and one inlet node of that
# build; a quiet RTT phase, then a loaded one.  Appends
# "quiet_p50 quiet_p99 loaded_p50 loaded_p99 enrolments" to $WORK/label.rows.
life()
{
	local b=$1 dir=$WORK/$1/r$2 sp=$WORK/$1/sallyport auth in front k q l
	local epids=""
	mkdir -p "$dir/store"
	auth=$(free_port)
	front=$(free_port)
	(
		umask 077
		"$sp" identity create "$dir/auth.key" >"$dir/auth.id"
		"$sp" identity create "$dir/in.key" >"$dir/in.id"
		"$sp" authority create "$dir/ca.key" >/dev/null
	) || return 1
	ID_auth=$(grep -Eo 'I[0-9a-f]{64}' "$dir/auth.id" | tail -n 1)
	ID_in=$(grep -Eo 'I[0-9a-f]{64}' "$dir/in.id" | tail -n 1)
	printf '[node]\nidentity = auth.key\nlisten = 127.0.0.1:%s\n%s\n' \
	    "$auth" "$EXTRA" >"$dir/auth.ini"
	printf '[peers]\nclient = %s\n' "$ID_in" >>"$dir/auth.ini"
	printf '[outlet echo]\ntarget = 127.0.0.1:%s\nallow = client\n' \
	    "$ECHO_PORT" >>"$dir/auth.ini"
	printf '[authority corp]\nkey = ca.key\nstore = store/corp.db\n' \
	    >>"$dir/auth.ini"
	printf '[node]\nidentity = in.key\n%s\n[peers]\nserver = %s\n' \
	    "$EXTRA" "$ID_auth" >"$dir/in.ini"
	printf '[inlet echo]\nlisten = 127.0.0.1:%s\noutlet = server@127.0.0.1:%s\n' \
	    "$front" "$auth" >>"$dir/in.ini"
	"$sp" run "$dir/auth.ini" >"$dir/auth.log" 2>&1 &
	DPIDS="$DPIDS $!"
	wait_ready "$dir/auth.log" $! || return 1
	"$sp" run "$dir/in.ini" >"$dir/in.log" 2>&1 &
	DPIDS="$DPIDS $!"
	wait_ready "$dir/in.log" $! || return 1
	"$sp" authority token create "$dir/auth.ini" corp --attr role=app \
	    --uses 100000 >"$dir/token" 2>/dev/null || return 1
	q=$("$NB" rtt "$front" "$RTTS" 64) || return 1
	rm -f "$WORK/stop"
	ONCE=""
	"$sp" enroll --help 2>&1 | grep -q retry-for && ONCE="--retry-for 0"
	for k in $(seq "$C"); do
		enrol_loop "$sp" "$dir" "$(cat "$dir/token")" "$k" &
		epids="$epids $!"
	done
	l=$("$NB" rtt "$front" "$RTTS" 64) || return 1
	touch "$WORK/stop"
	wait $epids
	stop $DPIDS
	DPIDS=""
	echo "$q $l $(cat "$dir"/ok.* 2>/dev/null | wc -l)" |
	    sed 's/rtt_p50_us=//g; s/rtt_p99_us=//g; s/n=[0-9]*//g; s/size=[0-9]*//g' |
	    awk '{ print $1, $2, $3, $4, $5 }' >>"$WORK/$b.rows"
	grep -o 'store_ms=[0-9.]*' "$dir/auth.log" | cut -d= -f2 \
	    >>"$WORK/$b.store"
}

for r in $(seq "$ROUNDS"); do
	for b in old new; do
		life $b "$r" || { note "$b round $r failed"; exit 1; }
	done
done

# median of column ${1} of the file ${2}; pct(file, p) of one column.
median() { cut -d' ' -f"$1" "$2" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
pct() { sort -g "$1" | awk -v p="$2" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.5); if (i < 1) i = 1; print NR ? v[i] : "-" }'; }

printf 'old %s, new %s; %s rounds, %s round trips of 64 bytes per phase, %s enrolling processes\n' \
    "${OLD:0:10}" "${NEW:0:10}" "$ROUNDS" "$RTTS" "$C"
printf '%-4s %10s %10s %10s %10s %8s %8s %6s %9s %9s\n' build quiet_p50 quiet_p99 \
    load_p50 load_p99 p50_x p99_x enrols store_p50 store_p99
for b in old new; do
	qp50=$(median 1 "$WORK/$b.rows") qp99=$(median 2 "$WORK/$b.rows")
	lp50=$(median 3 "$WORK/$b.rows") lp99=$(median 4 "$WORK/$b.rows")
	printf '%-4s %10s %10s %10s %10s %8.2f %8.2f %6s %9s %9s\n' "$b" \
	    "$qp50" "$qp99" "$lp50" "$lp99" \
	    "$(echo "$lp50 / $qp50" | bc -l)" "$(echo "$lp99 / $qp99" | bc -l)" \
	    "$(median 5 "$WORK/$b.rows")" "$(pct "$WORK/$b.store" 50)" \
	    "$(pct "$WORK/$b.store" 99)"
done
