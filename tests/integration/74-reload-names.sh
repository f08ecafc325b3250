#!/bin/sh
# Reloads of a configuration whose every local address is a host name
# (issue 19, N1), with the sandbox on (seccomp and Landlock; an ASan build
# runs without it and still checks the reloads).  The outlet node has
# [node] listen = localhost:P and admin = localhost:P; the inlet node has
# an inlet listening on localhost:P, an intercept-only inlet whose
# original destination is localhost:P, and admin = localhost:P.
# Asserts:
# 1. traffic flows; `sallyport probe` reaches the admin endpoints by name;
# 2. three SIGHUPs to each node: each logs event=reload status=ok, the
#    node stays alive (it used to die of SIGSYS: glibc's getaddrinfo with
#    AI_ADDRCONFIG asks netlink, recvmsg is not allowed), the listening
#    sockets named by unchanged names are kept (same inode), and traffic
#    still flows after each;
# 3. reload = watch: a rewritten outlet file (a new peer) is reloaded
#    (trigger=watch), alive, traffic flows;
# 4. a reload that moves the inlet to another name (localhost:Q) looks
#    the name up inside the sandbox: status=ok, traffic through Q, the
#    old port closed; the node is still alive at the end.
. "$(dirname "$0")/lib.sh"

ECHO_PORT=$(free_port)
start_echo "127.0.0.1:$ECHO_PORT"
OUT_ID=$(make_identity out)
IN_ID=$(make_identity in)
OTHER_ID=$(make_identity other)
NODE_PORT=$(free_port)
INLET_PORT=$(free_port)
INLET2_PORT=$(free_port)
OUT_ADMIN=$(free_port)
IN_ADMIN=$(free_port)
ICPT_PORT=$(free_port)
DEST_PORT=$(free_port)

# write_out(extra peers...): the outlet node's file (watched).
write_out()
{
	{
		ini_node "$WORK/out.key" "localhost:$NODE_PORT" \
		    "admin = localhost:$OUT_ADMIN" "reload = watch" \
		    "reload_interval = 0.5"
		ini_peers client "$IN_ID" "$@"
		ini_outlet echo "127.0.0.1:$ECHO_PORT" client
	} >"$WORK/out.ini.new"
	mv -f "$WORK/out.ini.new" "$WORK/out.ini"
}
# write_in(inlet port): the inlet node's file.
write_in()
{
	{
		ini_node "$WORK/in.key" "" "admin = localhost:$IN_ADMIN" \
		    "intercept = 127.0.0.1:$ICPT_PORT"
		ini_peers server "$OUT_ID"
		ini_inlet echo "localhost:$1" "server@localhost:$NODE_PORT"
		printf '[inlet caught]\nintercept = localhost:%s\n' \
		    "$DEST_PORT"
		printf 'outlet = server@localhost:%s\nservice = echo\n\n' \
		    "$NODE_PORT"
	} >"$WORK/in.ini.new"
	mv -f "$WORK/in.ini.new" "$WORK/in.ini"
}
write_out
write_in "$INLET_PORT"
"$SALLYPORT" check "$WORK/out.ini" >/dev/null || die "out.ini is invalid"
"$SALLYPORT" check "$WORK/in.ini" >/dev/null || die "in.ini is invalid"
start_node out "$WORK/out.ini"
start_node in "$WORK/in.ini"
SANDBOXED=yes
log_has "$WORK/out.log" event=ready sandbox=off && SANDBOXED=no
for n in out in; do
	line=$(grep 'event=ready' "$WORK/$n.log")
	case $SANDBOXED:$(field "$line" sandbox) in
	yes:seccomp,landlock|yes:seccomp|no:off) ;;
	*) die "$n: ready line without the sandbox: $line" ;;
	esac
done
say "sandbox: $(field "$(grep 'event=ready' "$WORK/in.log")" sandbox)"

# echo_ok(port): 4 KiB echoed through the inlet at localhost:${port}.
echo_ok()
{
	res=$(netkit echo-check "127.0.0.1:$1" --count 2 --size 4096 \
	    --timeout 10) || die "no traffic through localhost:$1: $res"
}
# not_listening(port): nothing listens on ${port}.
not_listening()
{
	[ -z "$(listen_inode "$1")" ]
}
# alive(): both nodes still run.
alive()
{
	proc_alive "$PID_out" || die "node out died (exit status in its log)"
	proc_alive "$PID_in" || die "node in died (exit status in its log)"
}

# 1. Traffic and the admin endpoints, by name.
echo_ok "$INLET_PORT"
for p in "$OUT_ADMIN" "$IN_ADMIN"; do
	"$SALLYPORT" probe "http://localhost:$p/healthz" >/dev/null ||
		die "probe of localhost:$p/healthz failed"
done
say "traffic and /healthz by name: ok"

# 2. SIGHUP, three times each: alive, reloaded, sockets kept, traffic.
NODE_INO=$(listen_inode "$NODE_PORT")
INLET_INO=$(listen_inode "$INLET_PORT")
ADMIN_INO=$(listen_inode "$IN_ADMIN")
[ -n "$NODE_INO" ] && [ -n "$INLET_INO" ] && [ -n "$ADMIN_INO" ] ||
	die "no listening socket inode (ss -e)"
for i in 1 2 3; do
	reload_node in ok
	reload_node out ok
	alive
	echo_ok "$INLET_PORT"
done
[ "$(listen_inode "$NODE_PORT")" = "$NODE_INO" ] ||
	die "[node] listen = localhost:$NODE_PORT was bound again"
[ "$(listen_inode "$INLET_PORT")" = "$INLET_INO" ] ||
	die "the inlet's listen = localhost:$INLET_PORT was bound again"
[ "$(listen_inode "$IN_ADMIN")" = "$ADMIN_INO" ] ||
	die "admin = localhost:$IN_ADMIN was bound again"
say "3 SIGHUPs each: status=ok, alive, sockets kept, traffic"

# 3. reload = watch: a new peer in the outlet's file.
before=$(reload_total "$WORK/out.log")
write_out other "$OTHER_ID"
wait_reload out $((before + 1)) ok
case " $RELOAD_LINE " in
*" trigger=watch "*) ;;
*) die "the outlet's reload was not the watch: $RELOAD_LINE" ;;
esac
alive
echo_ok "$INLET_PORT"
say "reload = watch: status=ok, alive, traffic"

# 4. The inlet moves to another name's port: looked up in the sandbox.
write_in "$INLET2_PORT"
reload_node in ok
alive
echo_ok "$INLET2_PORT"
wait_until 10 not_listening "$INLET_PORT" ||
	die "localhost:$INLET_PORT still listens after the move"
for p in "$OUT_ADMIN" "$IN_ADMIN"; do
	"$SALLYPORT" probe "http://localhost:$p/healthz" >/dev/null ||
		die "probe of localhost:$p/healthz failed after the reloads"
done
alive
say "a new name at reload: status=ok, traffic through localhost:$INLET2_PORT"
say "ok"
