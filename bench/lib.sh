# bench/lib.sh: shell helpers shared by bench-portals.sh, ab.sh and
# authority-stall.sh (sourced, bash).

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

# build(commit, label): the commit's sallyport as $WORK/$label/sallyport,
# built in a detached worktree of $TOP (added to $TREES, removed after);
# $AB_CACHE/HASH/sallyport reused or filled when AB_CACHE is set.  Needs
# note() (ab.sh, authority-stall.sh).
build()
{
	local hash=$1 dir=$WORK/$2 tree
	mkdir -p "$dir"
	if [ -n "${AB_CACHE:-}" ] && [ -x "$AB_CACHE/$hash/sallyport" ]; then
		cp "$AB_CACHE/$hash/sallyport" "$dir/sallyport"
		note "$2: $hash from $AB_CACHE"
		return 0
	fi
	tree=$WORK/tree-$2
	note "$2: building $hash in $tree"
	git -C "$TOP" worktree add -q --detach "$tree" "$hash" || return 1
	TREES="$TREES $tree"
	(
		cd "$tree" && ./bootstrap && mkdir b && cd b &&
		../configure -q && make -j2 src/sallyport
	) >"$dir/build.log" 2>&1 ||
		{ note "$2: build failed: $(tail -n 5 "$dir/build.log")"; return 1; }
	cp "$tree/b/src/sallyport" "$dir/sallyport"
	git -C "$TOP" worktree remove --force "$tree"
	if [ -n "${AB_CACHE:-}" ]; then
		mkdir -p "$AB_CACHE/$hash"
		cp "$dir/sallyport" "$AB_CACHE/$hash/sallyport"
	fi
}

# stop(pid...): TERM, wait up to 60 s (valgrind writes its counts on
# exit), then KILL; only PIDs this script started.
stop()
{
	local p i alive
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null
	for i in $(seq 1200); do
		alive=""
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null && alive="$alive $p"
		done
		[ -z "$alive" ] && break
		sleep 0.05
	done
	[ -z "$alive" ] || kill -KILL $alive 2>/dev/null
	for p in "$@"; do wait "$p" 2>/dev/null; done
	return 0
}

# cleanup_work: at exit, stop $DPIDS and $PIDS (stop), remove the
# worktrees in $TREES, and $WORK unless AB_KEEP is set.
cleanup_work()
{
	local t
	stop $DPIDS $PIDS
	for t in $TREES; do
		git -C "$TOP" worktree remove --force "$t" 2>/dev/null
	done
	git -C "$TOP" worktree prune 2>/dev/null
	if [ -n "${AB_KEEP:-}" ]; then
		note "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}

# commit_of(ref): the hash of the commit ${ref} names in $TOP, or a note
# and 1.
commit_of()
{
	git -C "$TOP" rev-parse --verify --quiet "$1^{commit}" ||
		{ note "not a commit: $1"; return 1; }
}
