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

# refused(ini, run_pattern, check_pattern): `run` of ${ini} exits 69 with
# a line matching ${run_pattern}; `check` exits 78 saying ${check_pattern}.
refused()
{
	_rc=0
	"$SALLYPORT" run "$1" 2>"$WORK/refused.log" || _rc=$?
	[ "$_rc" = 69 ] || die "run $1: exit $_rc, expected 69"
	grep -q -- "$2" "$WORK/refused.log" ||
		die "run $1: no /$2/: $(cat "$WORK/refused.log")"
	_rc=0
	"$SALLYPORT" check "$1" >/dev/null 2>"$WORK/refused.log" || _rc=$?
	[ "$_rc" = 78 ] || die "check $1: exit $_rc, expected 78"
	grep -q -- "$3" "$WORK/refused.log" ||
		die "check $1: no /$3/: $(cat "$WORK/refused.log")"
}

ECHO_PORT=$(free_port)
start_echo "127.0.0.1:$ECHO_PORT"
tunnel_configs echo "127.0.0.1:$ECHO_PORT" "user = nobody"
# Unreadable by nobody, a reload would fail after the switch: refused at
# start (69), the line names the file; check says the same (78).
refused "$WORK/out.ini" "error=unreadable user=nobody file=$WORK/out.ini" \
	"user nobody .*could not read $WORK"
give_to_user nobody "$WORK/out.ini" "$WORK/out.key" "$WORK/in.ini" \
	"$WORK/in.key"
start_node out "$WORK/out.ini"
start_node in "$WORK/in.ini"
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

# Root without user and without allow_root = yes: refused (69), and check
# says so too (78).
printf '[node]\nidentity = %s\nlisten = 127.0.0.1:%s\n\n' "$WORK/out.key" \
	"$(free_port)" >"$WORK/root.ini"
ini_peers client "$IN_ID" >>"$WORK/root.ini"
ini_outlet echo "127.0.0.1:$ECHO_PORT" client >>"$WORK/root.ini"
refused "$WORK/root.ini" error=refusing-root \
	'started as root without \[node\] user'

# An unknown user: refused (69), the line names it.
sed "s/^\[node\]/[node]\nuser = no-such-user-70/" "$WORK/root.ini" \
	>"$WORK/nouser.ini"
refused "$WORK/nouser.ini" 'error=unknown-user user=no-such-user-70' \
	':2: unknown user "no-such-user-70"'

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
