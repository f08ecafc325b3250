#!/bin/sh
# policy explain and check --expect (issue 22) agree with a running outlet,
# with real redis, on every row of the unit decision table
# (tests/unit/acl-decisions.txt, which check_acl runs through acl_admit).
# One outlet node serves [outlet tN] for row N (its allow and deny lines);
# the identity "me" runs one inlet node per credential of the table (the
# row's attributes, issued by corp), with an inlet for each row that shows
# it.  For each row: `policy explain --peer me --credential ... --service
# tN` and a real PING through the inlet must both give the table's
# decision, with the same rule= on an allow (the outlet's audit line).
# Then `check --expect` holds for the table's rows written as
# expectations, and fails on purpose (exit 1, the line as -expected
# +decided) when one is turned around.
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli

start_redis
TABLE="$top_srcdir/tests/unit/acl-decisions.txt"
CA_ID=$("$SALLYPORT" authority create "$WORK/ca.key" | tail -n 1)
OUT_ID=$(make_identity out)
ID_me=$(make_identity me)
ID_other=$(make_identity other)
NODE_PORT=$(free_port)

# The rows, numbered, tab-separated: N allow deny attrs want entry.
awk -F ' ; ' '!/^#/ && NF == 5 { n++; printf "%d\t%s\t%s\t%s\t%s\t%s\n",
    n, $1, $2, $3, $4, $5 }' "$TABLE" >"$WORK/rows"
[ "$(wc -l <"$WORK/rows")" -ge 20 ] || die "the table has too few rows"
{
	ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT"
	ini_authorities corp "$CA_ID"
	ini_peers me "$ID_me" other "$ID_other"
	while IFS='	' read -r n allow deny attrs want entry; do
		echo "[outlet t$n]"
		echo "target = 127.0.0.1:$REDIS_PORT"
		[ "$allow" = - ] || echo "allow = $allow"
		[ "$deny" = - ] || echo "deny = $deny"
		echo
	done <"$WORK/rows"
} >"$WORK/out.ini"
start_node out "$WORK/out.ini"

# One credential (and inlet node) per distinct attribute set; "-": none.
cut -f4 "$WORK/rows" | sort -u >"$WORK/creds"
k=0
while read -r attrs; do
	k=$((k + 1))
	echo "$attrs" >"$WORK/c$k.attrs"
	extra=""
	if [ "$attrs" != - ]; then
		set --
		for a in $(echo "$attrs" | tr ',' ' '); do
			set -- "$@" --attr "$a"
		done
		"$SALLYPORT" credential issue --authority "$WORK/ca.key" \
		    --subject "$ID_me" --out "$WORK/c$k.cred" --ttl 1h "$@" \
		    >/dev/null || die "credential issue $attrs failed"
		extra="credential = c$k.cred"
	fi
	{
		ini_node "$WORK/me.key" "" ${extra:+"$extra"}
		ini_peers server "$OUT_ID"
		while IFS='	' read -r n allow deny a want entry; do
			[ "$a" = "$attrs" ] || continue
			p=$(free_port)
			echo "$p" >"$WORK/port$n"
			echo "$k" >"$WORK/cred$n"
			ini_inlet "t$n" "127.0.0.1:$p" \
			    "server@127.0.0.1:$NODE_PORT"
		done <"$WORK/rows"
	} >"$WORK/in$k.ini"
	start_node "in$k" "$WORK/in$k.ini"
done <"$WORK/creds"

while IFS='	' read -r n allow deny attrs want entry; do
	k=$(cat "$WORK/cred$n")
	set -- --peer me --service "t$n"
	[ "$attrs" = - ] || set -- "$@" --credential "$WORK/c$k.cred"
	rc=0
	"$SALLYPORT" policy explain "$WORK/out.ini" "$@" >"$WORK/explain$n" \
	    2>&1 || rc=$?
	case $rc in
	0) said=allow ;;
	1) said=deny ;;
	*) die "row $n: explain exit $rc: $(cat "$WORK/explain$n")" ;;
	esac
	got=$(redis-cli -h 127.0.0.1 -p "$(cat "$WORK/port$n")" PING 2>&1 ||
	    true)
	[ "$got" = PONG ] && ran=allow || ran=deny
	[ "$said" = "$want" ] && [ "$ran" = "$want" ] ||
		die "row $n ($allow / $deny / $attrs): table $want, explain" \
		    "$said ($(cat "$WORK/explain$n")), run $ran"
	if [ "$want" = allow ] && [ "$entry" != - ]; then
		grep -q "^allow service=t$n role=outlet rule=$entry (" \
		    "$WORK/explain$n" || die "row $n: explain names no" \
		    "rule=$entry: $(cat "$WORK/explain$n")"
		wait_for_event "$WORK/out.log" 5 event=audit decision=allow \
		    "service=t$n" "rule=$entry"
	fi
	if [ "$want" = deny ] && [ "$entry" != - ]; then
		[ "$entry" = me ] && entry=$ID_me
		grep -q "reason=denied deny_rule=$entry " "$WORK/explain$n" ||
			die "row $n: explain: $(cat "$WORK/explain$n")"
		wait_for_event "$WORK/out.log" 5 event=audit decision=deny \
		    reason=denied "service=t$n" "deny_rule=$entry"
	fi
done <"$WORK/rows"
say "explain and run agree on $(wc -l <"$WORK/rows") rows"

# check --expect: the rows that name no peer, as expectations (the
# credential described by its attributes; no credential: the peer me).
while IFS='	' read -r n allow deny attrs want entry; do
	case "$allow $deny" in *me* | *other*) continue ;; esac
	if [ "$attrs" = - ]; then
		echo "me t$n $want"
	else
		echo "$(echo "$attrs" | tr ',' '+')@corp t$n $want"
	fi
done <"$WORK/rows" >"$WORK/expect"
[ "$(wc -l <"$WORK/expect")" -ge 10 ] || die "too few expectations"
"$SALLYPORT" check --expect "$WORK/expect" "$WORK/out.ini" \
    >"$WORK/expect.out" 2>&1 || die "check --expect: $(cat "$WORK/expect.out")"
grep -q "^expect   .*: \([0-9]*\) of \1 expectations hold$" \
    "$WORK/expect.out" || die "no summary: $(cat "$WORK/expect.out")"
# Turn the first one around: exit 1 and the diff.
awk 'NR == 1 { $3 = ($3 == "allow" ? "deny" : "allow") } { print }' \
    "$WORK/expect" >"$WORK/expect.bad"
first=$(head -n 1 "$WORK/expect.bad")
rc=0
"$SALLYPORT" check --expect "$WORK/expect.bad" "$WORK/out.ini" \
    >"$WORK/bad.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "check --expect with a wrong line: exit $rc"
grep -qF -- "-$WORK/expect.bad:1: $first" "$WORK/bad.out" ||
	die "no -expected line: $(cat "$WORK/bad.out")"
grep -q -- "^+$WORK/expect.bad:1: " "$WORK/bad.out" ||
	die "no +decided line: $(cat "$WORK/bad.out")"
say "check --expect: $(grep -c . "$WORK/expect") hold; turned: $(grep '^+' "$WORK/bad.out")"
say "ok"
