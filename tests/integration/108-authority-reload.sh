#!/bin/sh
# The authority row at a reload (issue 21):
# - a running node that gains [authority corp] at a reload refuses it
#   when sandboxed (the store's directory was not writable at start: the
#   seccomp filter would kill the node at its first write) and serves on;
# - started with it, a reload that changes the section (credential_ttl)
#   makes a new authority from the same store: tokens made before still
#   enrol, and the credentials issued carry the new lifetime;
# - a reload that removes the section stops it: enroll no longer finds
#   an authority node (exit 69), the node serves on.
. "$(dirname "$0")/lib.sh"

S=$SALLYPORT
"$S" authority create "$WORK/ca.key" >/dev/null
make_identity auth >/dev/null
PORT=$(free_port)
mkdir "$WORK/store"
node_ini()
{
	{
		ini_node auth.key "127.0.0.1:$PORT"
		if [ -n "$1" ]; then
			echo "[authority corp]"
			echo "key = ca.key"
			echo "store = store/corp.db"
			echo "credential_ttl = $1"
		fi
	} | write_ini "$WORK/auth.ini"
}

# enroll(name, token): its exit status (no retry: an absent authority is
# the answer sought).
enroll()
{
	_rc=0
	"$S" enroll "$2" --identity "$WORK/$1.key" --out "$WORK/$1.cred" \
	    --retry-for 0 >"$WORK/enroll-$1.out" 2>&1 || _rc=$?
	echo "$_rc"
}

node_ini ""
start_node auth "$WORK/auth.ini"
node_ini 1h
if [ "$(id -u)" = 0 ] && ! grep -q 'sandbox=off\|sandbox=none' \
    "$WORK/auth.log"; then
	reload_node auth failed
	case "$RELOAD_LINE" in
	*"not in a directory the sandbox lets this node write"*) ;;
	*) die "the refused reload does not say why: $RELOAD_LINE" ;;
	esac
	stop_pid "$PID_auth"
	forget_pid "$PID_auth"
	mv "$WORK/auth.log" "$WORK/auth-1.log"
	start_node auth "$WORK/auth.ini"
else
	reload_node auth ok
fi
T1=$("$S" authority token create "$WORK/auth.ini" corp --attr role=app \
    2>/dev/null) || die "token create failed"
T2=$("$S" authority token create "$WORK/auth.ini" corp --attr role=app \
    2>/dev/null) || die "token create failed"
[ "$(enroll one "$T1")" = 0 ] || die "enroll: $(cat "$WORK/enroll-one.out")"

# Changed: a new authority on the same store.
node_ini 2h
reload_node auth ok
[ "$(enroll two "$T2")" = 0 ] || die "enroll after the change: $(cat "$WORK/enroll-two.out")"
NB=$("$S" credential show "$WORK/two.cred" | sed -n 's/^not-before *\([0-9]*\).*/\1/p')
NA=$("$S" credential show "$WORK/two.cred" | sed -n 's/^not-after *\([0-9]*\).*/\1/p')
[ $((NA - NB)) = 7200 ] || die "the new credential_ttl is not in force: $((NA - NB)) s"
[ "$(log_count "$WORK/auth.log" event=authority-credential)" -ge 2 ] ||
	die "the new authority issued the node no credential"

# Removed.
T3=$("$S" authority token create "$WORK/auth.ini" corp --attr role=app \
    2>/dev/null) || die "token create failed"
node_ini ""
reload_node auth ok
[ "$(enroll three "$T3")" = 69 ] ||
	die "an authority removed by a reload still answered: $(cat "$WORK/enroll-three.out")"
proc_alive "$PID_auth" || die "the node died"
say "ok: added at a reload (refused when sandboxed), changed, removed"
