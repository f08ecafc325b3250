#!/bin/sh
# 02-conf-examples: every example in conf/ passes `sallyport check` once
# its identity points at a real key (made here; the examples name keys
# under /etc/sallyport), and names the user the node runs as.  Line numbers are kept, so errors would point at
# the example's own lines.
set -eu

: "${SALLYPORT:?run from make check}"
: "${top_srcdir:?run from make check}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM

n=0
for ex in "$top_srcdir"/conf/*.ini; do
	[ -e "$ex" ] || continue
	name=$(basename "$ex" .ini)
	mkdir "$T/$name"
	"$SALLYPORT" identity create "$T/$name/node.key" >/dev/null
	# Only the identity line changes; the rest is checked as shipped.
	grep -q '^identity *=' "$ex" || { echo "FAIL: $ex has no identity line"; exit 1; }
	grep -q '^user *=' "$ex" || { echo "FAIL: $ex has no user line"; exit 1; }
	sed "s|^identity *=.*|identity = node.key|" "$ex" >"$T/$name/$name.ini"
	# As root, check asks what run will: can the user read its files
	# again at a reload?  Where the example's user does not exist,
	# nobody stands in, with the layout the example describes.
	if [ "$(id -u)" = 0 ]; then
		user=$(sed -n 's/^user *= *//p' "$ex")
		id -u "$user" >/dev/null 2>&1 || user=nobody
		sed -i "s|^user *=.*|user = $user|" "$T/$name/$name.ini"
		chmod 711 "$T" "$T/$name"
		chgrp "$(id -gn "$user")" "$T/$name/node.key" "$T/$name/$name.ini"
		chmod 640 "$T/$name/node.key" "$T/$name/$name.ini"
	fi
	if ! "$SALLYPORT" check "$T/$name/$name.ini" >"$T/out" 2>"$T/err"; then
		cat "$T/out" "$T/err"
		echo "FAIL: conf/$name.ini"
		exit 1
	fi
	grep -q ': OK$' "$T/out" || { cat "$T/out"; echo "FAIL: no OK"; exit 1; }
	echo "conf/$name.ini: OK"
	n=$((n + 1))
done
[ "$n" -ge 2 ] || { echo "FAIL: expected at least 2 examples, found $n"; exit 1; }
echo "02-conf-examples: $n examples passed"
