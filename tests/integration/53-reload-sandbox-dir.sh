#!/bin/sh
# A reload that names a file in a directory the sandbox did not grant at
# start (issue 19, informational; docs/security.md "Landlock"): Landlock's
# rules are made once, from the directories of the files named at start,
# so a `revoked` file in a new directory cannot be read.  The reload must
# fail with that reason (not a bare "Permission denied") and change
# nothing; `sallyport check` says so too; the same file in the key's
# directory then reloads fine.  Skips where Landlock is not in force (an
# ASan build, an old kernel).
. "$(dirname "$0")/lib.sh"

ECHO_PORT=$(free_port)
start_echo "127.0.0.1:$ECHO_PORT"
tunnel_configs echo "127.0.0.1:$ECHO_PORT"
# The outlet's files in $WORK/etc: the sandbox reads beneath it only.
mkdir "$WORK/etc"
mv "$WORK/out.key" "$WORK/etc/out.key"
sed "s|^identity = .*|identity = $WORK/etc/out.key|" "$WORK/out.ini" \
    >"$WORK/etc/out.ini"
CONF=$WORK/etc/out.ini
"$SALLYPORT" check "$CONF" >"$WORK/check.out" 2>&1 ||
	die "check: $(cat "$WORK/check.out")"
grep -q '^reload   .*a new directory needs a restart' "$WORK/check.out" ||
	die "check says nothing of the sandbox's directories"
start_node out "$CONF"
case $(field "$(grep 'event=ready' "$WORK/out.log")" sandbox) in
*landlock*) ;;
*) skip "Landlock is not in force here: $(grep 'event=ready' "$WORK/out.log")" ;;
esac

mkdir "$WORK/newdir"
: >"$WORK/newdir/revoked.txt"
cp "$CONF" "$WORK/out.ini.orig"
sed "s|^\[node\]|[node]\nrevoked = $WORK/newdir/revoked.txt|" \
    "$WORK/out.ini.orig" >"$WORK/out.ini.new"
mv -f "$WORK/out.ini.new" "$CONF"
reload_node out failed
say "revoked file in a new directory: $RELOAD_LINE"
case $RELOAD_LINE in
*"$WORK/newdir/revoked.txt: outside the directories the sandbox lets"*)
	;;
*) die "the reload failed without saying why: $RELOAD_LINE" ;;
esac
proc_alive "$PID_out" || die "the node died"

# The same file where the sandbox reads (the key's directory): fine.
: >"$WORK/etc/revoked.txt"
sed "s|^\[node\]|[node]\nrevoked = $WORK/etc/revoked.txt|" \
    "$WORK/out.ini.orig" >"$WORK/out.ini.new"
mv -f "$WORK/out.ini.new" "$CONF"
reload_node out ok
say "revoked file in the key's directory: $RELOAD_LINE"
say "ok"
