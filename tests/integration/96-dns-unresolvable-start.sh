#!/bin/sh
# A name that does not resolve at start-up is not fatal (issue 8): in a
# network namespace whose /etc/hosts lacks the outlet's target name, the
# outlet node starts anyway and logs event=resolve-failed with the
# outlet's name and the host; a client then gets a prompt reset and the
# outlet logs target-failed errno=resolve-failed (no target connection).  Once the
# name is added to /etc/hosts the node logs event=resolved (its retry)
# and the next clients reach the target.  The inlet dials the outlet node
# by name too (outlet.test).  Needs root (skips with 77 otherwise).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/dnslib.sh"

dns_setup
dns_hosts "127.0.0.1 outlet.test"
dns_tunnel
dns_echo "127.0.0.2:$TARGET_PORT" target
"$SALLYPORT" check "$WORK/out.ini" >/dev/null || die "check failed"

dns_tunnel_start
wait_for_event "$WORK/out.log" 5 event=resolve-failed role=outlet name=echo \
    host=svc.test
proc_alive "$PID_out" || die "the outlet node exited"

# A client now: reset, the outlet logs target-failed errno=resolve-failed
# (not an access decision) and tells the inlet, target untouched.
r=$(ns_exec dns python3 "$NETKIT" probe "127.0.0.1:$INLET_PORT" \
    --send-hex 50494e470d0a --timeout 5)
say "while unresolvable: $r"
[ "$(field "$r" bytes)" = 0 ] || die "a client got data: $r"
wait_for_event "$WORK/out.log" 5 event=target-failed role=outlet \
    "peer=$IN_ID" errno=resolve-failed
wait_for_event "$WORK/in.log" 5 event=target-failed side=remote
[ ! -s "$WORK/target.accepts" ] || die "the target saw a connection"

# The name appears: the node's retry notices, clients get through.
dns_hosts "127.0.0.1 outlet.test" "127.0.0.2 svc.test"
wait_for_event "$WORK/out.log" 10 event=resolved role=outlet name=echo \
    host=svc.test addrs=1
r=$(ns_exec dns python3 "$NETKIT" echo-check "127.0.0.1:$INLET_PORT" \
    --count 5 --size 65536 --timeout 20) || die "$r"
say "$r"
log_has "$WORK/out.log" event=audit decision=allow "peer=$IN_ID" ||
	die "no allow audit line"
say "ok"
