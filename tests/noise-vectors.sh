#!/bin/sh
# Replay the public Noise test vectors (tests/vectors/noise/) with src/noise.c.
set -eu
v="$top_srcdir/tests/vectors/noise"
exec "$top_builddir/tests/noise-vectors" "$v/cacophony.json" "$v/snow.json" \
	"$v/noise-c.json" "$v/flynn.txt"
