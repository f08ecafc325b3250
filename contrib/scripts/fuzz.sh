#!/bin/sh
# Build the libFuzzer targets with clang and run each for SECONDS (default
# 60), growing a scratch corpus seeded from tests/fuzz/corpus/<target>.
# Crashes are left in build-fuzz/crashes/.  Usage: fuzz.sh [SECONDS] [TARGET...]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
cd "$top"
sh contrib/scripts/deps.sh
[ -x configure ] || ./bootstrap
mkdir -p build-fuzz/crashes
cd build-fuzz
[ -f Makefile ] || CC=clang "$top/configure" -q --enable-fuzzing --enable-sanitizers
make -s -j"$(nproc)"
targets=${*:-$(cd tests/fuzz && ls fuzz_* 2>/dev/null | grep -v '\.o$' | sed 's/^fuzz_//')}
status=0
for t in $targets; do
	mkdir -p "corpus/$t"
	echo "== fuzz $t for ${secs}s"
	"./tests/fuzz/fuzz_$t" -max_total_time="$secs" -artifact_prefix=crashes/ \
	    "corpus/$t" "$top/tests/fuzz/corpus/$t" || status=1
done
exit $status
