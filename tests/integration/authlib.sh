# authlib.sh: what the enrolment tests (105 to 112) share, sourced after
# lib.sh: an authority node, the redis outlet that allows role=app@corp,
# nodes that enrol by token, a long-lived redis connection, a burst's
# enrolments checked.

# start_authority(credential_ttl): the authority corp ($WORK/ca.key; the
# node's key $WORK/auth.key, its store in $WORK/store) on a free port,
# started; $AUTH_LINES (if set) are more lines of that section.  Sets CA_ID
# AUTH_PORT AUTH_PID.
start_authority()
{
	CA_ID=$("$SALLYPORT" authority create "$WORK/ca.key" | tail -n 1)
	make_identity auth >/dev/null
	AUTH_PORT=$(free_port)
	mkdir -p "$WORK/store"
	{
		ini_node auth.key "127.0.0.1:$AUTH_PORT" ${AUTH_NODE_LINE:+"$AUTH_NODE_LINE"}
		echo "[authority corp]"
		echo "key = ca.key"
		echo "store = store/corp.db"
		echo "credential_ttl = $1"
		[ -z "${AUTH_LINES:-}" ] || printf '%s\n' "$AUTH_LINES"
	} >"$WORK/auth.ini"
	start_node auth "$WORK/auth.ini"
	AUTH_PID=$LAST_PID
}

# token_file(file, attr): a new token of corp holding ${attr} in ${file}.
token_file()
{
	"$SALLYPORT" authority token create "$WORK/auth.ini" corp \
	    --attr "$2" >"$1" 2>/dev/null || die "token create failed"
}

# redis_outlet(node lines...): the outlet node "out" in front of redis
# ($REDIS_PORT), allowing role=app@corp, on a free port, started.  Sets
# OUT_ID NODE_PORT.
redis_outlet()
{
	OUT_ID=$(make_identity out)
	NODE_PORT=$(free_port)
	{
		ini_node out.key "127.0.0.1:$NODE_PORT" "$@"
		echo "[authorities]"
		echo "corp = $CA_ID"
		echo
		ini_outlet redis "127.0.0.1:$REDIS_PORT" "role=app@corp"
	} >"$WORK/out.ini"
	start_node out "$WORK/out.ini"
}

# enrolled(name [node lines...]): a node with its own key and a token of
# role=app, enrolling on its first start, with the inlet "redis" to the
# outlet (redis_inlet), started.  Sets ID_<name>.
enrolled()
{
	_en=$1
	shift
	token_file "$WORK/$_en.token" role=app
	"$SALLYPORT" identity create "$WORK/$_en.key" >/dev/null
	redis_inlet "$_en" "enroll = $_en.token" \
	    "enroll_credential = $_en.cred" "$@"
	start_node "$_en" "$WORK/$_en.ini"
	eval "ID_$_en=\$(\"\$SALLYPORT\" identity show \"\$WORK/\$_en.key\")"
}

# ping_loop(name, count): one redis connection through node ${name}'s
# inlet, a PING every 0.2 s, ${count} times, in the background (CLI_PID;
# its output in $WORK/pings.out); returns once the outlet opened it.
ping_loop()
{
	eval "_pl_port=\$P_$1 _pl_id=\$ID_$1"
	redis-cli -h 127.0.0.1 -p "$_pl_port" -r "$2" -i 0.2 PING \
	    >"$WORK/pings.out" 2>&1 &
	CLI_PID=$!
	PIDS="$PIDS $CLI_PID"
	wait_until 10 log_has "$WORK/out.log" event=open role=outlet \
	    "peer=$_pl_id" || die "the connection of $1 did not open"
}

# enrolls_succeed: wait for each enroll of a burst ($EPIDS, in order; the
# i-th wrote $WORK/enroll.i and $WORK/ni.cred): each must exit 0 with its
# credential written.
enrolls_succeed()
{
	_i=0
	for _p in $EPIDS; do
		_rc=0
		wait "$_p" || _rc=$?
		forget_pid "$_p"
		[ "$_rc" = 0 ] ||
			die "enroll $_i: exit $_rc: $(cat "$WORK/enroll.$_i")"
		[ -s "$WORK/n$_i.cred" ] ||
			die "enroll $_i: no credential written"
		_i=$((_i + 1))
	done
}

# enrol_burst(n, tokens [command prefix...]): ${n} `sallyport enroll` at
# once in the background, as the keys $WORK/n0.key... (their credentials
# $WORK/nI.cred, output $WORK/enroll.I), node I with the token file
# $WORK/token.(I mod ${tokens}), each retrying for up to 10 minutes; run
# through the prefix if given (e.g. ns_exec NS).  Their PIDs, in order,
# in $EPIDS (enrolls_succeed) and in $PIDS.
enrol_burst()
{
	_n=$1
	_t=$2
	shift 2
	EPIDS=""
	_i=0
	while [ $_i -lt "$_n" ]; do
		"$@" "$SALLYPORT" enroll "$(cat "$WORK/token.$((_i % _t))")" \
		    --identity "$WORK/n$_i.key" --out "$WORK/n$_i.cred" \
		    --retry-for 10m >"$WORK/enroll.$_i" 2>&1 &
		EPIDS="$EPIDS $!"
		PIDS="$PIDS $!"
		_i=$((_i + 1))
	done
}

# burst_ids(n): the identifiers of the keys $WORK/n0.key... of a burst,
# sorted.
burst_ids()
{
	_i=0
	while [ $_i -lt "$1" ]; do
		"$SALLYPORT" identity show "$WORK/n$_i.key"
		_i=$((_i + 1))
	done | sort
}
