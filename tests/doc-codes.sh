#!/bin/sh
# doc-codes.sh: the code tables of the documents agree with the binary.
#
#   - docs/protocol.md section 4 (errors) lists exactly the channel error
#     names of src/channel.c (error_names), each with its number;
#   - docs/protocol.md section 3.4 (REFUSE) lists exactly the refusal
#     words of src/channel.c (refusal_names), each with its number;
#   - docs/logging.md names (in backquotes) every reason word the binary
#     can log: conn.c's reason_names, acl.c's credential problems,
#     ticket.c's preamble errors, and every literal "reason=WORD" in src/.
#
# Usage: sh tests/doc-codes.sh [TOP_SRCDIR].  Prints one line per
# disagreement and exits 1, or a summary and 0.
set -eu
top=${1:-${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}}
src=$top/src
proto=$top/docs/protocol.md
logging=$top/docs/logging.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0

# strings ARRAY FILE: the string literals of "ARRAY[] = { ... };", one a
# line, in order; NULL entries as "NULL".
strings()
{
	awk -v name="$1" '
	index($0, name "[] = {") { on = 1 }
	on {
		line = $0
		sub(/.*= *\{/, "", line)
		while (match(line, /"[^"]*"|NULL/)) {
			w = substr(line, RSTART, RLENGTH)
			gsub(/"/, "", w)
			print w
			line = substr(line, RSTART + RLENGTH)
		}
		if ($0 ~ /\};/) exit
	}' "$2"
}

# section FILE HEADING-REGEX: the lines of the section whose heading
# matches, up to the next heading of the same or a higher level.
section()
{
	awk -v re="$2" '
	/^#+ / {
		if (on && length($1) <= level) exit
		if (!on && $0 ~ re) { on = 1; level = length($1); next }
	}
	on' "$1"
}

# same WHAT CODE-LIST DOC-LIST: the two "N word" lists are equal.
same()
{
	sort "$2" >"$tmp/a"
	sort "$3" >"$tmp/b"
	comm -23 "$tmp/a" "$tmp/b" | while read -r n w; do
		echo "doc-codes: $1: $w ($n) is not documented"
	done
	comm -13 "$tmp/a" "$tmp/b" | while read -r n w; do
		echo "doc-codes: $1: documented $w ($n) is not in the code"
	done
	cmp -s "$tmp/a" "$tmp/b" || bad=1
}

# Channel errors: index i of error_names is error i (0 is "OK").
strings error_names "$src/channel.c" |
    awk 'NR > 1 { print NR - 1, $0 }' >"$tmp/err.code"
section "$proto" '^## [0-9]+\. Errors' |
    awk -F'|' '$2 ~ /^ *[0-9]+ *$/ {
	gsub(/ /, "", $2); gsub(/ /, "", $3); print $2, $3 }' >"$tmp/err.doc"
same "protocol.md errors" "$tmp/err.code" "$tmp/err.doc"

# REFUSE reasons: index i of refusal_names is reason i (0 is NULL).
strings refusal_names "$src/channel.c" |
    awk 'NR > 1 { print NR - 1, $0 }' >"$tmp/ref.code"
section "$proto" '^### [0-9.]+ REFUSE' |
    awk -F'|' '$2 ~ /^ *[0-9]+ *$/ && $3 ~ /`/ {
	gsub(/[ `]/, "", $2); gsub(/[ `]/, "", $3); print $2, $3 }' \
    >"$tmp/ref.doc"
same "protocol.md REFUSE" "$tmp/ref.code" "$tmp/ref.doc"

# Reason words logged: each appears in backquotes in logging.md.
{
	strings reason_names "$src/conn.c"
	strings problem_names "$src/acl.c"
	strings names "$src/ticket.c"
	grep -oh 'reason=[a-z][a-z0-9-]*' "$src"/*.c | sed 's/^reason=//'
} | grep -v -e '^NULL$' -e '^ok$' | sort -u >"$tmp/words"
n=0
while read -r w; do
	n=$((n + 1))
	grep -q "\`$w\`\\|reason=$w\\b" "$logging" || {
		echo "doc-codes: logging.md: reason $w is not documented"
		bad=1
	}
done <"$tmp/words"

if [ "$bad" -ne 0 ]; then
	exit 1
fi
echo "doc-codes: $(wc -l <"$tmp/err.code") errors and" \
    "$(wc -l <"$tmp/ref.code") REFUSE reasons as documented;" \
    "$n reason words all in docs/logging.md"
