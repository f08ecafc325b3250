#!/bin/sh
# The channel targets' seeds (tests/fuzz/mkseeds_channel writes them, with
# fixed keys) must be what the current protocol makes.  A change to the
# handshake or the payloads leaves stale seeds that stop at the first
# check (version 2 did: msg1 without its version byte), and then neither
# the replay of make check nor a fuzzer starting from them reaches msg3 or
# the records.  Regenerate them with
#   tests/fuzz/mkseeds_channel $(top_srcdir)/tests/fuzz/corpus
# Likewise the node targets' scripts (tests/fuzz/mkseeds_node writes
# them; a change to the script's operations, fuzz_nodeenv.h, makes them
# stale):
#   tests/fuzz/mkseeds_node $(top_srcdir)/tests/fuzz/corpus
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
mk=$top_builddir/tests/fuzz/mkseeds_channel
mkn=$top_builddir/tests/fuzz/mkseeds_node
for m in "$mk" "$mkn"; do
	if [ ! -x "$m" ]; then
		echo "SKIP: seeds-current: no $m"
		exit 77
	fi
done
d=$(mktemp -d "${TMPDIR:-/tmp}/sallyport-seeds.XXXXXX")
trap 'rm -rf "$d"' EXIT
for t in handshake_responder handshake_initiator record identity_payload \
    resume_responder node admin; do
	mkdir "$d/$t"
done
"$mk" "$d"
"$mkn" "$d"
st=0
for f in $(cd "$d" && find . -type f | sort); do
	f=${f#./}
	if ! cmp -s "$d/$f" "$top_srcdir/tests/fuzz/corpus/$f"; then
		echo "FAIL: seeds-current: tests/fuzz/corpus/$f is stale" \
		    "(run tests/fuzz/mkseeds_channel and mkseeds_node" \
		    "tests/fuzz/corpus)" >&2
		st=1
	fi
done
[ "$st" = 1 ] || echo "seeds-current: $(cd "$d" && find . -type f | wc -l) seeds current"
exit $st
