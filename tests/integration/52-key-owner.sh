#!/bin/sh
# A key file owned by the [node] user (issue 19 part 4, docs/config.md
# "Key file safety"): nodes started as root with `user = nobody` whose
# keys are owned by nobody with mode 0600 (what `install -o nobody -m 600`
# gives) pass `sallyport check`, start, and carry traffic.  Before the fix
# such a key was refused ("owned by uid 65534 ... fix: chown 0").  Still
# refused: the same key with mode 0640 (fix: chmod 600), a key owned by a
# third user (fix: chown to the [node] user), and a nobody-owned key when
# the node has no [node] user (it stays root).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (chown, the switch to [node] user)"
NOBODY=$(id -u nobody 2>/dev/null) || skip "no user nobody"
OTHER=$(id -u daemon 2>/dev/null) || skip "no user daemon"

ECHO_PORT=$(free_port)
start_echo "127.0.0.1:$ECHO_PORT"
tunnel_configs echo "127.0.0.1:$ECHO_PORT" "user = nobody"
give_to_user nobody "$WORK/out.ini" "$WORK/in.ini"
for n in out in; do
	chown nobody "$WORK/$n.key" && chmod 600 "$WORK/$n.key" ||
		die "cannot give $n.key to nobody"
done

# check_fails(config, text): `sallyport check` exits non-zero and says
# ${text}.
check_fails()
{
	if "$SALLYPORT" check "$1" >"$WORK/check.out" 2>&1; then
		die "check accepted $(ls -ln "$WORK/out.key")"
	fi
	grep -qF -- "$2" "$WORK/check.out" ||
		die "check did not say \"$2\": $(cat "$WORK/check.out")"
	say "refused: $(grep -F -- "$2" "$WORK/check.out" | head -n 1)"
}

"$SALLYPORT" check "$WORK/out.ini" >"$WORK/check.out" 2>&1 ||
	die "check refused nobody's 0600 key: $(cat "$WORK/check.out")"
start_node out "$WORK/out.ini"
start_node in "$WORK/in.ini"
res=$(netkit echo-check "$INLET" --count 2 --size 4096 --timeout 20) ||
	die "traffic with nobody's keys: $res"
say "nodes with keys owned by nobody (0600): $res"

chmod 640 "$WORK/out.key"
check_fails "$WORK/out.ini" "fix: chmod 600 $WORK/out.key"
chmod 600 "$WORK/out.key"
chown daemon "$WORK/out.key"
check_fails "$WORK/out.ini" \
    "[node] user it switches to (uid $NOBODY) or root; fix: chown $NOBODY "
chown nobody "$WORK/out.key"
# Without [node] user the node stays root: nobody's key is not its own.
grep -v '^user = nobody$' "$WORK/out.ini" >"$WORK/root.ini"
check_fails "$WORK/root.ini" "owned by uid $NOBODY"
say "ok (other user: uid $OTHER)"
