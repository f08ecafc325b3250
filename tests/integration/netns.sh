# netns.sh: network namespace helpers of the relay integration tests, sourced
# after lib.sh (POSIX sh; dash and bash).
#
# A test builds its own little network: hosts are network namespaces named
# "sp<PID>-<host>" (the test's PID, so tests running in parallel never
# collide), joined by veth pairs on /24 segments of 198.18.0.0/15 that are
# unique per test too.  A middle host routes between segments when
# ns_forward is called on it.  Processes started with ns_spawn or
# ns_start_node are remembered by PID like lib.sh's spawn; the EXIT trap
# stops them, then deletes only the namespaces this test created.  Needs
# root (else the test skips with exit 77), ip and nft.
#
#   ns_require                 skip unless root, ip, nft and netns work
#   ns_add HOST...             create hosts (loopback up)
#   ns_link A B SEG            veth "segSEG" between A (.1) and B (.2)
#   ns_ip SEG N                the address 198.18.x.N of segment SEG
#   ns_route HOST DEST GW      a static route (DEST: a prefix or "default")
#   ns_forward HOST            HOST routes between its segments
#   ns_exec HOST cmd...        run cmd inside HOST
#   ns_spawn HOST log cmd...   spawn (lib.sh) inside HOST
#   ns_start_node HOST NAME CONFIG   start_node (lib.sh) inside HOST
#   ns_drop_syn HOST           drop every inbound TCP SYN (not on lo)
#   ns_syn_drops HOST          how many SYNs that rule dropped
#   ns_refuse_syn HOST ADDR:PORT [FROM [drop]] / ns_unrefuse HOST
#                              answer new connections to ADDR:PORT (from
#                              FROM only) with a reset, or drop their SYNs
#                              (established ones go on) / stop it
#   ns_refused HOST            how many connections that rule refused
#   ns_tcp_stat HOST NAME      a kernel TCP counter (nstat) of HOST
#   ns_cut HOST / ns_uncut HOST      drop / restore all non-lo traffic
#   ns_link_down HOST SEG / ns_link_up HOST SEG
#   ns_connect_fails HOST ADDR:PORT SECS   a direct TCP connect fails
#   pg_start HOST PORT / pg_stop     a private PostgreSQL cluster
#   pg_run HOST PORT           start it again after pg_stop

NS_PREFIX="sp$$"
NS_LIST=""	# full names of the namespaces this test created
PG_PID=""

# Each test gets 4 consecutive /24s of 198.18.0.0/15 (512 in all).
NS_NET_BASE=$((($$ % 128) * 4))

# ns_full(host): the namespace name of ${host}.
ns_full()
{
	echo "$NS_PREFIX-$1"
}

# ns_require: skip (77) unless this runs as root with ip and nft, and a
# namespace can be created.
ns_require()
{
	[ "$(id -u)" = 0 ] ||
		skip "needs root for network namespaces (CI runs it as root)"
	need ip nft
	_probe=$(ns_full probe)
	ip netns add "$_probe" 2>/dev/null ||
		skip "cannot create network namespaces here"
	ip netns del "$_probe"
}

# ns_add(host...): create each host's namespace with its loopback up.
ns_add()
{
	for _h in "$@"; do
		_full=$(ns_full "$_h")
		ip netns add "$_full" || die "ip netns add $_full failed"
		NS_LIST="$NS_LIST $_full"
		ip -n "$_full" link set lo up || die "lo up in $_full failed"
	done
}

# ns_ip(seg, n): the address 198.18.x.n (or 198.19.x.n) of segment ${seg}
# (0..3) of this test.
ns_ip()
{
	_i=$((NS_NET_BASE + $1))
	echo "198.$((18 + _i / 256)).$((_i % 256)).$2"
}

# ns_link(a, b, seg): a veth pair named "seg${seg}" in both hosts, with
# address .1/24 in ${a} and .2/24 in ${b}; both ends up.
ns_link()
{
	_a=$(ns_full "$1")
	_b=$(ns_full "$2")
	_if="seg$3"
	ip link add "$_if" netns "$_a" type veth peer name "$_if" netns "$_b" ||
		die "veth $_if between $1 and $2 failed"
	ip -n "$_a" addr add "$(ns_ip "$3" 1)/24" dev "$_if" &&
		ip -n "$_b" addr add "$(ns_ip "$3" 2)/24" dev "$_if" &&
		ip -n "$_a" link set "$_if" up &&
		ip -n "$_b" link set "$_if" up ||
		die "addressing $_if failed"
}

# ns_route(host, dest, gateway): add a static route in ${host}.
ns_route()
{
	ip -n "$(ns_full "$1")" route add "$2" via "$3" ||
		die "route $2 via $3 in $1 failed"
}

# ns_forward(host): ${host} forwards IPv4 between its segments.
ns_forward()
{
	ns_exec "$1" sysctl -q -w net.ipv4.ip_forward=1 ||
		die "ip_forward in $1 failed"
}

# ns_exec(host, cmd...): run cmd inside ${host}.
ns_exec()
{
	_full=$(ns_full "$1")
	shift
	ip netns exec "$_full" "$@"
}

# ns_spawn(host, logfile, cmd...): lib.sh's spawn inside ${host}; `ip
# netns exec` execs the command, so $LAST_PID is the command itself.
ns_spawn()
{
	_full=$(ns_full "$1")
	_log=$2
	shift 2
	spawn "$_log" ip netns exec "$_full" "$@"
}

# ns_start_node(host, name, config): `sallyport run config` inside ${host},
# logging to $WORK/name.log; wait (10 s) for event=ready.  Sets $LAST_PID
# and PID_<name>.
ns_start_node()
{
	_host=$1
	_name=$2
	_log="$WORK/$2.log"
	case " $NODE_LOGS " in
	*" $_log "*) ;;
	*) NODE_LOGS="$NODE_LOGS $_log" ;;
	esac
	# A restart appends to the log (earlier lines stay for the asserts)
	# and waits for a ready line after the ones already there.
	_before=$(grep -c 'event=ready' "$_log" 2>/dev/null || true)
	_before=${_before:-0}
	_full=$(ns_full "$_host")
	ip netns exec "$_full" "$SALLYPORT" run "$3" >>"$_log" 2>&1 &
	LAST_PID=$!
	PIDS="$PIDS $LAST_PID"
	eval "PID_$_name=$LAST_PID"
	wait_until 10 node_ready "$_log" "$LAST_PID" "$_name" "$_before" ||
		die "node $_name: no event=ready within $(slow_s 10) s"
}

# ns_drop_syn(host): ${host} drops (and counts) every inbound TCP SYN that
# does not come in on lo, so nobody can open a connection to it.
ns_drop_syn()
{
	ns_exec "$1" nft -f - <<-EOF || die "nft in $1 failed"
	table inet sp_nosyn {
		chain input {
			type filter hook input priority 0; policy accept;
			iifname "lo" accept
			tcp flags & (syn | ack) == syn counter drop
		}
	}
	EOF
}

# ns_syn_drops(host): how many SYNs ns_drop_syn's rule dropped in ${host}.
ns_syn_drops()
{
	ns_exec "$1" nft list table inet sp_nosyn |
		sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' | head -n 1
}

# ns_refuse_syn(host, ip:port, [from [drop]]): ${host} answers every new
# TCP connection to ${ip:port} (from the address ${from} only, if not
# empty) with a reset, as a closed port would (with "drop": drops its
# SYNs, as a host gone silent), and counts them; connections already
# established go on.  ns_unrefuse(host) ends it.
ns_refuse_syn()
{
	ns_exec "$1" nft -f - <<-EOF || die "nft refuse in $1 failed"
	table inet sp_refuse {
		chain input {
			type filter hook input priority -5; policy accept;
			${3:+ip saddr $3} ip daddr ${2%:*} tcp dport ${2##*:} tcp flags & (syn | ack) == syn counter ${4:-reject with tcp reset}
		}
	}
	EOF
}

# ns_refused(host): how many connections ns_refuse_syn's rule refused.
ns_refused()
{
	ns_exec "$1" nft list table inet sp_refuse |
		sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' | head -n 1
}

ns_unrefuse()
{
	ns_exec "$1" nft delete table inet sp_refuse ||
		die "nft unrefuse in $1 failed"
}

# ns_tcp_stat(host, name): the kernel's TCP counter ${name} (nstat's
# name, e.g. TcpExtListenOverflows) in ${host}'s namespace, absolute.
ns_tcp_stat()
{
	ns_exec "$1" nstat -asz "$2" | awk -v n="$2" '$1 == n { print $2 }'
}

# ns_cut(host): drop everything ${host} sends or receives except on lo
# (a cut cable: no RST, no ICMP).  ns_uncut(host) restores it.
ns_cut()
{
	ns_exec "$1" nft -f - <<-EOF || die "nft cut in $1 failed"
	table inet sp_cut {
		chain input {
			type filter hook input priority -10; policy accept;
			iifname != "lo" drop
		}
		chain output {
			type filter hook output priority -10; policy accept;
			oifname != "lo" drop
		}
	}
	EOF
}

ns_uncut()
{
	ns_exec "$1" nft delete table inet sp_cut || die "nft uncut in $1 failed"
}

# ns_link_down(host, seg) / ns_link_up(host, seg): set ${host}'s end of
# segment ${seg} down or up (the other end loses its carrier too).
ns_link_down()
{
	ip -n "$(ns_full "$1")" link set "seg$2" down || die "link down failed"
}

ns_link_up()
{
	ip -n "$(ns_full "$1")" link set "seg$2" up || die "link up failed"
}

# ns_connect_fails(host, addr:port, secs): from ${host}, a plain TCP
# connect to ${addr:port} fails (refused, unreachable or no answer within
# ${secs} seconds).  Prints the outcome.
ns_connect_fails()
{
	_out=$(ns_exec "$1" python3 -c '
import socket, sys
h, _, p = sys.argv[1].rpartition(":")
s = socket.socket()
s.settimeout(float(sys.argv[2]))
try:
    s.connect((h, int(p)))
except OSError as e:
    print("connect=failed error=%s" % type(e).__name__)
    sys.exit(0)
print("connect=ok")
sys.exit(1)' "$2" "$3")
	_st=$?
	echo "$_out"
	return $_st
}

# ns_socket_count(host, filter): how many TCP sockets (any state but
# listening and time-wait) match an ss(8) filter in ${host}.
ns_socket_count()
{
	ns_exec "$1" ss -Htn state connected "$2" 2>/dev/null |
		grep -v TIME-WAIT | grep -c . || true
}

# --- PostgreSQL ---

# pg_bindir: the directory of initdb and postgres, or nothing.
pg_bindir()
{
	for _d in /usr/lib/postgresql/*/bin; do
		[ -x "$_d/initdb" ] && [ -x "$_d/postgres" ] && _found=$_d
	done
	[ -n "${_found:-}" ] && { echo "$_found"; return 0; }
	_p=$(command -v postgres 2>/dev/null) || return 0
	_d=$(dirname "$_p")
	[ -x "$_d/initdb" ] && echo "$_d"
}

# pg_require: skip unless the PostgreSQL server and clients are installed.
pg_require()
{
	PG_BIN=$(pg_bindir)
	[ -n "$PG_BIN" ] ||
		skip "PostgreSQL server binaries are not installed (contrib/scripts/deps.sh)"
	need psql pg_isready pgbench setpriv
	id postgres >/dev/null 2>&1 || skip "no postgres user"
}

# pg_as(cmd...): run cmd as the postgres user, in the cluster's directory.
pg_as()
{
	setpriv --reuid=postgres --regid=postgres --init-groups \
	    env -C "$WORK/pg" "$@"
}

# pg_start(host, port): a private cluster in $WORK/pg (trust auth, user
# postgres, socket directory $WORK/pg) listening on 127.0.0.1:${port}
# inside ${host}; wait (20 s) until it accepts connections.
pg_start()
{
	pg_require
	chmod 711 "$WORK"
	mkdir "$WORK/pg"
	chown postgres: "$WORK/pg"
	pg_as "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust \
	    --no-locale -E UTF8 --no-sync >"$WORK/initdb.log" 2>&1 ||
		{ tail -n 20 "$WORK/initdb.log" >&2; die "initdb failed"; }
	NODE_LOGS="$NODE_LOGS $WORK/pg.log"
	pg_run "$1" "$2"
}

# pg_run(host, port): start the cluster pg_start made (again, after
# pg_stop: its data kept) and wait (20 s) until it accepts connections.
pg_run()
{
	ns_spawn "$1" "$WORK/pg.log" setpriv --reuid=postgres --regid=postgres \
	    --init-groups env -C "$WORK/pg" "$PG_BIN/postgres" \
	    -D "$WORK/pg/data" -p "$2" -k "$WORK/pg" \
	    -c listen_addresses=127.0.0.1 -c fsync=off \
	    -c synchronous_commit=off -c full_page_writes=off
	PG_PID=$LAST_PID
	wait_until 20 ns_exec "$1" pg_isready -q -t 2 -h 127.0.0.1 -p "$2" ||
		die "PostgreSQL did not become ready within $(slow_s 20) s"
}

# pg_stop: fast shutdown (SIGINT) of the cluster, by PID; SIGQUIT if it
# takes more than 10 s, SIGKILL 5 s later.
pg_stop()
{
	[ -n "$PG_PID" ] || return 0
	kill -INT "$PG_PID" 2>/dev/null || true
	wait_until 10 proc_gone "$PG_PID" || true
	stop_pid "$PG_PID" QUIT
	forget_pid "$PG_PID"
	PG_PID=""
}

# --- clean-up: processes first, then the namespaces, then lib.sh's ---

ns_cleanup()
{
	_nsrc=$?
	trap - EXIT
	set +e
	pg_stop
	for _p in $PIDS; do
		stop_pid "$_p"
	done
	PIDS=""
	for _n in $NS_LIST; do
		ip netns del "$_n" 2>/dev/null ||
			echo "$TEST_NAME: could not delete netns $_n" >&2
	done
	NS_LIST=""
	(exit "$_nsrc")
	cleanup
}

trap ns_cleanup EXIT
