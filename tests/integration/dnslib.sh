# dnslib.sh: the DNS tests' set-up, sourced after lib.sh and netns.sh
# (POSIX sh).  One network namespace "dns" (loopback only) whose
# /etc/hosts is $HOSTS: `ip netns exec` bind-mounts /etc/netns/NAME/hosts
# over /etc/hosts, so the file is rewritten in place (same inode), never
# replaced.  Its resolv.conf names a server nobody runs (127.0.0.1:53, one
# try), so a name missing from $HOSTS fails at once.  The EXIT trap
# removes /etc/netns/NAME, then runs netns.sh's clean-up.
#
#   dns_setup                  the namespace, $HOSTS, $NSDIR
#   dns_hosts LINE...          rewrite $HOSTS in place with these lines
#   dns_echo ADDR NAME         an echo target in the namespace, with an
#                              accept log $WORK/NAME.accepts

ns_require
NSDIR=""

dns_cleanup()
{
	_drc=$?
	set +e
	[ -z "$NSDIR" ] || rm -rf "$NSDIR"
	(exit "$_drc")
	ns_cleanup
}
trap dns_cleanup EXIT

dns_setup()
{
	ns_add dns
	NSDIR=/etc/netns/$(ns_full dns)
	mkdir -p "$NSDIR"
	HOSTS=$NSDIR/hosts
	printf '127.0.0.1 localhost\n::1 localhost\n' >"$HOSTS"
	printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n' \
	    >"$NSDIR/resolv.conf"
}

dns_hosts()
{
	{
		printf '127.0.0.1 localhost\n::1 localhost\n'
		for _l in "$@"; do
			echo "$_l"
		done
	} >"$HOSTS"	# in place: the bind mount holds the inode
}

dns_echo()
{
	_r="$WORK/.echo-ready.$2"
	ns_spawn dns "$WORK/$2.out" python3 "$NETKIT" echo "$1" --ready "$_r" \
	    --log "$WORK/$2.accepts"
	wait_for_file "$_r" 10
}
