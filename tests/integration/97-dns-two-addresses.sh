#!/bin/sh
# Every address of a name is tried in order (issue 8): in a network
# namespace, /etc/hosts gives the outlet's target name two addresses, the
# first of which refuses (nothing listens there): first ::1 then
# 127.0.0.2 (IPv6 sorts first), then, for a second name, 127.0.0.3 then
# 127.0.0.2.  Clients reach the target through both, no connection is
# dropped, and the outlet's debug log shows the refused attempt
# (event=dial-next).  Needs root (skips with 77 otherwise).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/dnslib.sh"

dns_setup
dns_hosts "::1 svc6.test" "127.0.0.2 svc6.test" \
    "127.0.0.3 svc4.test" "127.0.0.2 svc4.test"
TARGET_PORT=$(free_port)
NODE_PORT=$(free_port)
IN6_PORT=$(free_port)
IN4_PORT=$(free_port)
dns_echo "127.0.0.2:$TARGET_PORT" target
OUT_ID=$(make_identity out)
IN_ID=$(make_identity in)
{
	ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT" "log_level = debug"
	ini_peers client "$IN_ID"
	ini_outlet six "svc6.test:$TARGET_PORT" client
	ini_outlet four "svc4.test:$TARGET_PORT" client
} >"$WORK/out.ini"
{
	ini_node "$WORK/in.key"
	ini_peers server "$OUT_ID"
	ini_inlet six "127.0.0.1:$IN6_PORT" "server@127.0.0.1:$NODE_PORT" six
	ini_inlet four "127.0.0.1:$IN4_PORT" "server@127.0.0.1:$NODE_PORT" four
} >"$WORK/in.ini"
ns_start_node dns out "$WORK/out.ini"
ns_start_node dns in "$WORK/in.ini"

for p in "$IN6_PORT" "$IN4_PORT"; do
	r=$(ns_exec dns python3 "$NETKIT" echo-check "127.0.0.1:$p" \
	    --count 4 --size 65536 --timeout 20) || die "port $p: $r"
	say "$r"
done
n=$(log_count "$WORK/out.log" event=dial-next role=outlet tried=1)
[ "$n" -ge 8 ] || die "expected 8 refused first attempts, saw $n"
! log_has "$WORK/out.log" event=audit decision=deny ||
	die "a connection was denied"
log_has "$WORK/out.log" event=dial-next 'error="Connection' ||
	die "the first attempts did not fail with a refusal"
say "ok"
