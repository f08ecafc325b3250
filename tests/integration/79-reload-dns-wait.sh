#!/bin/sh
# A reload whose file adds a local address named by DNS only (issue 19,
# N1): the reload waits for the answer on the loop, never blocking it.
# In a network namespace whose /etc/hosts has localhost only and whose DNS
# server (netkit dns, 127.0.0.1:53) knows svc.test (held until the test
# releases it), never answers never.test and denies nx.test:
# 0. an inlet's listen = nx.test (denied by DNS) fails the start-up: exit
#    69, one resolve-failed role=inlet line;
# 1. admin = localhost:P binds 127.0.0.1 (the IPv4 address of a name
#    that has both, as docs/config.md says);
# 2. a reload adding an inlet on svc.test:P2 logs event=reload-resolving
#    and waits: meanwhile the node serves (traffic through the first
#    inlet), no reload result is logged, a second SIGHUP is queued; once
#    the DNS answer is released, the reload succeeds, the queued one runs
#    after it (both status=ok), and svc.test:P2 carries traffic; the
#    queued reload, its name unchanged, does not ask DNS again;
# 3. never.test: the reload fails after RESOLVE_WAIT_MAX (10 s) with "no
#    answer", the node serves on; nx.test: it fails at once ("cannot
#    resolve");
# 4. SIGTERM while a reload waits: the node exits 0 (event=exit code=0).
# Needs root (network namespaces; skips with 77 otherwise).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/dnslib.sh"

dns_setup
# One try, 30 s: c-ares waits longer than the node's own deadline.
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:30\n' \
    >"$NSDIR/resolv.conf"
ns_spawn dns "$WORK/dns.out" python3 "$NETKIT" dns 127.0.0.1:53 \
    --answer svc.test=127.0.0.1 --hold "svc.test=$WORK/release" \
    --drop never.test \
    --log "$WORK/dns.log" --ready "$WORK/.dns-ready"
wait_for_file "$WORK/.dns-ready" 10
: >>"$WORK/dns.log"
ECHO_PORT=$(free_port)
dns_echo "127.0.0.1:$ECHO_PORT" target
OUT_ID=$(make_identity out)
IN_ID=$(make_identity in)
NODE_PORT=$(free_port)
P1=$(free_port)
P2=$(free_port)
P3=$(free_port)
ADMIN=$(free_port)
{
	ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT"
	ini_peers client "$IN_ID"
	ini_outlet echo "127.0.0.1:$ECHO_PORT" client
} >"$WORK/out.ini"
# write_in([inlet "name listen"]): the inlet node's file, with one more
# inlet listening on ${listen} if given.
write_in()
{
	{
		ini_node "$WORK/in.key" "" "admin = localhost:$ADMIN"
		ini_peers server "$OUT_ID"
		ini_inlet echo "127.0.0.1:$P1" "server@127.0.0.1:$NODE_PORT"
		[ $# = 0 ] || ini_inlet "$1" "$2" \
		    "server@127.0.0.1:$NODE_PORT" echo
	} >"$WORK/in.ini.new"
	mv -f "$WORK/in.ini.new" "$WORK/in.ini"
}
# 0. A local name that does not resolve fails the start-up: exit 69, one
#    resolve-failed line naming the section.
write_in
sed "s/^listen = 127.0.0.1:$P1/listen = nx.test:$P1/" "$WORK/in.ini" \
    >"$WORK/bad.ini"
rc=0
ns_exec dns "$SALLYPORT" run "$WORK/bad.ini" 2>"$WORK/bad.log" || rc=$?
[ "$rc" = 69 ] || die "a local name that does not resolve: exit $rc, not 69"
[ "$(grep -c event=resolve-failed "$WORK/bad.log")" = 1 ] &&
	log_has "$WORK/bad.log" event=resolve-failed role=inlet name=echo ||
	die "not one resolve-failed role=inlet line: $(cat "$WORK/bad.log")"
say "start-up with listen = nx.test: exit 69, one line"
ns_start_node dns out "$WORK/out.ini"
ns_start_node dns in "$WORK/in.ini"

# echo_ok(port): traffic through the inlet on 127.0.0.1:${port}.
echo_ok()
{
	res=$(ns_exec dns python3 "$NETKIT" echo-check "127.0.0.1:$1" \
	    --count 2 --size 4096 --timeout 10) ||
		die "no traffic through port $1: $res"
}
# alive(): the inlet node still runs.
alive()
{
	proc_alive "$PID_in" || die "node in died"
}
# queries(name): how many queries of ${name} the DNS server had.
queries()
{
	grep -c "^$1 " "$WORK/dns.log" || true
}
echo_ok "$P1"

# 1. localhost has 127.0.0.1 and ::1 here: admin binds 127.0.0.1.
bound=$(ns_exec dns ss -Hltn "sport = :$ADMIN" | awk '{print $4}')
[ "$bound" = "127.0.0.1:$ADMIN" ] ||
	die "admin = localhost:$ADMIN bound \"$bound\", expected 127.0.0.1"
say "admin = localhost binds $bound"

# 2. A new name that only DNS knows, held: the reload waits.
write_in moved "svc.test:$P2"
kill -HUP "$PID_in"
wait_for_event "$WORK/in.log" 10 event=reload-resolving host=svc.test \
    trigger=signal
echo_ok "$P1"
alive
[ "$(reload_total "$WORK/in.log")" = 0 ] ||
	die "a reload result before the answer: $(grep event=reload "$WORK/in.log")"
kill -HUP "$PID_in" # queued behind the waiting reload
touch "$WORK/release"
wait_reload in 1 ok
wait_reload in 2 ok
n=$(queries svc.test)
[ "$n" -ge 1 ] || die "the node never asked DNS for svc.test"
echo_ok "$P2"
echo_ok "$P1"
kill -HUP "$PID_in"
wait_reload in 3 ok
[ "$(queries svc.test)" = "$n" ] ||
	die "an unchanged name was looked up again ($n, then $(queries svc.test))"
say "waited for svc.test ($n queries), served meanwhile; queued reload ran"

# 3. No answer: failed after RESOLVE_WAIT_MAX; a denied name: at once.
write_in moved "never.test:$P3"
t0=$(now_ms)
kill -HUP "$PID_in"
wait_reload in 4 failed 40
t=$(($(now_ms) - t0))
case $RELOAD_LINE in
*"cannot resolve never.test: no answer within 10 s"*) ;;
*) die "the failure does not say why: $RELOAD_LINE" ;;
esac
[ "$t" -ge 9000 ] || die "the reload gave up after $t ms, before 10 s"
alive
echo_ok "$P1"
echo_ok "$P2"
write_in moved "nx.test:$P3"
reload_node in failed
case $RELOAD_LINE in
*"cannot resolve nx.test"*) ;;
*) die "the failure does not say why: $RELOAD_LINE" ;;
esac
alive
echo_ok "$P2"
say "never.test: failed after $t ms; nx.test: failed; still serving"

# 4. SIGTERM while a reload waits: a clean exit.
write_in moved "never.test:$P3"
kill -HUP "$PID_in"
wait_for_log "$WORK/in.log" "event=reload-resolving host=never.test" 10 2
kill -TERM "$PID_in"
wait_exit "$PID_in" 20 || die "node in did not exit"
[ "$EXIT_CODE" = 0 ] || die "node in exited $EXIT_CODE"
log_has "$WORK/in.log" event=exit code=0 || die "no event=exit code=0"
say "SIGTERM while waiting: exit 0"
say "ok"
