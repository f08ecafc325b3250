#!/bin/sh
# man-lint: the man pages (mdoc) pass "mandoc -T lint -W warning" without a
# single message.  Skips (77) where mandoc is not installed; CI installs it
# (contrib/scripts/deps.sh).
set -eu

: "${top_srcdir:?run from make check}"
if ! command -v mandoc >/dev/null 2>&1; then
	echo "mandoc not found (apt-get install mandoc): skipped"
	exit 77
fi
n=0
for page in "$top_srcdir/man/sallyport.8" "$top_srcdir/man/sallyport.ini.5"; do
	out=$(mandoc -T lint -W warning "$page" 2>&1) || true
	if [ -n "$out" ]; then
		echo "$out"
		echo "FAIL: $page"
		exit 1
	fi
	echo "$(basename "$page"): clean"
	n=$((n + 1))
done
echo "man-lint: $n passed, 0 failed"
