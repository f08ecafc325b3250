#!/bin/sh
# Build sallyport and run every test twice: a normal build, then an
# ASan+UBSan build (both with -Werror); then "make distcheck": the release
# tarball holds every tracked file, builds, passes the unit and CLI tests,
# installs and uninstalls.  Installs what it needs (Debian 12, as root).
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

# run_distcheck: make distcheck from the plain build, with the tests that
# need no network (unit, fuzz replays, vectors, layering, man pages, 01-cli,
# 02-conf-examples): the integration scenarios already ran twice above, and
# running them a third time from the tarball would add half again to CI's
# time for files the completeness check below already covers.
run_distcheck() {
	b=$top/build
	tests=$(printf 'sp-tests:\n\t@echo $(TESTS)\n' |
	    make -s -C "$b" -f Makefile -f - sp-tests)
	quick=
	for t in $tests; do
		case $t in
		tests/integration/0*) quick="$quick $t" ;;
		tests/integration/*) ;;
		*) quick="$quick $t" ;;
		esac
	done
	echo "== distcheck: TESTS =$quick"
	(cd "$b" && make -s -j"$jobs" distcheck \
	    DISTCHECK_CONFIGURE_FLAGS=--enable-werror TESTS="$quick") ||
	    { status=1; return; }
	# Every tracked file is in the tarball, but for git's own.
	tarball=$(ls "$b"/sallyport-*.tar.gz | head -n 1)
	if command -v git >/dev/null 2>&1 && git -C "$top" rev-parse >/dev/null 2>&1; then
		tar tzf "$tarball" | sed 's|^[^/]*/||' | sort >"$b/dist-files"
		missing=$(git -C "$top" ls-files | grep -v '^\.gitignore$' |
		    sort | comm -23 - "$b/dist-files")
		if [ -n "$missing" ]; then
			echo "== distcheck: tracked files missing from the tarball:"
			echo "$missing" | sed 's/^/  /'
			status=1
		else
			echo "== distcheck: $(basename "$tarball") holds every tracked file"
		fi
	fi
}

run_suite build --enable-werror
run_suite build-asan --enable-werror --enable-sanitizers
run_distcheck
end=$(date +%s)
echo "== test.sh: $((end - start)) s, status $status"
exit $status
