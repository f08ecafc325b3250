#!/bin/sh
# Build sallyport and run every test twice: a normal build, then an
# ASan+UBSan build.  Installs what it needs (Debian 12, as root).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
sh contrib/scripts/deps.sh
./bootstrap >/dev/null 2>&1 || ./bootstrap
jobs=$(nproc 2>/dev/null || echo 2)
start=$(date +%s)
status=0

# run_suite DIR CONFIGURE-ARGS...: configure out of tree, make check, print summaries.
run_suite() {
	dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q "$@" && make -s -j"$jobs" &&
	    make -s -j"$jobs" check) || status=1
	echo "== $dir: summaries"
	(cd "$dir" && find tests -name '*.log' ! -name 'test-suite.log' | sort |
	    while read -r f; do
		grep -hE '^[0-9]+%: Checks:|[0-9]+ passed, [0-9]+ failed|inputs replayed' \
		    "$f" 2>/dev/null | sed "s|^|  ${f%.log}: |"
	    done) || true
	if [ -f "$dir/test-suite.log" ]; then
		grep -E '^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR):' \
		    "$dir/test-suite.log" || true
	fi
	if [ $status -ne 0 ] && [ -f "$dir/test-suite.log" ]; then
		cat "$dir/test-suite.log"
	fi
}

run_suite build
run_suite build-asan --enable-sanitizers
end=$(date +%s)
echo "== test.sh: $((end - start)) s, status $status"
exit $status
