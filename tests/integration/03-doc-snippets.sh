#!/bin/sh
# 03-doc-snippets: every configuration snippet in README.md and docs/*.md
# passes `sallyport check` (tests/helpers/docsnippets.py finds them: ```ini
# blocks and indented blocks of sections, side-by-side columns apart).
# What only exists on the documentation's machine is supplied: keys,
# credential and revocation files, placeholder identifiers (I...), the
# run user, and the peers and authorities a snippet names but its
# surrounding text defines (added when check reports them unknown, each
# at most once).  Any other error fails the test, naming FILE:LINE of the
# snippet in the docs.
set -eu

: "${SALLYPORT:?run from make check}"
: "${top_srcdir:?run from make check}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
HELPER="$top_srcdir/tests/helpers/docsnippets.py"

fail()
{
	echo "FAIL: 03-doc-snippets: $*"
	exit 1
}

mkdir "$T/s"
n=$(python3 "$HELPER" "$T/s" "$top_srcdir/README.md" \
    "$top_srcdir"/docs/*.md) || fail "extracting the snippets"
[ "$n" -ge 10 ] || fail "found only $n snippets"

# The node's key, an authority, its credential for the node, an empty
# revocation list, and identifiers for placeholders.
node_id=$("$SALLYPORT" identity create "$T/node.key" | grep -Eo 'I[0-9a-f]{64}' |
    tail -n 1)
ca_id=$("$SALLYPORT" authority create "$T/ca.key" | grep -Eo 'I[0-9a-f]{64}' |
    tail -n 1)
"$SALLYPORT" credential issue --authority "$T/ca.key" --subject "$node_id" \
    --attr role=app --ttl 1h --out "$T/node.cred" >/dev/null ||
	fail "credential issue"
: >"$T/revoked"
ids=
i=0
while [ $i -lt 12 ]; do
	ids="$ids $("$SALLYPORT" identity create "$T/id$i.key" |
	    grep -Eo 'I[0-9a-f]{64}' | tail -n 1)"
	i=$((i + 1))
done
SNIP_KEY="$T/node.key" SNIP_CRED="$T/node.cred" SNIP_REVOKED="$T/revoked"
SNIP_CA=$ca_id SNIP_IDS=$ids SNIP_ROOT=0 SNIP_USER=
SNIP_CA_KEY="$T/ca.key" SNIP_STORE="$T/authority.db"
if [ "$(id -u)" = 0 ]; then
	# As root, check asks whether the run user can read the files again:
	# nobody stands in for the documentation's user.
	SNIP_ROOT=1
	SNIP_USER=nobody
	chmod 711 "$T"
	chgrp "$(id -gn nobody)" "$T/node.key" "$T/node.cred" "$T/revoked"
	chmod 640 "$T/node.key" "$T/node.cred" "$T/revoked"
fi
export SNIP_KEY SNIP_CRED SNIP_REVOKED SNIP_CA SNIP_IDS SNIP_ROOT SNIP_USER
export SNIP_CA_KEY SNIP_STORE

checked=0
for snip in "$T"/s/*.ini; do
	from=$(cat "${snip%.ini}.from")
	extra=
	tries=0
	while :; do
		# shellcheck disable=SC2086 # extra: words on purpose
		python3 "$HELPER" --complete "$snip" "$T/c.ini" $extra
		[ "$(id -u)" != 0 ] || { chgrp "$(id -gn nobody)" "$T/c.ini";
		    chmod 640 "$T/c.ini"; }
		if "$SALLYPORT" check "$T/c.ini" >"$T/out" 2>"$T/err"; then
			break
		fi
		tries=$((tries + 1))
		[ $tries -le 6 ] || { cat "$T/c.ini" "$T/err"; fail "$from: check still fails"; }
		# Only names the surrounding text defines may be supplied.
		peer=$(sed -n 's/.*: unknown peer "\([^"]*\)".*/\1/p' "$T/err" |
		    head -n 1)
		auth=$(sed -n 's/.*: unknown authority "\([^"]*\)".*/\1/p' \
		    "$T/err" | head -n 1)
		if [ -n "$peer" ]; then
			# A fresh identifier each: the placeholders take
			# the pool's first ones, these its last.
			id=$(echo "$SNIP_IDS" | tr ' ' '\n' | grep . |
			    tail -n "$tries" | head -n 1)
			extra="$extra $peer=$id"
		elif [ -n "$auth" ]; then
			extra="$extra AUTH:$auth=$ca_id"
		else
			cat "$T/c.ini" "$T/err"
			fail "$from: check refused the snippet"
		fi
	done
	grep -q ': OK$' "$T/out" || fail "$from: no OK"
	echo "$from: OK${extra:+ (supplied:$(echo "$extra" |
	    sed 's/=I[0-9a-f]*//g'))}"
	checked=$((checked + 1))
done
echo "03-doc-snippets: $checked snippets passed check"
