# dnslib.sh: the DNS tests' set-up, sourced after lib.sh and netns.sh
# (POSIX sh).  One network namespace "dns" (loopback only), or the hosts
# a test made itself, whose /etc/hosts is $HOSTS: `ip netns exec`
# bind-mounts /etc/netns/NAME/hosts over /etc/hosts, so the file is
# rewritten in place (same inode), never replaced.  Its resolv.conf names
# a server nobody runs (127.0.0.1:53, one try), so a name missing from
# $HOSTS fails at once.  The EXIT trap removes /etc/netns/NAME, then runs
# netns.sh's clean-up.
#
#   dns_setup [HOST...]        the namespace "dns" (or these hosts, made
#                              by ns_add), $HOSTS, $NSDIR (the last one's)
#   dns_hosts LINE...          rewrite every host's $HOSTS in place with
#                              these lines
#   dns_echo ADDR NAME         an echo target in the namespace, with an
#                              accept log $WORK/NAME.accepts
#   dns_tunnel                 the configurations of tests 96 and 98: the
#                              outlet node "out" (outlet "echo" to
#                              svc.test:$TARGET_PORT) and the inlet node
#                              "in" (127.0.0.1:$INLET_PORT) dialing it by
#                              name (outlet.test:$NODE_PORT); sets those
#                              ports, OUT_ID and IN_ID
#   dns_tunnel_start           start both in the namespace "dns"

ns_require
NSDIR=""
NSDIRS=""	# one per host set up

dns_cleanup()
{
	_drc=$?
	set +e
	for _d in $NSDIRS; do
		rm -rf "$_d"
	done
	(exit "$_drc")
	ns_cleanup
}
trap dns_cleanup EXIT

dns_setup()
{
	if [ $# = 0 ]; then
		ns_add dns
		set -- dns
	fi
	for _h in "$@"; do
		NSDIR=/etc/netns/$(ns_full "$_h")
		mkdir -p "$NSDIR"
		NSDIRS="$NSDIRS $NSDIR"
		HOSTS=$NSDIR/hosts
		printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n' \
		    >"$NSDIR/resolv.conf"
	done
	dns_hosts
}

dns_hosts()
{
	for _d in $NSDIRS; do
		{
			printf '127.0.0.1 localhost\n::1 localhost\n'
			for _l in "$@"; do
				echo "$_l"
			done
		} >"$_d/hosts"	# in place: the bind mount holds the inode
	done
}

dns_echo()
{
	_r="$WORK/.echo-ready.$2"
	ns_spawn dns "$WORK/$2.out" python3 "$NETKIT" echo "$1" --ready "$_r" \
	    --log "$WORK/$2.accepts"
	wait_for_file "$_r" 10
}

dns_tunnel()
{
	TARGET_PORT=$(free_port)
	TUNNEL_HOST=outlet.test
	tunnel_configs echo "svc.test:$TARGET_PORT"
}

dns_tunnel_start()
{
	ns_start_node dns out "$WORK/out.ini"
	ns_start_node dns in "$WORK/in.ini"
}
