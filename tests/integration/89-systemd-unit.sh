#!/bin/sh
# The systemd unit (contrib/systemd/sallyport@.service, made from its .in
# by make): `systemd-analyze verify` finds nothing wrong with it, its
# `systemd-analyze security --offline=true` exposure is 2.0 or less, and
# it is Type=notify with an ExecReload that sends SIGHUP (issue 9 part 3).
# The authority host's drop-in (contrib/systemd/authority.conf, issue 21):
# with it the instance sallyport@corp verifies clean, its exposure stays
# 2.0 or less, and its StateDirectory is where the store is by default
# (/var/lib/sallyport/NAME.db): `sallyport check` of an [authority corp]
# without `store =` names that file.
# Skips without systemd-analyze.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null 2>&1 || skip "no systemd-analyze"

UNIT_IN="$top_builddir/contrib/systemd/sallyport@.service"
[ -f "$UNIT_IN" ] || die "no $UNIT_IN (make builds it from its .in)"
# The unit names the installed binary: point it at the one built here.
bindir=$(sed -n 's|^ExecStart=\(.*\)/sallyport run .*|\1|p' "$UNIT_IN")
[ -n "$bindir" ] || die "no ExecStart=.../sallyport run in the unit"
sed "s|$bindir/sallyport|$(cd "$(dirname "$SALLYPORT")" && pwd)/sallyport|g" \
	"$UNIT_IN" >"$WORK/sallyport@.service"

grep -qx 'Type=notify' "$WORK/sallyport@.service" || die "not Type=notify"
grep -q '^ExecReload=.*kill -HUP \$MAINPID' "$WORK/sallyport@.service" ||
	die "no ExecReload sending SIGHUP"

(cd "$WORK" && systemd-analyze verify --man=no ./sallyport@.service) \
	>"$WORK/verify.out" 2>&1 || die "verify failed: $(cat "$WORK/verify.out")"
[ ! -s "$WORK/verify.out" ] || die "verify: $(cat "$WORK/verify.out")"

(cd "$WORK" && systemd-analyze security --offline=true \
	./sallyport@.service) >"$WORK/security.out" 2>&1 ||
	die "security failed: $(tail -n 5 "$WORK/security.out")"
level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' \
	"$WORK/security.out")
[ -n "$level" ] || die "no exposure level: $(tail -n 3 "$WORK/security.out")"
say "exposure level $level"
awk -v l="$level" 'BEGIN { exit !(l + 0 <= 2.0) }' ||
	die "exposure level $level is over 2.0"

# --- the authority drop-in, next to the unit as in /etc/systemd/system ----
mkdir "$WORK/sallyport@.service.d"
cp "$top_srcdir/contrib/systemd/authority.conf" "$WORK/sallyport@.service.d/"
(cd "$WORK" && systemd-analyze verify --man=no ./sallyport@corp.service) \
	>"$WORK/verify-auth.out" 2>&1 ||
	die "verify with authority.conf failed: $(cat "$WORK/verify-auth.out")"
[ ! -s "$WORK/verify-auth.out" ] ||
	die "verify with authority.conf: $(cat "$WORK/verify-auth.out")"
# The drop-in is read (a broken copy is reported), so the clean run above
# covered it.
echo "StateDirektory=x" >>"$WORK/sallyport@.service.d/authority.conf"
(cd "$WORK" && systemd-analyze verify --man=no ./sallyport@corp.service) \
	>"$WORK/verify-bad.out" 2>&1 || true
grep -q 'authority.conf.*StateDirektory' "$WORK/verify-bad.out" ||
	die "systemd-analyze did not read the drop-in: $(cat "$WORK/verify-bad.out")"
cp "$top_srcdir/contrib/systemd/authority.conf" "$WORK/sallyport@.service.d/"
(cd "$WORK" && systemd-analyze security --offline=true \
	./sallyport@corp.service) >"$WORK/security-auth.out" 2>&1 ||
	die "security with authority.conf failed: $(tail -n 5 "$WORK/security-auth.out")"
alevel=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' \
	"$WORK/security-auth.out")
[ -n "$alevel" ] || die "no exposure level: $(tail -n 3 "$WORK/security-auth.out")"
awk -v l="$alevel" 'BEGIN { exit !(l + 0 <= 2.0) }' ||
	die "exposure level with authority.conf $alevel is over 2.0"
say "authority.conf: exposure level $alevel"
sd=$(sed -n 's/^StateDirectory=//p' "$top_srcdir/contrib/systemd/authority.conf")
[ "$sd" = sallyport ] || die "StateDirectory is '$sd', not sallyport"
grep -qx 'StateDirectoryMode=0700' "$top_srcdir/contrib/systemd/authority.conf" ||
	die "the state directory is not 0700"
grep -qx 'UMask=0077' "$WORK/sallyport@.service" || die "the unit's UMask is not 0077"
# The store's default is in that directory: what check reports for an
# [authority corp] without store =.
"$SALLYPORT" authority create "$WORK/corp.key" >/dev/null || die "authority create failed"
make_identity authnode >/dev/null
{
	ini_node authnode.key 127.0.0.1:7400
	echo "[authority corp]"
	echo "key = corp.key"
} >"$WORK/corp.ini"
"$SALLYPORT" check "$WORK/corp.ini" >"$WORK/check-auth.out" 2>&1 || true
grep -q "/var/lib/$sd/corp.db" "$WORK/check-auth.out" ||
	die "check does not name /var/lib/$sd/corp.db: $(cat "$WORK/check-auth.out")"
say "ok"
