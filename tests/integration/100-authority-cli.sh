#!/bin/sh
# The authority's command line on its store (issue 21): tokens made,
# listed and revoked; members added, changed, removed; check of an
# [authority NAME] section; every bad input refused with its exit status
# and a message; the secret never in the store; two processes writing the
# store at once (a token loop and a member loop): every call succeeds and
# nothing is lost.
. "$(dirname "$0")/lib.sh"
need python3

S=$SALLYPORT
CA_ID=$("$S" authority create "$WORK/ca.key" | tail -n 1)
NODE_ID=$(make_identity node)
M1=$(make_identity m1)
PORT=$(free_port)
CFG=$WORK/auth.ini
{
	ini_node node.key "127.0.0.1:$PORT"
	echo "[authority corp]"
	echo "key = ca.key"
	echo "store = store/corp.db"
	echo "token_ttl = 20m"
} >"$CFG"

# expect(status, command...): run it, its status must be ${status};
# stdout in $WORK/out, stderr in $WORK/err.
expect()
{
	_want=$1
	shift
	_rc=0
	"$@" >"$WORK/out" 2>"$WORK/err" || _rc=$?
	[ "$_rc" = "$_want" ] ||
		die "$* exited $_rc, not $_want: $(cat "$WORK/out" "$WORK/err")"
}

# err_has(text): the last command's stderr says ${text}.
err_has()
{
	grep -qF -- "$1" "$WORK/err" ||
		die "stderr lacks \"$1\": $(cat "$WORK/err")"
}

# --- check: the store's directory must exist --------------------------
expect 78 "$S" check "$CFG"
err_has "auth.ini:8: store $WORK/store/corp.db: its directory $WORK/store does not exist"
mkdir "$WORK/store"
expect 0 "$S" check "$CFG"
grep -qx "authority corp, store $WORK/store/corp.db, credentials for 3600s, tokens for 1200s, tokens carry 127.0.0.1:$PORT" \
	"$WORK/out" || die "check summary: $(cat "$WORK/out")"
sed 's/^key = ca.key/key = nokey.key/' "$CFG" >"$WORK/bad.ini"
expect 78 "$S" check "$WORK/bad.ini"
err_has "bad.ini:7: $WORK/nokey.key: cannot open"
printf '[node]\nidentity = node.key\nlisten = 0.0.0.0:%s\nallow_root = yes\n[authority corp]\nkey = ca.key\n' \
	"$PORT" >"$WORK/wild.ini"
expect 78 "$S" check "$WORK/wild.ini"
err_has "wild.ini:5: [authority corp] needs address = HOST:PORT"

# --- tokens ------------------------------------------------------------
expect 0 "$S" authority token create "$CFG" corp --attr role=web \
	--attr env=prod --uses 2
[ "$(wc -l <"$WORK/out")" = 1 ] || die "token create printed more than a line"
TOKEN=$(cat "$WORK/out")
printf '%s\n' "$TOKEN" | grep -Eq \
	"^sallyport-token-1:corp:$CA_ID:127\.0\.0\.1:$PORT:[A-Za-z0-9_-]{43}\$" ||
	die "bad token line: $TOKEN"
REF=$(grep -Eo 'token T[a-z2-7]{11}' "$WORK/err" | cut -d' ' -f2)
[ -n "$REF" ] || die "no reference on stderr: $(cat "$WORK/err")"
err_has "2 uses, expires"
expect 0 "$S" authority token list "$CFG" corp
grep -q "^$REF usable uses=2 .* by=cli:.* attrs=role=web,env=prod\$" \
	"$WORK/out" || die "token list: $(cat "$WORK/out")"

# The store holds the secret's hash, never the secret (text or bytes).
SECRET=${TOKEN##*:}
python3 - "$SECRET" "$WORK"/store/corp.db* <<'PY' || die "the secret is in the store"
import base64, sys
s = sys.argv[1]
raw = base64.urlsafe_b64decode(s + "=")
for f in sys.argv[2:]:
    data = open(f, "rb").read()
    if s.encode() in data or raw in data:
        sys.exit(1)
PY
[ "$(stat -c %a "$WORK/store/corp.db")" = 600 ] || die "store mode is not 0600"

# A second token with the section's token_ttl, then revoked.
expect 0 "$S" authority token create "$CFG" corp
REF2=$(grep -Eo 'token T[a-z2-7]{11}' "$WORK/err" | cut -d' ' -f2)
err_has "1 use, expires"
expect 0 "$S" authority token revoke "$CFG" corp "$REF2"
expect 0 "$S" authority token list "$CFG" corp
grep -q "^$REF2 revoked uses=0 " "$WORK/out" || die "not revoked: $(cat "$WORK/out")"
grep -q "^$REF usable " "$WORK/out" || die "the other token changed"
expect 65 "$S" authority token revoke "$CFG" corp Taaaaaaaaaaa
err_has "authority token revoke: Taaaaaaaaaaa: no-token"

# --- members -----------------------------------------------------------
expect 0 "$S" authority member add "$CFG" corp "$M1" --attr role=db
expect 65 "$S" authority member add "$CFG" corp "$M1"
err_has "already-member"
expect 0 "$S" authority member show "$CFG" corp "$M1"
grep -q "^state       active" "$WORK/out" || die "show: $(cat "$WORK/out")"
grep -q "^attribute   role=db" "$WORK/out" || die "show: $(cat "$WORK/out")"
grep -q "^how         added" "$WORK/out" || die "show: $(cat "$WORK/out")"
expect 0 "$S" authority member set "$CFG" corp "$M1" --attr role=cache \
	--attr env=prod
expect 0 "$S" authority member show "$CFG" corp "$M1"
grep -q "^attribute   role=cache" "$WORK/out" && grep -q "^attribute   env=prod" \
	"$WORK/out" || die "set: $(cat "$WORK/out")"
expect 0 "$S" authority member remove "$CFG" corp "$M1"
expect 65 "$S" authority member unlock "$CFG" corp "$M1"
err_has "member-removed"
expect 0 "$S" authority member list "$CFG" corp
grep -q "^$M1 removed serial=- .* how=added attrs=role=cache,env=prod\$" \
	"$WORK/out" || die "list: $(cat "$WORK/out")"
expect 65 "$S" authority member show "$CFG" corp "$NODE_ID"
err_has "not-member"
expect 65 "$S" authority member remove "$CFG" corp "$NODE_ID"

# --- bad input: usage 64, config 78 -----------------------------------
expect 64 "$S" authority token create "$CFG" corp --uses 0
err_has "--uses: expected 1 to 1000000"
expect 64 "$S" authority token create "$CFG" corp --ttl 5s
err_has "--ttl: expected 1m to 30d"
expect 64 "$S" authority token create "$CFG" corp --attr Role=x
err_has "--attr Role=x: keys are"
expect 64 "$S" authority token create "$CFG" corp --attr a=b --attr a=c \
	--attr c=1 --attr d=1 --attr e=1 --attr f=1 --attr g=1 --attr h=1 \
	--attr i=1
err_has "at most 8 attributes"
expect 74 "$S" authority token create "$CFG" corp --attr a=b --attr a=c
err_has "bad token"
expect 64 "$S" authority token list "$CFG"
expect 64 "$S" authority token list "$CFG" corp extra
expect 64 "$S" authority token list "$CFG" corp --uses 2
expect 64 "$S" authority token revoke "$CFG" corp not-a-ref
expect 64 "$S" authority member add "$CFG" corp I0123
err_has "ID: expected I and 64 lowercase hex digits"
expect 64 "$S" authority member show "$CFG" corp "$M1" --attr a=b
expect 64 "$S" authority token frob
expect 78 "$S" authority token list "$CFG" other
err_has "no [authority other] section"
expect 78 "$S" authority token list "$WORK/nonexistent.ini" corp
expect 0 "$S" authority token create --help
grep -q "^usage: sallyport authority token create CONFIG NAME" "$WORK/out" ||
	die "help: $(cat "$WORK/out")"

# --- the store: unsafe mode, newer schema (74, with the reason) ---------
chmod 0660 "$WORK/store/corp.db"
expect 74 "$S" authority token list "$CFG" corp
err_has "the store is writable by its group (mode 0660)"
chmod 0600 "$WORK/store/corp.db"
cp "$WORK/store/corp.db" "$WORK/store/newer.db"
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version = 9"); c.commit()' \
	"$WORK/store/newer.db"
sed 's/^store = .*/store = store\/newer.db/' "$CFG" >"$WORK/newer.ini"
expect 74 "$S" authority member list "$WORK/newer.ini" corp
err_has "the store's schema is version 9, newer than this sallyport knows (1)"

# --- two processes at once: 40 tokens and 40 members, none lost --------
loop_tokens()
{
	_i=0
	while [ $_i -lt 40 ]; do
		"$S" authority token create "$CFG" corp --attr n=$_i \
			>/dev/null 2>>"$WORK/loop-t.err" || echo fail >>"$WORK/fails"
		_i=$((_i + 1))
	done
}
loop_members()
{
	for _id in $(python3 -c 'import os
for i in range(40): print("I" + os.urandom(32).hex())'); do
		"$S" authority member add "$CFG" corp "$_id" --attr n=1 \
			>/dev/null 2>>"$WORK/loop-m.err" || echo fail >>"$WORK/fails"
	done
}
loop_tokens &
T_PID=$!
loop_members &
M_PID=$!
wait $T_PID
wait $M_PID
[ ! -s "$WORK/fails" ] || die "$(wc -l <"$WORK/fails") calls failed: $(cat "$WORK"/loop-*.err)"
expect 0 "$S" authority token list "$CFG" corp
[ "$(grep -c ' attrs=n=' "$WORK/out")" = 40 ] || die "tokens lost: $(grep -c ' attrs=n=' "$WORK/out")"
expect 0 "$S" authority member list "$CFG" corp
[ "$(grep -c ' attrs=n=1$' "$WORK/out")" = 40 ] || die "members lost"
say "ok"
