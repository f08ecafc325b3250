#!/bin/sh
# The systemd unit (contrib/systemd/sallyport@.service, made from its .in
# by make): `systemd-analyze verify` finds nothing wrong with it, its
# `systemd-analyze security --offline=true` exposure is 2.0 or less, and
# it is Type=notify with an ExecReload that sends SIGHUP (issue 9 part 3).
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
say "ok"
