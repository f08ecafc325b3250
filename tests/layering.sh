#!/bin/sh
# layering.sh [SRCDIR [MAP]]: check the #include lines of SRCDIR
# (default $top_srcdir/src) against the layer map MAP (default
# $top_srcdir/tests/layers.txt; its format is described at its top).
#
# Fails (exit 1), one line per violation, on: an include cycle between
# modules (x.c and x.h are one module); an include of a higher layer; an
# include between two modules of a +apart layer (roles); a forbidden system
# header in a +pure layer; a `forbid` edge of the map; a module missing
# from the map.  Exit 0 with a one-line summary otherwise; 99 when the map
# or the directory cannot be read.  docs/architecture.md explains the
# layers.
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
src=${1:-$top_srcdir/src}
map=${2:-$top_srcdir/tests/layers.txt}
[ -d "$src" ] || { echo "layering: no directory $src" >&2; exit 99; }
[ -r "$map" ] || { echo "layering: cannot read $map" >&2; exit 99; }

files=""
mods=""
for f in "$src"/*.h "$src"/*.c; do
	[ -f "$f" ] || continue
	files="$files $f"
	m=$(basename "$f")
	mods="$mods ${m%.?}"
done
[ -n "$files" ] || { echo "layering: no .c or .h file in $src" >&2; exit 99; }

# shellcheck disable=SC2086 # $files: paths without spaces (src/NAME.c)
exec awk -v mapfile="$map" -v srcmods="$mods" -v top="$top_srcdir/" '
function maperr(msg) {
	print mapfile ":" FNR ": " msg > "/dev/stderr"
	broken = 1
	exit 99
}
function violation(where, msg) {
	if (index(where, top) == 1)
		where = substr(where, length(top) + 1)
	print where ": " msg
	bad++
}
# in_set(module, name): ${name} is the module itself or its layer.
function in_set(m, name) {
	return m == name || ((m in layer) && lname[layer[m]] == name)
}
function pure_forbidden(h,    k, p) {
	for (k = 1; k <= npf; k++) {
		p = pf[k]
		if (p ~ /\/\*$/) {
			if (index(h, substr(p, 1, length(p) - 1)) == 1)
				return 1
		} else if (h == p)
			return 1
	}
	return 0
}
function dfs(u, depth,    k, v, j, path) {
	color[u] = 1
	stackpos[u] = depth
	stack[depth] = u
	for (k = 1; k <= nadj[u]; k++) {
		v = adj[u, k]
		if (color[v] == 1) {
			path = ""
			for (j = stackpos[v]; j <= depth; j++)
				path = path stack[j] " -> "
			violation(eloc[u, v], "include \"" ename[u, v] \
			    "\" closes a cycle (" path v ")")
		} else if (color[v] == 0)
			dfs(v, depth + 1)
	}
	color[u] = 2
}
BEGIN {
	nsrc = split(srcmods, s, " ")
	for (i = 1; i <= nsrc; i++) {
		if (!(s[i] in issrc))
			order[++nmods] = s[i]
		issrc[s[i]] = 1
	}
}
FILENAME == mapfile {
	sub(/#.*/, "")
	if (NF == 0)
		next
	if ($1 == "layer") {
		colon = index($0, ":")
		if (!colon)
			maperr("a layer line needs a \":\" before its modules")
		n = split(substr($0, 1, colon - 1), h, " ")
		if (n < 2 || h[2] in lidx)
			maperr("a layer needs a new name")
		lname[++nl] = h[2]
		lidx[h[2]] = nl
		for (i = 3; i <= n; i++) {
			if (h[i] == "+pure")
				lpure[nl] = 1
			else if (h[i] == "+apart")
				lapart[nl] = 1
			else
				maperr("unknown flag " h[i])
		}
		n = split(substr($0, colon + 1), m, " ")
		for (i = 1; i <= n; i++) {
			if (m[i] in layer)
				maperr("module " m[i] " listed twice")
			layer[m[i]] = nl
		}
	} else if ($1 == "forbid") {
		if (NF != 4 || $3 != "->")
			maperr("expected: forbid A -> B")
		fa[++nf] = $2
		fb[nf] = $4
	} else if ($1 == "pure-forbids") {
		for (i = 2; i <= NF; i++)
			pf[++npf] = $i
	} else
		maperr("unknown line (layer, forbid or pure-forbids expected)")
	next
}
FNR == 1 {
	mod = FILENAME
	sub(/.*\//, "", mod)
	sub(/\.[ch]$/, "", mod)
	if (!(mod in layer) && !(mod in unlisted)) {
		unlisted[mod] = 1
		violation(FILENAME, "module \"" mod "\" is not in " mapfile \
		    " (add it to a layer)")
	}
}
/^[ \t]*#[ \t]*include[ \t]*[<"]/ {
	line = $0
	sub(/^[ \t]*#[ \t]*include[ \t]*/, "", line)
	q = substr(line, 1, 1)
	hdr = substr(line, 2)
	if (q == "<")
		sub(/>.*/, "", hdr)
	else
		sub(/".*/, "", hdr)
	where = FILENAME ":" FNR
	if (q == "<") {
		if ((mod in layer) && lpure[layer[mod]] && pure_forbidden(hdr))
			violation(where, "forbidden include <" hdr "> (layer " \
			    lname[layer[mod]] " is pure)")
		next
	}
	to = hdr
	sub(/.*\//, "", to)
	sub(/\.h$/, "", to)
	if (to == mod || !(to in issrc))
		next
	if (!((mod, to) in eloc)) {
		eloc[mod, to] = where
		ename[mod, to] = hdr
		adj[mod, ++nadj[mod]] = to
		nedges++
	}
	if (!(mod in layer) || !(to in layer))
		next
	a = layer[mod]
	b = layer[to]
	if (b > a) {
		violation(where, "forbidden include \"" hdr "\" (layer " \
		    lname[a] " -> layer " lname[b] ")")
		next
	}
	if (a == b && lapart[a]) {
		violation(where, "forbidden include \"" hdr "\" (layer " \
		    lname[a] " -> layer " lname[b] ": its modules do not " \
		    "include each other)")
		next
	}
	for (k = 1; k <= nf; k++)
		if (in_set(mod, fa[k]) && in_set(to, fb[k])) {
			violation(where, "forbidden include \"" hdr "\" (" mod \
			    " -> " to ": \"forbid " fa[k] " -> " fb[k] "\")")
			next
		}
}
END {
	if (broken)
		exit 99
	for (i = 1; i <= nmods; i++)
		if (color[order[i]] == 0)
			dfs(order[i], 1)
	if (bad) {
		print "layering: " bad " violation(s) in " nmods " modules" \
		    " (map: " mapfile ")"
		exit 1
	}
	print "layering: ok: " nmods " modules in " nl " layers, " nedges \
	    " include edges between modules, no cycle"
}
' "$map" $files
