#!/bin/sh
# An enrolment burst and a crash (issue 21): 200 `sallyport enroll`
# processes at once, each with its own key, sharing 50 tokens of 4 uses,
# against one authority node; once a quarter of them are in, the
# authority is killed (SIGKILL) and started again on the same store.
# - every enroll ends with its credential (exit 0): those that found the
#   authority gone, or busy, tried again (enroll --retry-for), and one
#   whose answer was lost in the crash gets the same credential again;
# - the store then holds exactly 200 active members, one for each key,
#   with 200 distinct serials: nothing lost, nothing doubled;
# - every token is used up, and made exactly 4 members: none over its
#   uses;
# - the authority's store worker is the node's second thread, and it is
#   confined too (seccomp, no_new_privs, no capabilities).
# The per-source rate limit is raised (enrol_rate, enrol_burst): every
# process dials from 127.0.0.1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authlib.sh"

S=$SALLYPORT
N=200
AUTH_LINES="enrol_rate = 1000
enrol_burst = 1000" start_authority 1h

i=0
while [ $i -lt 50 ]; do
	"$S" authority token create "$WORK/auth.ini" corp --attr role=app \
	    --uses 4 >"$WORK/token.$i" 2>/dev/null || die "token create failed"
	i=$((i + 1))
done

# All at once, in the background; their PIDs in order ($EPIDS).
enrol_burst $N 50

# The middle: a quarter enrolled.  Then kill -9 and a restart.
wait_until 300 lines_match "$WORK/auth.log" \
    'event=audit .*reason=enrolled' $((N / 4)) ||
	die "not a quarter of the enrolments within $(slow_s 300) s"
kill -KILL "$AUTH_PID"
wait_until 10 proc_gone "$AUTH_PID" || die "the authority outlived SIGKILL"
forget_pid "$AUTH_PID"
BEFORE=$(log_count "$WORK/auth.log" event=audit reason=enrolled)
say "killed the authority after $BEFORE enrolments"
mv "$WORK/auth.log" "$WORK/auth-1.log"
start_node auth "$WORK/auth.ini"
AUTH_PID=$PID_auth

# The store's worker: a second thread, confined like the loop's (seccomp
# for every thread, and its own no_new_privs and capabilities: per
# thread); not in a build without the sandbox.
[ "$(ls "/proc/$AUTH_PID/task" | wc -l)" = 2 ] ||
	die "the authority node has not exactly 2 threads"
say "authority restarted: $(grep -o 'sandbox=[^ ]*' "$WORK/auth.log" | head -n 1)"
if grep -q 'sandbox=seccomp' "$WORK/auth.log"; then
	for t in "/proc/$AUTH_PID/task"/*; do
		grep -q '^Seccomp:[[:space:]]*2$' "$t/status" &&
		    grep -q '^NoNewPrivs:[[:space:]]*1$' "$t/status" &&
		    grep -q '^CapEff:[[:space:]]*0*$' "$t/status" &&
		    grep -q '^CapPrm:[[:space:]]*0*$' "$t/status" ||
			die "thread ${t##*/} is not confined: $(cat "$t/status")"
	done
fi

# Every enroll ends (an event: its exit), with its credential.
enrolls_succeed

# The store: 200 active members, one per key, 200 serials.
"$S" authority member list "$WORK/auth.ini" corp >"$WORK/members" ||
	die "member list failed"
[ "$(grep -c ' active ' "$WORK/members")" = $N ] ||
	die "not $N active members: $(wc -l <"$WORK/members") lines"
[ "$(wc -l <"$WORK/members")" = $N ] || die "members beyond the $N"
burst_ids $N >"$WORK/ids"
cut -d' ' -f1 "$WORK/members" | sort >"$WORK/member-ids"
cmp -s "$WORK/ids" "$WORK/member-ids" || die "the members are not the keys"
[ "$(grep -o 'serial=S[0-9a-f]*' "$WORK/members" | sort -u | wc -l)" = $N ] ||
	die "not $N distinct serials"

# The tokens: each used up, each made exactly 4 members.
"$S" authority token list "$WORK/auth.ini" corp >"$WORK/tokens" ||
	die "token list failed"
[ "$(grep -c ' used uses=0 ' "$WORK/tokens")" = 50 ] ||
	die "not every token used up: $(cat "$WORK/tokens")"
grep -o 'how=token:T[a-z2-7]*' "$WORK/members" | sort | uniq -c |
    awk '$1 != 4 { bad = 1 } END { exit bad || NR != 50 }' ||
	die "a token did not make exactly 4 members"
AFTER=$(log_count "$WORK/auth.log" event=audit reason=enrolled)
RETRIED=$(grep -l 'trying again' "$WORK"/enroll.* | wc -l)
BUSY=$(cat "$WORK/auth-1.log" "$WORK/auth.log" | grep -c 'reason=busy' ||
    true)
say "ok: $N enrolled ($BEFORE before the crash, $AFTER after; $RETRIED" \
    "tried again, $BUSY refused busy), 50 tokens x 4"
