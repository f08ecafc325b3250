#!/bin/sh
# 9,000 concurrent connections through one relay on loopback (issue 13):
#
#   netkit hold (9000) -> inlets app1..app3 -> relay hub -> outlets
#   db1..db3 -> netkit echo
#
# Each connection is opened end to end (one byte echoed), all are held at
# once, and at the end every one of them must still echo a byte.  The
# relay holds two sockets per carried connection and no pipe while they
# are idle (docs/relay.md, pipe pool): its descriptors must stay within
# 2 per connection plus the pool's bound, and its RSS growth per
# connection within 1 KiB; its metrics count N pairs and no busy pipe.
# Reports descriptors, RSS and relay CPU per connection and the time to
# open them all.
#
# Why three inlet and three outlet nodes: a node carrying N connections
# holds 2N sockets (client and channel, or channel and target), so one
# inlet for 9,000 would need 18,000 descriptors of the machine's 20,000;
# split in three, only the relay holds 18,000 (and the two netkit
# helpers 9,000 each).
#
# RELAY_N=3000 sh 71-relay-9000.sh measures another size (docs/relay.md
# holds both measurements).
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=relaylib.sh
. "$top_srcdir/tests/integration/relaylib.sh"
need ss

N=${RELAY_N:-9000}
K=3 # inlet nodes, and outlet nodes
[ $((N % K)) = 0 ] || die "RELAY_N must be a multiple of $K"
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge $((2 * N + 1000)) ] ||
	skip "hard RLIMIT_NOFILE $hard is too low for $N connections"

relay_port=$(free_port)
hub_admin=$(free_port)
target_port=$(free_port)
id_hub=$(make_identity hub)
i=1
while [ $i -le $K ]; do
	eval "id_app$i=\$(make_identity app$i)"
	eval "id_db$i=\$(make_identity db$i)"
	eval "in$i=\$(free_port)"
	i=$((i + 1))
done
HUB="hub@127.0.0.1:$relay_port"

# Per connection: one end-to-end handshake per inlet and outlet node, so
# the nodes get room for a burst.
node_extra="keepalive = 30"
{
	ini_node "$WORK/hub.key" "127.0.0.1:$relay_port" "$node_extra" \
	    "admin = 127.0.0.1:$hub_admin"
	echo "[peers]"
	i=1
	while [ $i -le $K ]; do
		eval "echo \"app$i = \$id_app$i\"; echo \"db$i = \$id_db$i\""
		i=$((i + 1))
	done
	echo
	# One name per inlet/outlet couple: an inlet pins its own outlet.
	i=1
	while [ $i -le $K ]; do
		ini_relay "echo$i" "register=db$i" "allow=app$i"
		i=$((i + 1))
	done
} >"$WORK/hub.ini"
i=1
while [ $i -le $K ]; do
	eval "ida=\$id_app$i idd=\$id_db$i port=\$in$i"
	{
		ini_node "$WORK/db$i.key" "" "$node_extra" "max_handshakes = 1024"
		ini_peers hub "$id_hub" "app$i" "$ida"
		ini_outlet_relay "echo$i" "127.0.0.1:$target_port" "$HUB" "app$i"
		echo "pool = 64"
	} >"$WORK/db$i.ini"
	{
		ini_node "$WORK/app$i.key" "" "$node_extra" "max_handshakes = 1024"
		ini_peers hub "$id_hub" "db$i" "$idd"
		ini_inlet_via "echo$i" "127.0.0.1:$port" "db$i" "$HUB"
	} >"$WORK/app$i.ini"
	i=$((i + 1))
done

start_echo "127.0.0.1:$target_port"
start_node hub "$WORK/hub.ini"
relay=$PID_hub
i=1
while [ $i -le $K ]; do
	start_node "db$i" "$WORK/db$i.ini"
	start_node "app$i" "$WORK/app$i.ini"
	i=$((i + 1))
done

# Every inlet reaches its own outlet through the relay.
echo_through() {
	netkit echo-check "127.0.0.1:$1" --count 1 --size 64 --timeout 3 \
	    >/dev/null 2>&1
}
i=1
while [ $i -le $K ]; do
	eval "port=\$in$i"
	wait_until 20 echo_through "$port" ||
		die "no echo through inlet app$i within 20 s"
	i=$((i + 1))
done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
fd0=$(fd_count "$relay")
rss0=$(rss_kb "$relay")
cpu0=$(ticks "$relay")

# Open all N (each with one byte echoed end to end), spread over the
# three inlets, and hold them.
spawn "$WORK/hold.out" netkit hold "127.0.0.1:$in1" --also "127.0.0.1:$in2" \
    --also "127.0.0.1:$in3" --count "$N" --echo --end-echo --parallel 300 \
    --timeout 60 --hold 300 --ready "$WORK/held"
hold=$LAST_PID
wait_until 110 test -e "$WORK/held" || die "the $N connections did not open within 110 s"
r=$(head -n 1 "$WORK/held")
say "hold: $r"
[ "$(field "$r" held)" = "$N" ] || die "held $(field "$r" held) of $N: $r"
[ "$(field "$r" errors)" = 0 ] || die "errors while opening: $r"

cpu1=$(ticks "$relay")
fd1=$(fd_count "$relay")
rss1=$(rss_kb "$relay")
dfd=$((fd1 - fd0))
drss=$((rss1 - rss0))
cpu_us=$(( (cpu1 - cpu0) * 1000000 / hz / N ))
say "relay: $fd1 descriptors ($fd0 before), $rss1 KiB RSS ($rss0 before)"
say "per connection: fds=$(awk -v d=$dfd -v n=$N 'BEGIN{printf "%.3f", d/n}')" \
    "rss_bytes=$((drss * 1024 / N)) relay_cpu_us=$cpu_us" \
    "open_secs=$(field "$r" secs)"
# Two sockets each; idle pipes (the pool keeps at most 256) and the
# outlets' ready pooled connections (64 each) come on top.
[ "$dfd" -le $((2 * N + 2 * 256 + 3 * 128)) ] ||
	die "the relay holds $dfd descriptors for $N connections"
# Sanitizer builds pad every allocation (redzones, shadow): RSS is
# reported there, not judged.
if [ -n "$SANITIZED" ]; then
	say "ASan build: RSS per connection not checked"
elif [ $((drss * 1024 / N)) -gt 1024 ]; then
	die "the relay's RSS grew by $((drss * 1024 / N)) bytes per connection"
fi

# The relay's own count: N pairs, and no pipe held by an idle one.
if command -v curl >/dev/null 2>&1; then
	curl -fsS -m 10 "http://127.0.0.1:$hub_admin/metrics" >"$WORK/hub.metrics" ||
		die "no metrics from the relay"
	grep -q "^sallyport_relay_pairs $N\$" "$WORK/hub.metrics" ||
		die "the relay does not count $N pairs: $(grep relay_pairs "$WORK/hub.metrics")"
	grep -q '^sallyport_relay_pipes{state="busy"} 0$' "$WORK/hub.metrics" ||
		die "idle pairs hold pipes: $(grep relay_pipes "$WORK/hub.metrics")"
	say "relay metrics: $(grep '^sallyport_relay_pipes' "$WORK/hub.metrics" | tr '\n' ' ')"
fi

# Every one still carries data.
kill -TERM "$hold"
wait_exit "$hold" 60 || die "netkit hold did not finish its last echoes"
e=$(grep end_ok "$WORK/hold.out" || true)
say "end: $e"
[ "$(field "$e" end_ok)" = "$N" ] ||
	die "only $(field "$e" end_ok) of $N connections still carried data: $e"
for n in hub db1 db2 db3 app1 app2 app3; do
	log_has "$WORK/$n.log" event=refuse && die "$n refused connections"
done
say "ok: $N connections held through one relay, every one still carrying data"
