# bench/lib.sh: shell helpers shared by bench-portals.sh and ab.sh
# (sourced, bash).

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port()
{
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# listening(port): 0 when something listens on ${port}.
listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# wait_port(port): up to 10 s for a listener.
wait_port()
{
	local i
	for i in $(seq 200); do
		listening "$1" && return 0
		sleep 0.05
	done
	return 1
}

# stop_pids(pid...): SIGTERM each, then reap each: the cleanup of a bench
# script's background processes (they are this shell's children).
stop_pids()
{
	local p
	for p in "$@"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "$@"; do
		wait "$p" 2>/dev/null || true
	done
}
