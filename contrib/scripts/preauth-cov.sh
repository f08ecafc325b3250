#!/bin/sh
# Measure the pre-auth surface: the lines of src/ that bytes from an
# unauthenticated peer execute (docs/security.md, "Pre-auth surface").
# Two measurements with clang source-based coverage (build-cov/, no
# sanitizers), then their union:
#
#  1. harness: the fuzz targets fed by unauthenticated peers replay their
#     corpora (tests/fuzz/corpus/T, or CORPUS_ROOT/T), one input per
#     process; an input whose peer gets proven (src/channel.c's PROVEN:
#     an attestation verified, a ticket's keys confirmed) has its
#     coverage written and ends there, so nothing after the proof counts.
#     Counted are the executed lines of the functions such a peer reaches
#     (start-up, fixtures, our own encoders and what only local files
#     feed are left out: EXCLUDE below, a bare name or file.c:name for
#     one static).  The node and admin targets (a node in the process,
#     driven through its sockets) replay the same way but count only
#     towards the fuzz coverage of the set, not towards the set.
#  2. daemon: a node (outlet + relay name + admin endpoint) run by
#     contrib/scripts/preauth-daemon.sh twice alone and twice under each
#     kind of unauthenticated traffic; counted are the lines that both
#     lives with traffic executed more often than either quiet one, or
#     that some life with traffic executed and no quiet one did ("peer":
#     the node port, "admin": the admin endpoint).
#
# PREAUTH_FORGED=1: the daemon's strangers also send forged credential
# headers (issue 19, N2; not in the figure of record, which is measured
# as before: docs/security.md).
#
# PREAUTH_AUTHORITY=1: the daemon is also an authority and its strangers
# also try to enrol (issue 21: enrolment attempts are pre-auth input),
# and the enrolment messages' target (authmsg) joins the set's targets;
# docs/security.md gives that figure beside the one of record.
#
# A "line" is a line llvm-cov maps to code (so "{", "}" and declarations
# with code count; comments and blank lines do not).  Writes
# build-cov/preauth-table.md and prints it, with the fuzz corpora's
# coverage of those lines (the rest, by function:
# build-cov/preauth-uncovered.md).  Usage: preauth-cov.sh
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
LLVM_COV=${LLVM_COV:-llvm-cov-14}
LLVM_PROFDATA=${LLVM_PROFDATA:-llvm-profdata-14}
corpus_root=${CORPUS_ROOT:-$top/tests/fuzz/corpus}

# Targets fed by an unauthenticated peer: the responder's msg1/msg3, the
# initiator's msg2 (a responder not yet verified), a resumed msg1 (its
# ticket id is looked up before anything is authenticated; resumed
# handshakes are on by default), the identity payload,
# the credential block (the peer filter reads each credential's header,
# cred_claim, before any signature is checked), a relay's preamble
# lookup, the admin endpoint's request head.  Not the request: the peer
# filter takes only the service name its audit line shows, without
# parsing (front.c's claimed_service); request_parse runs once the
# peer is proven.
SET_TARGETS="handshake_responder handshake_initiator resume_responder identity_payload cred preamble http"
[ -z "${PREAUTH_AUTHORITY:-}" ] || SET_TARGETS="$SET_TARGETS authmsg"
# The node in the process (tests/fuzz/fuzz_nodeenv.h): its node port and
# its admin endpoint, driven through their sockets by strangers, garbage,
# hang-ups and the passing of time.  They count towards the fuzz
# coverage of the set, not towards the set itself: what they run of the
# node is the daemon's life (2. below measures it), and their own
# initiators (checking the node's msg2) are not the node's surface.
NODE_TARGETS="node admin"
TARGETS="$SET_TARGETS $NODE_TARGETS"

# Functions the harnesses run that no unauthenticated peer reaches:
# process start-up and fixtures (and the harness's own look at the
# request); our own requests and encoders; local files (PEM, revocation
# list); what the harnesses call directly but the node runs only once
# the peer is proven (cred_decode: acl's decision after the attestation)
# or, for a preamble, the ticket key; the authority's answers (encoded by
# us; what a stranger's enrolment runs of them the daemon shows) and
# their split on the enrolling node.  Not cred_verify_sig: the peer
# filter verifies the one credential a claim rests on before the
# attestation (issue 19, N2).
EXCLUDE="crypto_init drbg_seed pick_impls crypto_p256_sign crypto_p256_pub
 channel_local_init_static sigcache_new channel_expect_peer
 channel_set_request channel_set_ephemeral channel_start
 channel_peer_id channel_request
 request_encode req_put req_put_endpoint req_endpoint_len
 proxyproto_build proxyproto.c:put proxyproto.c:put16 proxyproto.c:as_v6
 proxyproto.c:put_tlv
 cred_pem_decode crypto_pem_sink_append crypto_pem_next cred_revoked_parse revoked_add id_cmp
 cred_decode cred.c:key_ok cred.c:value_ok
 cred_revoked_free cred_serial_parse cred_key_is_valid
 cred_value_is_valid identity_id_parse hexval
 ticket_init ticket_map_init ticket_expect ticket_fini ticket_cid slot_link
 slot_unlink ticket_preamble_check window_advance name_is_padded_text
 make_iv
 authmsg_encode authmsg_piece authmsg_doc_split"

sh contrib/scripts/deps.sh
[ -x configure ] || ./bootstrap
mkdir -p build-cov
cd build-cov
# SALLYPORT_PREAUTH_PROBE: PROVEN() ends a replayed input (tests/fuzz/replay.c).
grep -q SALLYPORT_PREAUTH_PROBE config.status 2>/dev/null ||
    CC=clang CFLAGS="-O1 -g -fprofile-instr-generate -fcoverage-mapping -DSALLYPORT_PREAUTH_PROBE" \
    LDFLAGS="-fprofile-instr-generate" "$top/configure" -q
bins=
for t in $TARGETS; do
	bins="$bins tests/fuzz/replay_$t"
done
# shellcheck disable=SC2086
make -s -j"${JOBS:-1}" src/sallyport tests/helpers/evilnode $bins
rm -rf prof
mkdir -p prof

# 1. The harnesses.
objs=''
setobjs=''
allp=''
setp=''
for t in $TARGETS; do
	mkdir -p "prof/$t"
	i=0
	for input in "$corpus_root/$t"/*; do
		i=$((i + 1))
		LLVM_PROFILE_FILE="prof/$t/$i.profraw" \
		    "./tests/fuzz/replay_$t" "$input" >/dev/null
	done
	"$LLVM_PROFDATA" merge -sparse -o "prof/$t.profdata" prof/"$t"/*.profraw
	if [ -z "$objs" ]; then objs="tests/fuzz/replay_$t"
	else objs="$objs -object tests/fuzz/replay_$t"; fi
	allp="$allp prof/$t.profdata"
	case " $SET_TARGETS " in
	*" $t "*) setp="$setp prof/$t.profdata"
		if [ -z "$setobjs" ]; then setobjs="tests/fuzz/replay_$t"
		else setobjs="$setobjs -object tests/fuzz/replay_$t"; fi ;;
	esac
done
# shellcheck disable=SC2086
"$LLVM_PROFDATA" merge -sparse -o prof/harness.profdata $setp
# shellcheck disable=SC2086
"$LLVM_COV" export -format=lcov -instr-profile=prof/harness.profdata \
    $setobjs > prof/harness.lcov
# shellcheck disable=SC2086
"$LLVM_COV" export -format=text -skip-expansions \
    -instr-profile=prof/harness.profdata $setobjs > prof/harness.json
# Every target, for the fuzz coverage of the set.
# shellcheck disable=SC2086
"$LLVM_PROFDATA" merge -sparse -o prof/fuzz.profdata $allp
# shellcheck disable=SC2086
"$LLVM_COV" export -format=lcov -instr-profile=prof/fuzz.profdata \
    $objs > prof/fuzz.lcov
# The http target alone, to tell the admin endpoint's parser apart.
"$LLVM_COV" export -format=lcov -instr-profile=prof/http.profdata \
    tests/fuzz/replay_http > prof/http.lcov

# 2. The daemon.
mkdir -p prof/daemon
EVILNODE=$PWD/tests/helpers/evilnode \
    sh "$top/contrib/scripts/preauth-daemon.sh" src/sallyport prof/daemon
for r in base peer admin; do
	for n in 1 2; do
		"$LLVM_PROFDATA" merge -sparse -o "prof/daemon/$r.$n.profdata" \
		    "prof/daemon/$r.$n.profraw"
		"$LLVM_COV" export -format=lcov \
		    -instr-profile="prof/daemon/$r.$n.profdata" src/sallyport \
		    > "prof/$r.$n.lcov"
	done
done
# The node's functions and their lines, to name the uncovered lines.
"$LLVM_COV" export -format=text -skip-expansions \
    -instr-profile=prof/daemon/peer.1.profdata src/sallyport \
    > prof/daemon.json

python3 - "$EXCLUDE" <<'PY' | tee preauth-table.md
import collections, json, sys

exclude = set(sys.argv[1].split())

def lcov(path):
    d, f = {}, None
    for l in open(path):
        if l.startswith("SF:"):
            f = l[3:].strip()
        elif l.startswith("DA:"):
            a, b = l[3:].strip().split(",")[:2]
            d[(f, int(a))] = d.get((f, int(a)), 0) + int(b)
    return d

def src(f):
    return "src/" + f.split("/src/")[-1] if "/src/" in f else None

# 1. Harness lines inside the kept functions.
kept = collections.defaultdict(list)  # file -> [(first, last)]
for fn in json.load(open("prof/harness.json"))["data"][0]["functions"]:
    name = fn["name"]
    bare = name.split(":")[-1]
    if name in exclude or bare in exclude:
        continue
    r = fn["regions"][0]
    kept[fn["filenames"][0]].append((r[0], r[2]))
def in_kept(f, line):
    return any(a <= line <= b for a, b in kept.get(f, ()))
h = lcov("prof/harness.lcov")
hset = {(src(f), l) for (f, l), n in h.items()
        if n > 0 and src(f) and in_kept(f, l)}
http = {(src(f), l) for (f, l), n in lcov("prof/http.lcov").items()
        if n > 0 and src(f)}
h_admin = hset & http
h_peer = hset - h_admin

# 2. Daemon lines that traffic ran: more often in both lives with it
# than in either quiet one, or in some life with it and no quiet one.
base = [lcov("prof/base.%d.lcov" % n) for n in (1, 2)]
def more(kind):
    runs = [lcov("prof/%s.%d.lcov" % (kind, n)) for n in (1, 2)]
    keys = set(runs[0]) | set(runs[1])
    out = set()
    for k in keys:
        if not src(k[0]):
            continue
        t = [r.get(k, 0) for r in runs]
        b = max(r.get(k, 0) for r in base)
        if (b == 0 and max(t) > 0) or min(t) > b:
            out.add((src(k[0]), k[1]))
    return out
d_peer, d_admin = more("peer"), more("admin")

peer = h_peer | d_peer
admin = h_admin | d_admin
total = peer | admin
cols = [("fuzz targets", h_peer | h_admin), ("node port, daemon", d_peer),
        ("admin, daemon", d_admin), ("node port", peer),
        ("admin endpoint", admin), ("all (union)", total)]
files = sorted({f for f, _ in total})
print("| file | " + " | ".join(c for c, _ in cols) + " |")
print("|---|" + "---:|" * len(cols))
for f in files:
    row = [sum(1 for g, _ in s if g == f) for _, s in cols]
    print("| `%s` | " % f + " | ".join(str(n) if n else "" for n in row) + " |")
print("| **total** | " + " | ".join("**%d**" % len(s) for _, s in cols) + " |")

# The fuzz corpora's line coverage of the pre-auth sets: the lines of
# each set that some replayed input of any target (the node's too)
# executed (any function: a line the daemon showed pre-auth and a
# harness ran is reached by a fuzz target),
# and the rest by function, in preauth-uncovered.md.
fuzz = {(src(f), l) for (f, l), n in lcov("prof/fuzz.lcov").items()
        if n > 0 and src(f)}
print()
for name, s in (("node port", peer), ("admin endpoint", admin),
                ("all", total)):
    print("fuzz coverage, %s: %d of %d lines (%.1f%%)" %
          (name, len(s & fuzz), len(s), 100.0 * len(s & fuzz) / len(s)))
funcs = []
for fn in json.load(open("prof/daemon.json"))["data"][0]["functions"]:
    r = fn["regions"][0]
    if src(fn["filenames"][0]):
        funcs.append((src(fn["filenames"][0]), r[0], r[2],
                      fn["name"].split(":")[-1]))
def fname(f, l):
    best = None
    for g, a, b, n in funcs:
        if g == f and a <= l <= b and (best is None or a > best[0]):
            best = (a, n)
    return best[1] if best else "?"
miss = collections.defaultdict(list)
for f, l in sorted(total - fuzz):
    miss[(f, fname(f, l))].append(l)
def ranges(ls):
    out, a = [], None
    for i, l in enumerate(ls):
        if a is None:
            a = l
        if i + 1 == len(ls) or ls[i + 1] != l + 1:
            out.append(str(a) if a == l else "%d-%d" % (a, l))
            a = None
    return ",".join(out)
with open("preauth-uncovered.md", "w") as o:
    o.write("| file | function | set | lines | uncovered |\n|---|---|---|---:|---|\n")
    for (f, n), ls in sorted(miss.items()):
        kind = "node port" if all((f, l) in peer for l in ls) else (
            "admin" if all((f, l) in admin for l in ls) else "both")
        o.write("| `%s` | `%s` | %s | %d | %s |\n" %
                (f, n, kind, len(ls), ranges(ls)))
PY
