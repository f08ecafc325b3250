#!/bin/sh
# The sandbox of a running node (docs/security.md), started as root.
# Asserts: with [node] user = nobody both nodes of a tunnel run as nobody
# with NoNewPrivs 1, Seccomp 2 (filter), no capabilities (effective,
# permitted, ambient), and the ready line says so; traffic still flows
# through inlet and outlet; root without user or allow_root = yes, and an
# unknown user, are start-up errors (exit 69); --no-sandbox leaves
# Seccomp 0 (the privilege drop stays).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (the switch to [node] user)"
NOBODY=$(id -u nobody 2>/dev/null) || skip "no user nobody"

# status_is(pid, field, value): /proc/PID/status has "field:<tab>value".
status_is()
{
	_v=$(sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status")
	[ "$_v" = "$3" ] || die "pid $1: $2 is \"$_v\", expected \"$3\""
}

ECHO_PORT=$(free_port)
start_echo "127.0.0.1:$ECHO_PORT"
tunnel echo "127.0.0.1:$ECHO_PORT" "user = nobody"
log_has "$WORK/out.log" event=ready sandbox=off &&
	skip "an ASan build runs without the sandbox (docs/security.md)"
for n in out in; do
	eval "pid=\$PID_$n"
	status_is "$pid" Uid "$NOBODY	$NOBODY	$NOBODY	$NOBODY"
	status_is "$pid" NoNewPrivs 1
	status_is "$pid" Seccomp 2
	status_is "$pid" CapEff 0000000000000000
	status_is "$pid" CapPrm 0000000000000000
	# CapBnd is emptied only with CAP_SETPCAP (some containers lack it).
	status_is "$pid" CapAmb 0000000000000000
	line=$(grep 'event=ready' "$WORK/$n.log")
	case $(field "$line" sandbox) in
	seccomp,landlock|seccomp) ;;
	*) die "$n: ready line without the sandbox: $line" ;;
	esac
	[ "$(field "$line" uid)" = "$NOBODY" ] || die "$n: uid: $line"
	[ "$(field "$line" caps)" = 0 ] || die "$n: caps: $line"
	say "$n: $(field "$line" sandbox) uid=$NOBODY caps=0"
done
res=$(netkit echo-check "$INLET" --count 10 --size 65536 --timeout 20) ||
	die "traffic through the sandboxed nodes: $res"
say "$res"

# Root without user and without allow_root = yes: refused (69).
printf '[node]\nidentity = %s\nlisten = 127.0.0.1:%s\n\n' "$WORK/out.key" \
	"$(free_port)" >"$WORK/root.ini"
ini_peers client "$IN_ID" >>"$WORK/root.ini"
ini_outlet echo "127.0.0.1:$ECHO_PORT" client >>"$WORK/root.ini"
rc=0
"$SALLYPORT" run "$WORK/root.ini" 2>"$WORK/root.log" || rc=$?
[ "$rc" = 69 ] || die "root without user: exit $rc, expected 69"
grep -q 'error=refusing-root' "$WORK/root.log" ||
	die "no refusing-root line: $(cat "$WORK/root.log")"

# An unknown user: refused (69), the line names it.
sed "s/^\[node\]/[node]\nuser = no-such-user-70/" "$WORK/root.ini" \
	>"$WORK/nouser.ini"
rc=0
"$SALLYPORT" run "$WORK/nouser.ini" 2>"$WORK/nouser.log" || rc=$?
[ "$rc" = 69 ] || die "unknown user: exit $rc, expected 69"
grep -q 'error=unknown-user user=no-such-user-70' "$WORK/nouser.log" ||
	die "no unknown-user line: $(cat "$WORK/nouser.log")"

# --no-sandbox: no filter, the rest as before.
sed "s/^\[node\]/[node]\nallow_root = yes/" "$WORK/root.ini" >"$WORK/ns.ini"
NODE_LOGS="$NODE_LOGS $WORK/ns.log"
spawn "$WORK/ns.log" "$SALLYPORT" run --no-sandbox "$WORK/ns.ini"
pid=$LAST_PID
wait_until 10 node_ready "$WORK/ns.log" "$pid" ns 0 ||
	die "node ns: no event=ready within 10 s"
status_is "$pid" Seccomp 0
status_is "$pid" NoNewPrivs 1
status_is "$pid" CapEff 0000000000000000
grep -q 'event=ready .* sandbox=none uid=0 ' "$WORK/ns.log" ||
	die "ready line of --no-sandbox: $(cat "$WORK/ns.log")"
say "ok"
