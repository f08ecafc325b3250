#!/bin/sh
# layering-selftest.sh: tests/layering.sh itself can fail.  It runs it on
# small fake src/ trees under the real map (tests/layers.txt): a clean one
# must pass; one with each kind of violation must fail and name it.
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
LAYERING="$top_srcdir/tests/layering.sh"
MAP="$top_srcdir/tests/layers.txt"
T=$(mktemp -d "${TMPDIR:-/tmp}/sallyport-layering.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0

# tree(name, file:header...): a fake src dir $T/name; "f.c:x.h" adds
# `#include "x.h"` to f.c, "f.c:@sys/x.h" adds `#include <sys/x.h>`, and
# "f.h:" alone makes an empty f.h.
tree()
{
	_d="$T/$1"
	shift
	mkdir -p "$_d"
	for _fi in "$@"; do
		_f=${_fi%%:*}
		_i=${_fi#*:}
		: >>"$_d/$_f"
		case $_i in
		"") ;;
		@*) echo "#include <${_i#@}>" >>"$_d/$_f" ;;
		*) echo "#include \"$_i\"" >>"$_d/$_f" ;;
		esac
	done
}

# expect(name, rc, pattern [map]): layering.sh on tree ${name} (with the
# map ${map}, default the real one) exits ${rc} and prints a line matching
# ${pattern}.
expect()
{
	_rc=0
	_out=$(sh "$LAYERING" "$T/$1" "${4:-$MAP}" 2>&1) || _rc=$?
	if [ "$_rc" = "$2" ] && printf '%s\n' "$_out" | grep -q -- "$3"; then
		echo "ok: $1"
	else
		echo "FAIL: $1: exit $_rc (want $2), output:"
		printf '%s\n' "$_out"
		fails=$((fails + 1))
	fi
}

CLEAN="crypto.h: crypto.c:crypto.h conn.h:@ev.h conn.c:crypto.h
inlet.c:conn.h node.c:inlet.h main.c:node.h inlet.h:"
# shellcheck disable=SC2086 # word splitting of the file lists is wanted
{
	tree clean $CLEAN
	tree cycle $CLEAN frame.h:crypto.h crypto.h:frame.h
	tree upward $CLEAN crypto.c:conn.h
	tree pure $CLEAN frame.c:@sys/socket.h noise.c:@netinet/tcp.h
	tree roles $CLEAN outlet.h: inlet.c:outlet.h
	tree unlisted $CLEAN extra.c:crypto.h
}
expect clean 0 '^layering: ok: '
expect cycle 1 'frame.h:1: include "crypto.h" closes a cycle (crypto -> frame -> crypto)'
expect upward 1 'crypto.c:2: forbidden include "conn.h" (layer core -> layer engine)'
expect pure 1 'frame.c:1: forbidden include <sys/socket.h> (layer core is pure)'
expect pure 1 'noise.c:1: forbidden include <netinet/tcp.h>'
expect roles 1 'inlet.c:2: forbidden include "outlet.h" (layer roles -> layer roles'
expect unlisted 1 'extra.c: module "extra" is not in'

# A `forbid` rule catches an edge the layer order allows.
sed 's/^forbid acl -> conn$/forbid acl -> crypto/' "$MAP" >"$T/map"
# shellcheck disable=SC2086
tree forbid $CLEAN acl.c:crypto.h
expect forbid 1 \
    'acl.c:1: forbidden include "crypto.h" (acl -> crypto: "forbid acl -> crypto")' \
    "$T/map"

[ "$fails" = 0 ] || { echo "layering-selftest: $fails failure(s)"; exit 1; }
echo "layering-selftest: ok"
