#!/bin/sh
# Enrolment (issue 21).  An authority node (corp, its store on disk), an
# outlet in front of redis whose allow list is only the rule
# role=app@corp, and nodes that hold nothing but a token:
# - sallyport enroll with a token: the key is made (0600), the credential
#   written, the authority audited allow reason=enrolled with ref= and
#   attrs=; the same token again (another key): refused token-used, exit
#   77; an expired token: token-expired; no such token: no-token; an
#   identity that is a member already: already-member;
# - a node whose [node] enroll names a token file enrols on its first
#   start, then reaches redis through the outlet (audit rule=
#   role=app@corp); the authority's channel never shows a stranger the
#   request of another node.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authlib.sh"
need redis-server redis-cli sqlite3 curl

start_redis
S=$SALLYPORT
AUTH_ADMIN=$(free_port)
FRESH_ADMIN=$(free_port)
AUTH_NODE_LINE="admin = 127.0.0.1:$AUTH_ADMIN" start_authority 1h
log_has "$WORK/auth.log" event=authority-credential authority=corp ||
	die "the authority node issued itself no credential"
redis_outlet

# token(extra args...): a new token of corp on stdout (its reference in
# $WORK/token.ref).
token()
{
	"$S" authority token create "$WORK/auth.ini" corp "$@" \
	    2>"$WORK/token.ref" || die "token create failed"
}

# enroll(name, token): sallyport enroll as $WORK/name.key; its status.
enroll()
{
	_rc=0
	"$S" enroll "$2" --identity "$WORK/$1.key" --out "$WORK/$1.cred" \
	    >"$WORK/enroll-$1.out" 2>&1 || _rc=$?
	echo "$_rc"
}

# --- the command ---------------------------------------------------------
T1=$(token --attr role=app --attr env=test)
[ "$(enroll one "$T1")" = 0 ] ||
	die "enroll failed: $(cat "$WORK/enroll-one.out")"
[ "$(stat -c %a "$WORK/one.key")" = 600 ] || die "the key is not 0600"
ONE_ID=$("$S" identity show "$WORK/one.key")
"$S" credential show "$WORK/one.cred" >"$WORK/show.out" ||
	die "the credential does not verify"
grep -q "^subject     $ONE_ID\$" "$WORK/show.out" || die "wrong subject"
grep -q "^issuer      $CA_ID\$" "$WORK/show.out" || die "wrong issuer"
grep -q '^attribute   role=app$' "$WORK/show.out" || die "no role=app"
grep -q "trust it with: \[authorities\] corp = $CA_ID" \
    "$WORK/enroll-one.out" || die "enroll did not say how to trust corp"
wait_for_event "$WORK/auth.log" 10 event=audit decision=allow \
    reason=enrolled "peer=$ONE_ID" kind=enrol attrs=role=app,env=test
grep 'reason=enrolled' "$WORK/auth.log" | grep -q ' ref=T' ||
	die "the enrolment line has no ref="

# The same token again, with another key: its one use is gone.
[ "$(enroll two "$T1")" = 77 ] || die "a used token was accepted"
grep -q 'refused: token-used' "$WORK/enroll-two.out" ||
	die "not token-used: $(cat "$WORK/enroll-two.out")"
[ ! -e "$WORK/two.cred" ] || die "a credential was written for two"
wait_for_event "$WORK/auth.log" 10 event=audit decision=deny \
    reason=token-used kind=enrol

# An expired token (the shortest lifetime is a minute: the store's clock
# is moved instead, its expiry set to when it was made).
T2=$(token --attr role=app --ttl 1m)
REF=$(grep -Eo 'T[a-z2-7]{11}' "$WORK/token.ref" | head -n 1)
[ -n "$REF" ] || die "token create printed no reference"
sqlite3 "$WORK/store/corp.db" \
    "UPDATE tokens SET expiry = created - 1 WHERE ref = '$REF'" ||
	die "cannot age the token"
[ "$(enroll three "$T2")" = 77 ] || die "an expired token was accepted"
grep -q 'refused: token-expired' "$WORK/enroll-three.out" ||
	die "not token-expired: $(cat "$WORK/enroll-three.out")"

# A token the store never made (a valid line, another secret).
T3=$(token --attr role=app)
FORGED=$(printf '%s' "$T3" | sed 's/:[A-Za-z0-9_-]\{43\}$/:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/')
[ "$(enroll four "$FORGED")" = 77 ] || die "a forged token was accepted"
grep -q 'refused: no-token' "$WORK/enroll-four.out" ||
	die "not no-token: $(cat "$WORK/enroll-four.out")"

# A member cannot join again with another token.
[ "$(enroll one "$T3")" = 77 ] || die "a member enrolled twice"
grep -q 'refused: already-member' "$WORK/enroll-one.out" ||
	die "not already-member: $(cat "$WORK/enroll-one.out")"

# --- a node with only a token ---------------------------------------------
# check first: the credential is not there yet, which is fine.
token_file "$WORK/fresh.token" role=app
"$S" identity create "$WORK/fresh.key" >/dev/null
redis_inlet fresh "enroll = fresh.token" "enroll_credential = fresh.cred"
"$S" check "$WORK/fresh.ini" >"$WORK/check.out" 2>&1 ||
	die "check refused a node not enrolled yet: $(cat "$WORK/check.out")"
grep -q 'fresh.cred is not there yet: run enrols first (corp)' \
    "$WORK/check.out" || die "check did not say the node enrols first"
rm -f "$WORK/fresh.key" "$WORK/fresh.token"
enrolled fresh "admin = 127.0.0.1:$FRESH_ADMIN"
log_has "$WORK/fresh.log" event=enroll authority=corp result=ok ||
	die "the fresh node did not enrol: $(cat "$WORK/fresh.log")"
FRESH_ID=$ID_fresh
pong() { [ "$(redis-cli -h 127.0.0.1 -p "$P_fresh" PING 2>&1)" = PONG ]; }
wait_until 10 pong || die "no PONG through the enrolled node"
wait_for_event "$WORK/out.log" 10 event=audit decision=allow \
    "peer=$FRESH_ID" rule=role=app@corp
# Observability: the enrolled node is ready and says when its credential
# ends; the authority counts enrolments by result and open tokens.
[ "$(curl -fsS "http://127.0.0.1:$FRESH_ADMIN/readyz")" = ready ] ||
	die "the enrolled node is not ready"
metric() { curl -fsS "http://127.0.0.1:$1/metrics" | awk -v s="$2" '$1 == s { print $2 }'; }
EXP=$(metric "$FRESH_ADMIN" 'sallyport_credential_expiry_seconds{authority="corp"}')
[ "${EXP%.*}" -gt "$(date +%s)" ] 2>/dev/null ||
	die "no credential expiry in the future: $EXP"
[ "$(metric "$AUTH_ADMIN" 'sallyport_authority_enrolments_total{result="ok"}')" = 2 ] ||
	die "the authority did not count 2 enrolments"
[ "$(metric "$AUTH_ADMIN" 'sallyport_authority_enrolments_total{result="token-used"}')" = 1 ] ||
	die "the authority did not count the token-used refusal"
# The gauge is read from the store on the authority's worker at a scrape
# (the loop never waits for the store): it shows what the read before
# found, so scrape until it says 2.
tokens2() { [ "$(metric "$AUTH_ADMIN" 'sallyport_authority_tokens_outstanding{authority="corp"}')" = 2 ]; }
wait_until 10 tokens2 || die "tokens outstanding is not 2 (T3, the check's)"
say "ok: enrolled by token, refused token-used, token-expired, no-token," \
    "already-member; a node with only a token reaches redis by role=app@corp"
