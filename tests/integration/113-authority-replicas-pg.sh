#!/bin/sh
# Two authority replicas on one PostgreSQL (issue 21 section 5): r1 and r2,
# each its own node key, the same authority key, `store =` the same
# database (a private cluster, in a network namespace of the test's own).
# - a burst: 100 `sallyport enroll` at once, each its own key, sharing 25
#   tokens of 4 uses; half the tokens name r1 first, half r2 (each
#   replica's `address =` lines, its own first), so both serve; once r1
#   has enrolled some, it is killed (SIGKILL): every enroll still ends
#   with its credential (those at r1 go on to r2), and the database then
#   holds exactly 100 active members, one per key, 100 serials issued,
#   every token used up and each the maker of exactly 4 members;
# - with r1 gone, a node enrols by a token naming r1 first and renews at
#   r2 (the node's round robin over the token's addresses);
# - r1 back: the node renews at r2 (its renewals and its revocation
#   fetches take the two addresses in turn); a clone (its key, an older
#   credential of it) asks r1: refused credential-superseded from what r2
#   wrote, the member locked, and the node's next renewal (at r2) refused
#   member-locked;
# - PostgreSQL stopped: an enrolment gets a clear refusal (store-
#   unavailable at the replica, busy to the node, which tries again), not
#   a hang; PostgreSQL back: the replicas connect again on their worker
#   thread, under the sandbox (seccomp for every thread), and the
#   enrolment ends with its credential;
# - the URI's password is in no log line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authlib.sh"
. "$(dirname "$0")/netns.sh"

ns_require
pg_require
S=$SALLYPORT
N=100
ns_add h
PG_PORT=$(free_port)
pg_start h "$PG_PORT"
PSQL() { ns_exec h psql -qAtX -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
PSQL -c 'CREATE DATABASE authority' postgres || die "CREATE DATABASE failed"
sql() { PSQL -c "$1" authority; }
# Trust authentication ignores the password; it must show nowhere.
PW=Pw5ecretXyz
URI="postgresql://postgres:$PW@127.0.0.1:$PG_PORT/authority"

CA_ID=$("$S" authority create "$WORK/ca.key" | tail -n 1)
P1=$(free_port)
P2=$(free_port)
# replica(name, port, other port): its config, its own address first.
replica()
{
	make_identity "$1" >/dev/null
	{
		ini_node "$1.key" "127.0.0.1:$2"
		echo "[authority corp]"
		echo "key = ca.key"
		echo "store = $URI"
		echo "credential_ttl = 15"
		echo "address = 127.0.0.1:$2"
		echo "address = 127.0.0.1:$3"
		echo "enrol_rate = 1000"
		echo "enrol_burst = 1000"
	} >"$WORK/$1.ini"
}
replica r1 "$P1" "$P2"
replica r2 "$P2" "$P1"
ns_start_node h r1 "$WORK/r1.ini"
R1_PID=$LAST_PID
ns_start_node h r2 "$WORK/r2.ini"
R2_PID=$LAST_PID

i=0
while [ $i -lt 25 ]; do
	r=r1
	[ $((i % 2)) = 0 ] || r=r2
	ns_exec h "$S" authority token create "$WORK/$r.ini" corp \
	    --attr role=app --uses 4 >"$WORK/token.$i" 2>"$WORK/token.err" ||
		die "token create failed: $(cat "$WORK/token.err")"
	i=$((i + 1))
done
[ "$(sql 'SELECT count(*) FROM tokens WHERE uses = 4')" = 25 ] ||
	die "not 25 tokens of 4 uses in the database"
# The schema, made once by the first connection (the first token's).
[ "$(sql 'SELECT version FROM sallyport_schema')" = 1 ] ||
	die "not one schema version 1 in the database"

enrol_burst $N 25 ns_exec h

# r1 killed in the middle: once it has made 10 members.
wait_until 300 lines_match "$WORK/r1.log" 'event=audit .*reason=enrolled' 10 ||
	die "r1 did not enrol 10 within $(slow_s 300) s"
kill -KILL "$R1_PID"
wait_until 10 proc_gone "$R1_PID" || die "r1 outlived SIGKILL"
forget_pid "$R1_PID"
BEFORE=$(sql 'SELECT count(*) FROM members')
say "killed r1 with $BEFORE members in the database"

enrolls_succeed

# The database: N active members, the keys, N serials, tokens used up.
[ "$(sql 'SELECT count(*) FROM members WHERE state = 1')" = $N ] ||
	die "not $N active members: $(sql 'SELECT count(*) FROM members')"
[ "$(sql 'SELECT count(*) FROM members')" = $N ] || die "members beyond $N"
burst_ids $N >"$WORK/ids"
sql "SELECT 'I' || encode(id, 'hex') FROM members ORDER BY 1" |
    sort >"$WORK/member-ids"
cmp -s "$WORK/ids" "$WORK/member-ids" || die "the members are not the keys"
[ "$(sql 'SELECT count(DISTINCT serial) FROM members')" = $N ] ||
	die "not $N distinct serials"
[ "$(sql 'SELECT count(*) FROM issued')" = $N ] ||
	die "not $N serials issued: $(sql 'SELECT count(*) FROM issued')"
[ "$(sql 'SELECT count(*) FROM tokens WHERE uses = 0')" = 25 ] ||
	die "not every token used up: $(sql 'SELECT ref, uses FROM tokens')"
[ "$(sql 'SELECT count(*) FROM (SELECT how FROM members GROUP BY how
    HAVING count(*) = 4) t')" = 25 ] ||
	die "a token did not make exactly 4 members"
AT1=$(log_count "$WORK/r1.log" event=audit reason=enrolled)
AT2=$(log_count "$WORK/r2.log" event=audit reason=enrolled)
[ "$AT1" -gt 0 ] && [ "$AT2" -gt 0 ] || die "not both replicas enrolled"
# The store's time per enrolment (the worker's, the loop serving on).
MS=$(cat "$WORK/r1.log" "$WORK/r2.log" | grep 'reason=enrolled' |
    sed 's/.*store_ms=//' | sort -n |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] ", " v[int(NR * 0.99 + 0.5)] }')
say "ok: $N enrolled ($AT1 at r1 before its kill, $AT2 at r2), 25 tokens x 4;" \
    "store_ms p50, p99: $MS"

# r1 gone: a node enrols by a token naming r1 first, renews at r2.
ns_exec h "$S" authority token create "$WORK/r1.ini" corp --attr role=app \
    >"$WORK/app.token" 2>/dev/null || die "token create failed"
APP_ID=$(make_identity app)
ini_node app.key "127.0.0.1:$(free_port)" "enroll = app.token" \
    "enroll_credential = app.cred" >"$WORK/app.ini"
ns_start_node h app "$WORK/app.ini"
# renewed_at(replica, count): its audit lines of the node's renewals.
renewed_at() { lines_match "$WORK/$1.log" "event=audit decision=allow reason=renewed .*peer=$APP_ID" "$2"; }
wait_until 60 renewed_at r2 1 || die "the node did not renew at r2"
lines_match "$WORK/app.log" 'event=renew .*result=ok' 1 ||
	die "the node logged no renewal"

# r1 back: the node renews at both; a clone of it is caught.
ns_start_node h r1 "$WORK/r1.ini"
R1_PID=$LAST_PID
R2=$(log_count "$WORK/r2.log" event=audit reason=renewed "peer=$APP_ID")
wait_until 60 renewed_at r2 $((R2 + 1)) || die "the node did not renew at r2 again"
D=$(grep -c 'event=renew .*result=ok' "$WORK/app.log")
mkdir "$WORK/clone"
cp "$WORK/app.cred" "$WORK/app.key" "$WORK/app.token" "$WORK/clone/"
renewals() { [ "$(grep -c 'event=renew .*result=ok' "$WORK/app.log")" -ge "$1" ]; }
wait_until 60 renewals $((D + 2)) || die "the node did not renew twice more"
ini_node app.key "127.0.0.1:$(free_port)" "enroll = app.token" \
    "enroll_credential = app.cred" >"$WORK/clone/clone.ini"
NODE_LOGS="$NODE_LOGS $WORK/clone.log"
ns_start_node h clone "$WORK/clone/clone.ini"
wait_until 60 lines_match "$WORK/clone.log" \
    'event=renew .*result=refused reason=credential-superseded' 1 ||
	die "the clone was not refused credential-superseded"
# The node renewed at r2 (its renewals and its revocation fetches take
# the two addresses in turn); the clone asked r1 first (its token's
# first address): r1 saw what r2 wrote.
lines_match "$WORK/r1.log" "event=audit .*decision=deny .*reason=credential-superseded .*peer=$APP_ID" 1 ||
	die "r1 did not audit credential-superseded"
wait_until 60 lines_match "$WORK/app.log" \
    'event=renew .*result=refused reason=member-locked' 1 ||
	die "the node's next renewal was not refused member-locked"
[ "$(sql "SELECT state FROM members WHERE id = decode('${APP_ID#I}', 'hex')")" = 3 ] ||
	die "the member is not locked in the database"
say "ok: renewed at r2 with r1 gone; a clone asking r1 locked the member"

# The replicas' worker threads: confined like their loops.
for p in "$PID_r1" "$PID_r2"; do
	[ "$(ls "/proc/$p/task" | wc -l)" = 2 ] ||
		die "replica $p has not exactly 2 threads"
	grep -q 'sandbox=seccomp' "$WORK/r2.log" || continue
	for t in "/proc/$p/task"/*; do
		grep -q '^Seccomp:[[:space:]]*2$' "$t/status" ||
			die "thread ${t##*/} of $p is not under seccomp"
	done
done

# PostgreSQL stopped: a clear refusal; back: connected again, enrolled.
ns_exec h "$S" authority token create "$WORK/r2.ini" corp --attr role=app \
    >"$WORK/late.token" 2>"$WORK/late.err" ||
	die "token create failed: $(cat "$WORK/late.err")"
pg_stop
ns_exec h "$S" authority token list "$WORK/r2.ini" corp \
    >"$WORK/late.out" 2>"$WORK/late.err" &&
	die "token list worked without the database"
grep -q "cannot connect" "$WORK/late.err" ||
	die "token list said no clear reason: $(cat "$WORK/late.err")"
ns_exec h "$S" enroll "$(cat "$WORK/late.token")" --identity "$WORK/late.key" \
    --out "$WORK/late.cred" --retry-for 10m >"$WORK/enroll.late" 2>&1 &
LATE=$!
PIDS="$PIDS $LATE"
wait_for_event "$WORK/r2.log" 30 event=audit decision=deny \
    reason=store-unavailable kind=enrol
wait_until 30 lines_match "$WORK/enroll.late" 'refused: busy' 1 ||
	die "the enroll was not told busy"
pg_run h "$PG_PORT"
rc=0
wait "$LATE" || rc=$?
forget_pid "$LATE"
[ "$rc" = 0 ] || die "the late enroll: exit $rc: $(cat "$WORK/enroll.late")"
proc_alive "$PID_r1" && proc_alive "$PID_r2" ||
	die "a replica died (the sandbox?) connecting again"
[ "$(sql 'SELECT count(*) FROM members')" = $((N + 2)) ] ||
	die "not $((N + 2)) members after the late enrolment"

# The password: in no log line, no output.
! grep -l "$PW" "$WORK"/*.log "$WORK"/enroll.* >/dev/null 2>&1 ||
	die "the URI's password was logged: $(grep -l "$PW" "$WORK"/*.log)"
say "ok: PostgreSQL down: refused store-unavailable (busy to the node); back: enrolled; no password logged"
