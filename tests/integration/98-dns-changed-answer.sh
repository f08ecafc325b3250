#!/bin/sh
# A change of what a name resolves to is followed by the next connection
# (issue 8): in a network namespace the outlet's target name first maps
# to 127.0.0.2, where one echo target listens; /etc/hosts is rewritten
# (in place) to map it to 127.0.0.3, where another listens; the next
# clients reach the new one, without a reload.  The inlet dials the
# outlet node by name as well.  Needs root (skips with 77 otherwise).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/dnslib.sh"

dns_setup
dns_hosts "127.0.0.1 outlet.test" "127.0.0.2 svc.test"
dns_tunnel
dns_echo "127.0.0.2:$TARGET_PORT" old
dns_echo "127.0.0.3:$TARGET_PORT" new
dns_tunnel_start

# check_one: one echoed connection through the tunnel.
check_one()
{
	ns_exec dns python3 "$NETKIT" echo-check "127.0.0.1:$INLET_PORT" \
	    --count 1 --size 4096 --timeout 10 >/dev/null
}

check_one || die "no echo through the old address"
[ -s "$WORK/old.accepts" ] || die "the old target saw no connection"
[ ! -s "$WORK/new.accepts" ] || die "the new target saw a connection"

dns_hosts "127.0.0.1 outlet.test" "127.0.0.3 svc.test"
check_one || die "no echo after the change"
[ -s "$WORK/new.accepts" ] ||
	die "the next connection after the change did not reach 127.0.0.3"
n_old=$(wc -l <"$WORK/old.accepts")
r=$(ns_exec dns python3 "$NETKIT" echo-check "127.0.0.1:$INLET_PORT" \
    --count 5 --size 65536 --timeout 20) || die "$r"
say "$r"
[ "$(wc -l <"$WORK/old.accepts")" = "$n_old" ] ||
	die "the old address was dialed after the change"
! log_has "$WORK/out.log" event=reload || die "a reload happened"
say "ok"
