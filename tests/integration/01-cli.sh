#!/bin/sh
# 01-cli: the sallyport command line: help, version, exit codes (sysexits),
# identity create/show, check, and key interoperability with openssl.
set -eu

: "${SALLYPORT:?run from make check}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect STATUS CMD...: run CMD, stdout in $T/out, stderr in $T/err.
expect() {
	want=$1
	shift
	set +e
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	if [ "$rc" -ne "$want" ]; then
		cat "$T/out" "$T/err" >&2
		fail "$* exited $rc, expected $want"
	fi
}

# has FILE PATTERN: FILE has a line matching the extended regex PATTERN.
has() {
	grep -Eq -- "$2" "$1" || { cat "$1" >&2; fail "no /$2/ in $1"; }
}

# Help, version, usage errors (EX_USAGE = 64).
expect 0 "$SALLYPORT" --help
has "$T/out" '^usage: sallyport '
# The top-level help shows every command's whole synopsis, and the man
# page's SYNOPSIS names every command and run's --no-sandbox.
has "$T/out" 'credential issue .*--ttl DURATION .*--out FILE'
has "$T/out" 'run \[--no-sandbox\] FILE'
for c in run check 'identity create' 'identity show' intercept-rules \
    'authority create' 'credential issue' 'credential show' probe help \
    'policy explain'; do
	sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' \
	    "$top_srcdir/man/sallyport.8" | grep -q "^\.Cm $c\$" ||
		fail "man page synopsis lacks $c"
done
sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' "$top_srcdir/man/sallyport.8" |
	grep -q '^\.Op Fl -no-sandbox$' || fail "man page synopsis lacks --no-sandbox"
has "$T/out" 'identity create FILE'
expect 0 "$SALLYPORT" -h
expect 0 "$SALLYPORT" --version
has "$T/out" '^sallyport [0-9]+\.[0-9]+\.[0-9]+$'
expect 64 "$SALLYPORT"
has "$T/err" '^usage: '
expect 64 "$SALLYPORT" frobnicate
has "$T/err" '^sallyport: unknown command "frobnicate"'
expect 64 "$SALLYPORT" --frobnicate check x
has "$T/err" '^sallyport: bad option'
expect 64 "$SALLYPORT" --log-level loud check x
has "$T/err" '^sallyport: --log-level must be'
expect 0 "$SALLYPORT" help check
has "$T/out" '^usage: sallyport check \[--expect EXPECT\] FILE'
expect 0 "$SALLYPORT" check --help
has "$T/out" '^usage: sallyport check \[--expect EXPECT\] FILE'
expect 64 "$SALLYPORT" policy explain
has "$T/err" '^sallyport: policy explain: FILE, --peer and --service are needed'
expect 64 "$SALLYPORT" policy explain x --peer y --service z --bogus
has "$T/err" '^sallyport: policy explain: unknown option --bogus'
expect 0 "$SALLYPORT" help identity create
has "$T/out" '^usage: sallyport identity create FILE'
expect 0 "$SALLYPORT" identity show -h
has "$T/out" '^usage: sallyport identity show FILE'
expect 0 "$SALLYPORT" help identity
has "$T/out" 'sallyport identity show FILE'
expect 64 "$SALLYPORT" help nothing
expect 64 "$SALLYPORT" identity
has "$T/err" 'sallyport identity create FILE'
expect 64 "$SALLYPORT" identity destroy x
has "$T/err" 'unknown command "destroy"'
expect 64 "$SALLYPORT" identity create
has "$T/err" 'expected 1 argument'
expect 64 "$SALLYPORT" identity create a b
expect 64 "$SALLYPORT" check --verbose x
has "$T/err" 'unknown option --verbose'
# Every command answers --help (and -h) with its usage, exit 0.
for c in run check "identity create" "identity show"; do
	# shellcheck disable=SC2086 # two-word commands split on purpose
	expect 0 "$SALLYPORT" $c --help
	has "$T/out" "^usage: sallyport $c .*FILE"
	has "$T/out" '--log-level LEVEL'
	# shellcheck disable=SC2086
	expect 0 "$SALLYPORT" $c -h
done
expect 0 "$SALLYPORT" identity --help
has "$T/out" 'sallyport identity create FILE'
expect 0 "$SALLYPORT" help --help
has "$T/out" '^usage: sallyport help'
expect 0 "$SALLYPORT" --log-level debug run --help
# Global options after the command: bad values and missing arguments.
expect 64 "$SALLYPORT" check --log-level loud x
has "$T/err" '^sallyport: --log-level must be'
expect 64 "$SALLYPORT" check x --log-level
has "$T/err" '^sallyport: check: --log-level needs an argument'

# identity create: mode 0600, identifier printed, never overwrites
# (EX_CANTCREAT = 73).
expect 0 "$SALLYPORT" identity create "$T/a.key"
has "$T/out" '^I[0-9a-f]{64}$'
id_a=$(cat "$T/out")
[ "$(stat -c %a "$T/a.key")" = 600 ] || fail "mode of a.key"
has "$T/a.key" '^-----BEGIN PRIVATE KEY-----$'
expect 0 "$SALLYPORT" identity show "$T/a.key"
[ "$(cat "$T/out")" = "$id_a" ] || fail "show differs from create"
cp "$T/a.key" "$T/a.copy"
expect 73 "$SALLYPORT" identity create "$T/a.key"
has "$T/err" '^sallyport: .*/a.key: already exists'
cmp "$T/a.key" "$T/a.copy" || fail "a.key was overwritten"

# identity show errors: missing (EX_NOINPUT = 66), garbage (EX_DATAERR =
# 65), readable by others (EX_NOPERM = 77).
expect 66 "$SALLYPORT" identity show "$T/missing.key"
has "$T/err" 'cannot open'
printf 'garbage\n' >"$T/junk.key"
chmod 600 "$T/junk.key"
expect 65 "$SALLYPORT" identity show "$T/junk.key"
has "$T/err" 'no key found'
chmod 644 "$T/a.key"
expect 77 "$SALLYPORT" identity show "$T/a.key"
has "$T/err" "fix: chmod 600 $T/a.key"
chmod 600 "$T/a.key"

# check: a valid file, then errors (EX_CONFIG = 78) named FILE:LINE.
root_ok=
[ "$(id -u)" != 0 ] || root_ok="allow_root = yes"
cat >"$T/node.ini" <<EOT
[node]
identity = a.key
listen = 127.0.0.1:7400
$root_ok

[peers]
me = $id_a

[outlet echo]
target = 127.0.0.1:7
allow = me
EOT
expect 0 "$SALLYPORT" check "$T/node.ini"
has "$T/out" ': OK$'
has "$T/out" "^node +$id_a\$"
has "$T/out" '^outlet +echo -> 127.0.0.1:7, allow: me'
# An outlet (and a relay name) admitting by attribute rule only: the
# summary shows the rule that run honours, not "nobody".
ca_id=$("$SALLYPORT" authority create "$T/ca.key" | tail -n 1)
cat >"$T/rule.ini" <<EOT
[node]
identity = a.key
listen = 127.0.0.1:7400
$root_ok

[authorities]
corp = $ca_id

[outlet echo]
target = 127.0.0.1:7
allow = role=app@corp
deny = role=app+!env=test|dev@corp, me

[relay db]
register = role=db@corp
allow = me, role=app+env=prod@corp
deny = role=app+env=staging|qa@corp

[peers]
me = $id_a
EOT
expect 0 "$SALLYPORT" check "$T/rule.ini"
has "$T/out" '^relay +db, register: role=db@corp; allow: me \('"$id_a"'\), env=prod\+role=app@corp; deny: env=qa\|staging\+role=app@corp$'
has "$T/out" '^outlet +echo -> 127.0.0.1:7, allow: role=app@corp; deny: me \('"$id_a"'\), !env=dev\|test\+role=app@corp$'
sed 's/^allow = me/allow = you/' "$T/node.ini" >"$T/bad.ini"
expect 78 "$SALLYPORT" check "$T/bad.ini"
has "$T/err" "^sallyport: $T/bad.ini:11: unknown peer \"you\""
sed 's/^identity = a.key/identity = none.key/' "$T/node.ini" >"$T/nokey.ini"
expect 78 "$SALLYPORT" check "$T/nokey.ini"
has "$T/err" "^sallyport: $T/nokey.ini:2: $T/none.key: cannot open"
chmod 640 "$T/a.key"
if [ "$(id -u)" -ne 0 ]; then
	expect 78 "$SALLYPORT" check "$T/node.ini"
	has "$T/err" "^sallyport: $T/node.ini:2: .*fix: chmod 600"
fi
chmod 604 "$T/a.key"
expect 78 "$SALLYPORT" check "$T/node.ini"
has "$T/err" "^sallyport: $T/node.ini:2: .*fix: chmod 600 $T/a.key"
chmod 600 "$T/a.key"
expect 78 "$SALLYPORT" check "$T/missing.ini"
expect 0 "$SALLYPORT" --log-level debug check "$T/node.ini"
# ... and after it, before or after the file.
expect 0 "$SALLYPORT" check --log-level debug "$T/node.ini"
has "$T/out" ': OK$'
expect 0 "$SALLYPORT" check "$T/node.ini" --syslog --log-level error
has "$T/out" ': OK$'
expect 0 "$SALLYPORT" identity show --log-level warn "$T/a.key"
[ "$(cat "$T/out")" = "$id_a" ] || fail "show with an option after it"

# check reports every error, in the order found, and exits 78 once.
cat >"$T/many.ini" <<EOT
[node]
identity = a.key
listen = 127.0.0.1:0
colour = blue
[peers]
me = $id_a
[outlet echo]
target = 127.0.0.1:7
allow = you
junk
EOT
expect 78 "$SALLYPORT" check "$T/many.ini"
[ "$(wc -l <"$T/err")" -eq 4 ] || { cat "$T/err" >&2; fail "expected 4 errors"; }
has "$T/err" "^sallyport: $T/many.ini:3: listen: invalid port"
has "$T/err" "^sallyport: $T/many.ini:4: unknown key \"colour\""
has "$T/err" "^sallyport: $T/many.ini:10: syntax error"
has "$T/err" "^sallyport: $T/many.ini:9: unknown peer \"you\""
# At most 50 are printed, then how many more there were.
{
	printf '[node]\nidentity = a.key\n'
	i=0
	while [ $i -lt 60 ]; do
		echo "bad$i = 1"
		i=$((i + 1))
	done
} >"$T/sixty.ini"
expect 78 "$SALLYPORT" check "$T/sixty.ini"
[ "$(grep -c 'unknown key' "$T/err")" -eq 50 ] || fail "expected 50 errors"
has "$T/err" "^sallyport: $T/sixty.ini: 10 more errors not shown$"
# run reports the first error only.
expect 78 "$SALLYPORT" run "$T/many.ini"
[ "$(wc -l <"$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "run: one error"; }
has "$T/err" "^sallyport: $T/many.ini:3: listen: invalid port"

# check warns (exit 0) about an inlet reachable from other hosts.
cat >"$T/inlets.ini" <<EOT
[node]
identity = a.key
$root_ok
[peers]
me = $id_a
[inlet wide]
listen = 0.0.0.0:15432
outlet = me@127.0.0.1:7400
[inlet local]
listen = 127.0.0.2:15433
outlet = me@127.0.0.1:7400
[inlet six]
listen = [::1]:15434
outlet = me@127.0.0.1:7400
[inlet sock]
listen = unix:$T/pg.sock
outlet = me@127.0.0.1:7400
EOT
expect 0 "$SALLYPORT" check "$T/inlets.ini"
has "$T/out" ': OK$'
has "$T/err" "^sallyport: $T/inlets.ini:6: warning: \[inlet wide\] listens on 0.0.0.0:15432, not on loopback"
[ "$(wc -l <"$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "one warning only"; }

# Interoperability with openssl, when it is installed.
if ! command -v openssl >/dev/null 2>&1; then
	echo "openssl not found: interop part skipped"
	exit 0
fi
# Identifier as openssl derives it: SHA-256 of the 65-byte public point.
openssl_id() {
	printf 'I%s\n' "$(openssl pkey -in "$1" -pubout -outform DER |
		tail -c 65 | sha256sum | cut -c1-64)"
}
openssl pkey -in "$T/a.key" -noout || fail "openssl cannot read our key"
[ "$(openssl_id "$T/a.key")" = "$id_a" ] || fail "identifier differs from openssl's"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$T/o.key" 2>/dev/null
chmod 600 "$T/o.key"
expect 0 "$SALLYPORT" identity show "$T/o.key"
[ "$(cat "$T/out")" = "$(openssl_id "$T/o.key")" ] || fail "PKCS#8 id"
openssl ec -in "$T/o.key" -out "$T/o-sec1.key" 2>/dev/null
chmod 600 "$T/o-sec1.key"
has "$T/o-sec1.key" '^-----BEGIN EC PRIVATE KEY-----$'
expect 0 "$SALLYPORT" identity show "$T/o-sec1.key"
[ "$(cat "$T/out")" = "$(openssl_id "$T/o.key")" ] || fail "SEC1 id"
openssl pkey -in "$T/o.key" -pubout -out "$T/o.pub"
chmod 644 "$T/o.pub"
expect 0 "$SALLYPORT" identity show "$T/o.pub"
[ "$(cat "$T/out")" = "$(openssl_id "$T/o.key")" ] || fail "public key id"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
	-out "$T/p384.key" 2>/dev/null
chmod 600 "$T/p384.key"
expect 65 "$SALLYPORT" identity show "$T/p384.key"
has "$T/err" 'key is on P-384, not P-256'
openssl genpkey -algorithm ed25519 -out "$T/ed.key" 2>/dev/null
chmod 600 "$T/ed.key"
expect 65 "$SALLYPORT" identity show "$T/ed.key"
has "$T/err" 'unsupported key algorithm'
echo "01-cli: all passed"
