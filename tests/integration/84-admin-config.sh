#!/bin/sh
# The admin address in the config (docs/config.md): a non-loopback admin
# without admin_public = yes is a config error naming FILE:LINE (exit 78);
# with it the file is accepted; an admin unix socket (mode 0600) answers
# `sallyport probe http://unix:/SOCKET:/readyz`.
. "$(dirname "$0")/lib.sh"

OUT_ID=$(make_identity out)
make_identity in >/dev/null
# conf(admin-lines...): an inlet node with the given extra [node] lines.
conf()
{
	ini_node "$WORK/in.key" "" "$@"
	ini_peers server "$OUT_ID"
	ini_inlet db "127.0.0.1:$(free_port)" "server@127.0.0.1:$(free_port)"
}
conf "admin = 0.0.0.0:9400" >"$WORK/public.ini"
rc=0
"$SALLYPORT" check "$WORK/public.ini" >"$WORK/check.out" 2>&1 || rc=$?
[ "$rc" = 78 ] || die "non-loopback admin: exit $rc, want 78"
line=$(grep -n '^admin = ' "$WORK/public.ini" | cut -d: -f1)
grep -q "public.ini:$line: admin address 0.0.0.0:9400 is not loopback" \
	"$WORK/check.out" || die "no FILE:LINE error: $(cat "$WORK/check.out")"
conf "admin = [::]:9400" >"$WORK/public6.ini"
"$SALLYPORT" check "$WORK/public6.ini" >/dev/null 2>&1 &&
	die "[::] admin accepted without admin_public"
conf "admin = 0.0.0.0:9400" "admin_public = yes" >"$WORK/ok.ini"
"$SALLYPORT" check "$WORK/ok.ini" >"$WORK/check.out" 2>&1 ||
	die "admin_public = yes refused: $(cat "$WORK/check.out")"
grep -q "warning: admin endpoint on 0.0.0.0:9400" "$WORK/check.out" ||
	die "check does not warn about a public admin: $(cat "$WORK/check.out")"
conf "admin_public = maybe" >"$WORK/bad.ini"
"$SALLYPORT" check "$WORK/bad.ini" >/dev/null 2>&1 &&
	die "admin_public = maybe accepted"

# A unix socket admin endpoint.
conf "admin = unix:$WORK/admin.sock" >"$WORK/unix.ini"
start_node in "$WORK/unix.ini"
[ "$(stat -c %a "$WORK/admin.sock")" = 600 ] || die "admin socket not 0600"
"$SALLYPORT" probe "http://unix:$WORK/admin.sock:/healthz" >/dev/null ||
	die "probe over the unix socket failed"
"$SALLYPORT" probe "http://unix:$WORK/admin.sock:/readyz" >/dev/null ||
	die "readyz over the unix socket failed"
"$SALLYPORT" probe "unix:$WORK/admin.sock" >/dev/null ||
	die "connect probe of the unix socket failed"
say "ok"
