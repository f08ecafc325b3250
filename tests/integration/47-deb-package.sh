#!/bin/sh
# The Debian package (contrib/debian, issue 24 part 2): in a copy of the
# source tree with contrib/debian copied to debian/ (never in the checkout),
# `dpkg-buildpackage -us -uc -b` makes a .deb that lintian passes without an
# error or a warning; installed with dpkg here it brings the binary, the man
# pages, sallyport@.service (ExecReload: `sallyport check`, then SIGHUP),
# the system user "sallyport" (sysusers.d), /etc/sallyport and the examples.
# Every shipped example passes `sallyport check` as shipped, with real keys
# at the paths it names, in the packaged layout (root:sallyport 0640).  A
# redis tunnel then runs: the outlet as the unit starts it (its ExecStart,
# as User=sallyport), the inlet started as root with `user = sallyport`;
# the unit's ExecReload lines reload the outlet (reload status=ok).  Last,
# `dpkg --purge` leaves nothing behind: none of the package's files, no
# /etc/sallyport; the test removes the user (Debian keeps system users) and
# then finds no file of that uid.  The .deb is cached by source hash
# (srctree.sh): built once for the plain and the ASan run.
#
# Needs root and dpkg-buildpackage, lintian, redis (contrib/scripts/deps.sh);
# skips (77) without them, but fails instead where CI=true.  Refuses to
# touch a machine where sallyport is installed or /etc/sallyport exists.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/integration/srctree.sh"

[ "$(id -u)" = 0 ] || ci_skip "needs root (dpkg -i, a system user)"
for c in dpkg-buildpackage lintian dh systemd-sysusers setpriv redis-server redis-cli; do
	command -v "$c" >/dev/null 2>&1 ||
		ci_skip "$c is not installed (contrib/scripts/deps.sh)"
done
if dpkg-query -W -f='${Status}' sallyport 2>/dev/null | grep -q installed; then
	skip "a sallyport package is installed here already: not touching it"
fi
[ ! -e /etc/sallyport ] || skip "/etc/sallyport exists: not touching it"
USER_BEFORE=no
! id -u sallyport >/dev/null 2>&1 || USER_BEFORE=yes

# --- build (or reuse) the .deb ---
hash=$(src_hash)
DEBDIR="$SP_CACHE/deb-$hash"
DEB="$DEBDIR/sallyport.deb"
if [ -f "$DEB" ]; then
	say "reusing $DEB (source $hash)"
else
	rm -rf "$SP_CACHE"/deb-*
	say "building the package (source $hash)"
	src_copy "$WORK/pkg/sallyport"
	cp -R "$WORK/pkg/sallyport/contrib/debian" "$WORK/pkg/sallyport/debian"
	t0=$(date +%s)
	(cd "$WORK/pkg/sallyport" && DEB_BUILD_OPTIONS=nocheck \
	    dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1 ||
		die "dpkg-buildpackage failed: $(tail -n 40 "$WORK/build.log")"
	t1=$(date +%s)
	say "dpkg-buildpackage: $((t1 - t0)) s"
	lintian --fail-on error,warning "$WORK"/pkg/*.changes \
	    >"$WORK/lintian.out" 2>&1 ||
		die "lintian: $(cat "$WORK/lintian.out")"
	grep -E '^[EW]: ' "$WORK/lintian.out" &&
		die "lintian reported errors or warnings"
	mkdir -p "$DEBDIR.tmp"
	cp "$WORK"/pkg/sallyport_*.deb "$DEBDIR.tmp/sallyport.deb"
	cp "$WORK/lintian.out" "$DEBDIR.tmp/lintian.out"
	mv "$DEBDIR.tmp" "$DEBDIR"
fi
say "lintian: $(grep -c . "$DEBDIR/lintian.out" || true) lines, no E: or W:"

# --- install; on exit stop the nodes, purge, remove the user ---
deb_restore()
{
	set +e
	for _p in $PIDS; do
		stop_pid "$_p"
	done
	PIDS=""
	rm -f /etc/sallyport/*.key /etc/sallyport/*.ini
	if dpkg-query -W -f='${Status}' sallyport 2>/dev/null | grep -q installed; then
		dpkg --purge sallyport >"$WORK/purge.log" 2>&1 ||
			echo "FAIL: $TEST_NAME: dpkg --purge failed: $(cat "$WORK/purge.log")" >&2
	fi
	if [ "$USER_BEFORE" = no ] && id -u sallyport >/dev/null 2>&1; then
		userdel sallyport 2>/dev/null
		! getent group sallyport >/dev/null || groupdel sallyport
	fi
}
trap '_r=$?; deb_restore; (exit $_r); cleanup' EXIT

dpkg -i "$DEB" >"$WORK/install.log" 2>&1 || die "dpkg -i: $(cat "$WORK/install.log")"
dpkg -L sallyport >"$WORK/files"
for f in /usr/bin/sallyport /usr/share/man/man8/sallyport.8.gz \
    /usr/share/man/man5/sallyport.ini.5.gz /lib/systemd/system/sallyport@.service \
    /usr/lib/sysusers.d/sallyport.conf /etc/sallyport \
    /usr/share/doc/sallyport/copyright /usr/share/doc/sallyport/config.md.gz; do
	grep -qx "$f" "$WORK/files" || die "the package lacks $f"
	[ -e "$f" ] || die "$f not installed"
done
id -u sallyport >/dev/null 2>&1 || die "no system user sallyport after dpkg -i"
uid=$(id -u sallyport)
[ "$uid" -lt 1000 ] || die "sallyport is uid $uid, not a system uid"
[ "$(getent passwd sallyport | cut -d: -f7)" = /usr/sbin/nologin ] ||
	die "sallyport has a login shell: $(getent passwd sallyport)"
unit=/lib/systemd/system/sallyport@.service
grep -qx 'ExecStart=/usr/bin/sallyport run /etc/sallyport/%i.ini' "$unit" ||
	die "unexpected ExecStart: $(grep ExecStart "$unit")"
# ExecReload: the check first, then the signal (lines run in order).
sed -n 's/^ExecReload=//p' "$unit" >"$WORK/reload"
[ "$(sed -n 1p "$WORK/reload")" = '/usr/bin/sallyport check /etc/sallyport/%i.ini' ] &&
	[ "$(sed -n 2p "$WORK/reload")" = '/bin/kill -HUP $MAINPID' ] ||
	die "ExecReload is not check-then-HUP: $(cat "$WORK/reload")"
PKG=/usr/bin/sallyport
# From here on every node is the packaged binary (start_node runs $SALLYPORT).
SALLYPORT=$PKG
say "installed: $(grep -c . "$WORK/files") paths, user sallyport uid $uid"

# --- every shipped example, as shipped, with real keys in the layout ---
ex=/usr/share/doc/sallyport/examples
n=0
for ini in "$ex"/*.ini; do
	name=$(basename "$ini" .ini)
	key=$(sed -n 's/^identity *= *//p' "$ini")
	case $key in /etc/sallyport/*.key) ;; *) die "$name.ini: identity $key not under /etc/sallyport" ;; esac
	[ -f "$key" ] || "$PKG" identity create "$key" >/dev/null || die "identity create $key"
	chown root:sallyport "$key"
	chmod 0640 "$key"
	install -o root -g sallyport -m 0640 "$ini" "/etc/sallyport/$name.ini"
	"$PKG" check "/etc/sallyport/$name.ini" >"$WORK/check.out" 2>&1 ||
		die "sallyport check $name.ini: $(cat "$WORK/check.out")"
	grep -q ': OK$' "$WORK/check.out" || die "$name.ini: no OK: $(cat "$WORK/check.out")"
	say "example $name.ini: OK"
	n=$((n + 1))
done
[ "$n" -ge 5 ] || die "only $n examples shipped"

# --- a tunnel in the packaged layout ---
start_redis
NODE_PORT=$(free_port)
INLET_PORT=$(free_port)
DB_ID=$("$PKG" identity show /etc/sallyport/db.key | grep -Eo 'I[0-9a-f]{64}' | tail -n 1)
APP_ID=$("$PKG" identity show /etc/sallyport/app.key | grep -Eo 'I[0-9a-f]{64}' | tail -n 1)
{
	printf '[node]\nidentity = /etc/sallyport/db.key\nuser = sallyport\n'
	printf 'listen = 127.0.0.1:%s\n\n' "$NODE_PORT"
	ini_peers app "$APP_ID"
	ini_outlet redis "127.0.0.1:$REDIS_PORT" app
} >"$WORK/t-out.ini"
{
	printf '[node]\nidentity = /etc/sallyport/app.key\nuser = sallyport\n\n'
	ini_peers db "$DB_ID"
	ini_inlet redis "127.0.0.1:$INLET_PORT" "db@127.0.0.1:$NODE_PORT"
} >"$WORK/t-in.ini"
install -o root -g sallyport -m 0640 "$WORK/t-out.ini" /etc/sallyport/t-out.ini
install -o root -g sallyport -m 0640 "$WORK/t-in.ini" /etc/sallyport/t-in.ini

# The outlet as sallyport@t-out.service runs it: the unit's ExecStart with
# %i expanded, as User=/Group= sallyport.
as_unit="setpriv --reuid sallyport --regid sallyport --init-groups --"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit" | sed 's/%i/t-out/g')
NODE_LOGS="$NODE_LOGS $WORK/out.log"
# shellcheck disable=SC2086
spawn "$WORK/out.log" $as_unit $exec_start
PID_out=$LAST_PID
wait_until 10 node_ready "$WORK/out.log" "$PID_out" out 0 ||
	die "outlet: no event=ready"
# The inlet started by root, switching to [node] user.
start_node in /etc/sallyport/t-in.ini
for p in $PID_out $PID_in; do
	[ "$(stat -c %U "/proc/$p")" = sallyport ] ||
		die "node $p runs as $(stat -c %U "/proc/$p"), not sallyport"
done

[ "$(redis-cli -p "$INLET_PORT" SET pkg through-the-package)" = OK ] ||
	die "SET through the tunnel failed"
[ "$(redis-cli -p "$INLET_PORT" GET pkg)" = through-the-package ] ||
	die "GET through the tunnel failed"
log_has "$WORK/out.log" event=audit decision=allow service=redis "peer=$APP_ID" ||
	die "no allow audit line on the outlet"
say "redis SET/GET through the packaged nodes: ok"

# `systemctl reload`: the unit's ExecReload lines, in order, as the unit.
while read -r line; do
	cmd=$(printf '%s\n' "$line" | sed -e 's/%i/t-out/g' -e "s/\$MAINPID/$PID_out/g")
	# shellcheck disable=SC2086
	$as_unit $cmd >"$WORK/reload.out" 2>&1 || die "ExecReload $cmd: $(cat "$WORK/reload.out")"
done <"$WORK/reload"
wait_for_event "$WORK/out.log" 10 event=reload status=ok
[ "$(redis-cli -p "$INLET_PORT" GET pkg)" = through-the-package ] ||
	die "GET after the reload failed"
# A broken edit: the reload's check refuses it before any signal.
echo 'bogus line' >>/etc/sallyport/t-out.ini
if $as_unit $(sed -n 1p "$WORK/reload" | sed 's/%i/t-out/g') >"$WORK/reload.out" 2>&1; then
	die "ExecReload's check passed a broken file"
fi
say "reload: check then SIGHUP ok; a broken file stops at the check: $(head -n 1 "$WORK/reload.out")"

# --- purge leaves nothing behind ---
deb_restore
trap cleanup EXIT
dpkg-query -W -f='${Status}' sallyport 2>/dev/null | grep -q 'installed' &&
	die "still installed after dpkg --purge"
while read -r f; do
	# Directories shared with other packages stay.
	case $f in
	*sallyport*) ;;
	*) [ -d "$f" ] && continue ;;
	esac
	[ ! -e "$f" ] || die "$f left behind after the purge"
done <"$WORK/files"
id -u sallyport >/dev/null 2>&1 && [ "$USER_BEFORE" = no ] && die "user sallyport left behind"
left=$(find /etc /var /run /tmp /usr -xdev -uid "$uid" 2>/dev/null | head -n 5)
[ -z "$left" ] || [ "$USER_BEFORE" = yes ] || die "files of uid $uid left: $left"
say "purged: no file, no /etc/sallyport, no user left"
say "ok"
