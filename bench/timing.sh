#!/bin/sh
# Timing goals, measured.  The integration tests check these only with wide
# margins (README.md, "Testing": the suite must pass on a loaded 2-core
# machine and under ASan), so that a slow machine cannot fail them; this
# script runs the same scenarios RUNS times each with
# SALLYPORT_TEST_SLOW=1 and prints, per goal, the median and the worst
# figure against the goal (met when the worst is within it), then the
# figure of every run.  Not a test: run it on a quiet
# machine, on a plain (not sanitizer) build.
#
#   bench/timing.sh [BUILD_DIR [RUNS]]   (default: ./build, 5 runs)
#
#   failover    72-relay-fleet.sh: a relay replica is SIGKILLed; ms until
#               the first psql connection started after the kill is done
#               (goal: 1000)
#   revocation  91-reload-revoke.sh: ms from the outlet's reload line to
#               the end of the revoked client's redis-cli (goal: 1000)
#   relay-back  64-relay-restart.sh: ms from the relay's return (its
#               event=ready) to a working tunneled connection (goal: 5000,
#               the outlet's longest backoff)
#   flood-setup 34-flood-same-address.sh: the worst inlet setup_ms of 5
#               connections under a pre-auth flood (goal: 1000)
#   relay-flood 35-flood-relay-multi-address.sh: the same through a relay
#               under a flood from 5 addresses (goal: 1000)
#
# Needs what those tests need (root for the network namespaces,
# PostgreSQL, redis); a scenario whose test skips is reported as skipped.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
runs=${2:-5}
[ -x "$build/src/sallyport" ] ||
	{ echo "timing.sh: no $build/src/sallyport (build first)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sp-timing-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# figure(name, log): the figure of one run of goal ${name} from its test's
# output ${log}; empty if the run printed none.
figure()
{
	case $1 in
	failover)
		sed -n 's/.*; first done \(-*[0-9]*\) ms after it$/\1/p' "$2" ;;
	revocation)
		sed -n "s/.*app's redis-cli ended \([0-9]*\) ms after the reload.*/\1/p" "$2" ;;
	relay-back)
		sed -n "s/.*connection worked \([0-9]*\) ms after the relay's return$/\1/p" "$2" ;;
	flood-setup|relay-flood)
		sed -n 's/.* setup_ms=\([0-9.]*\) (client saw.*/\1/p' "$2" |
		    sort -n | tail -n 1 ;;
	esac | tail -n 1
}

printf '%-12s %-7s %-7s %-6s %-7s %s\n' goal median worst "goal" "" "runs (ms)"
for g in failover:72-relay-fleet:1000 revocation:91-reload-revoke:1000 \
    relay-back:64-relay-restart:5000 flood-setup:34-flood-same-address:1000 \
    relay-flood:35-flood-relay-multi-address:1000
do
	name=${g%%:*}
	rest=${g#*:}
	test=${rest%%:*}
	goal=${rest#*:}
	all=
	note=
	i=0
	while [ "$i" -lt "$runs" ]; do
		i=$((i + 1))
		rc=0
		(cd "$build" && top_srcdir=$top top_builddir=$build \
		    SALLYPORT=$build/src/sallyport SALLYPORT_TEST_SLOW=1 \
		    sh "$top/tests/integration/$test.sh") >"$tmp/$name.$i.log" \
		    2>&1 || rc=$?
		if [ "$rc" = 77 ]; then
			note="skipped: $(grep -m 1 '^SKIP' "$tmp/$name.$i.log" || true)"
			break
		fi
		[ "$rc" = 0 ] || note="$note run $i failed (exit $rc);"
		f=$(figure "$name" "$tmp/$name.$i.log")
		[ -n "$f" ] && all="$all $f"
	done
	if [ -z "$all" ]; then
		printf '%-12s %-7s %-7s %-6s %-7s %s\n' "$name" - - "$goal" - \
		    "${note:-no figure}"
		continue
	fi
	med=$(printf '%s\n' $all | sort -n | awk '{ v[NR] = $1 }
	    END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	worst=$(printf '%s\n' $all | sort -n | tail -n 1)
	verdict=met
	awk -v w="$worst" -v g="$goal" 'BEGIN { exit !(w + 0 <= g + 0) }' ||
		verdict=missed
	printf '%-12s %-7s %-7s %-6s %-7s %s\n' "$name" "$med" "$worst" "$goal" \
	    "$verdict" "${all# }${note:+ $note}"
done
