#!/bin/sh
# Build the libFuzzer targets with clang (ASan+UBSan) and run each, one at
# a time, growing a scratch corpus (build-fuzz/corpus/<target>) seeded from
# tests/fuzz/corpus/<target>.  Crashes are left in build-fuzz/crashes/,
# each run's output in build-fuzz/logs/<target>.log, and a line per target
# (executions, exec/s, new units, result) in build-fuzz/logs/summary.txt.
#
# Usage: fuzz.sh [SECONDS] [TARGET...]   each target for SECONDS (default 60)
#        fuzz.sh --long [TARGET...]      each target until 10 million
#                                        executions or 30 minutes, then its
#                                        corpus minimized into
#                                        build-fuzz/min/<target>
# Environment: FUZZ_RUNS, FUZZ_SECS override the long mode's bounds;
# FUZZ_NICE (default 10) is the niceness of the fuzzers.  To commit the
# minimized seeds: cp build-fuzz/min/<target>/* tests/fuzz/corpus/<target>/
# (after removing the old ones), then make check.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
long=0
if [ "${1:-}" = --long ]; then
	long=1
	shift
	runs=${FUZZ_RUNS:-10000000}
	secs=${FUZZ_SECS:-1800}
else
	secs=${1:-60}
	[ $# -gt 0 ] && shift
	runs=-1
fi
cd "$top"
sh contrib/scripts/deps.sh
[ -x configure ] || ./bootstrap
mkdir -p build-fuzz/crashes build-fuzz/logs
cd build-fuzz
[ -f Makefile ] || CC=clang "$top/configure" -q --enable-fuzzing --enable-sanitizers
make -s -j"$(nproc)"
targets=${*:-$(cd tests/fuzz && ls fuzz_* 2>/dev/null | grep -v '\.o$' | sed 's/^fuzz_//')}
status=0
for t in $targets; do
	mkdir -p "corpus/$t"
	echo "== fuzz $t for ${secs}s$([ "$runs" -gt 0 ] && echo " or $runs runs")"
	rc=0
	# The node in the process logs as the daemon does, a few lines per
	# input: not into the run's log (crash reports still go there).
	quiet=
	case $t in node | admin) quiet=-close_fd_mask=2 ;; esac
	# shellcheck disable=SC2086
	nice -n "${FUZZ_NICE:-10}" "./tests/fuzz/fuzz_$t" -max_total_time="$secs" \
	    -runs="$runs" -print_final_stats=1 -artifact_prefix="crashes/$t-" \
	    $quiet "corpus/$t" "$top/tests/fuzz/corpus/$t" > "logs/$t.log" 2>&1 || rc=$?
	[ "$rc" = 0 ] || status=1
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "logs/$t.log")
	new=$(sed -n 's/^stat::new_units_added: *//p' "logs/$t.log")
	line="$t executions=${execs:-?} exec_per_sec=${eps:-?} new_units=${new:-?} rc=$rc"
	echo "$line" | tee -a logs/summary.txt
	[ "$rc" = 0 ] || tail -40 "logs/$t.log"
	if [ "$long" = 1 ]; then
		rm -rf "min/$t"
		mkdir -p "min/$t"
		nice -n "${FUZZ_NICE:-10}" "./tests/fuzz/fuzz_$t" -merge=1 \
		    "min/$t" "corpus/$t" "$top/tests/fuzz/corpus/$t" \
		    > "logs/$t.merge.log" 2>&1 || status=1
		echo "   minimized: $(ls "min/$t" | wc -l) files in build-fuzz/min/$t"
	fi
done
exit $status
