#!/bin/sh
# preauth-daemon.sh BIN PROFDIR: run the node BIN (built with clang
# -fprofile-instr-generate) six times with the same configuration (an
# outlet, a relay name, the admin endpoint): twice left alone ("base"),
# twice while unauthenticated peers talk to its node port ("peer": garbage,
# preambles of random bytes, a resumed msg1 with an unknown ticket, a
# handshake from an identity nobody allows asking for a service, for a
# registration and for a client session; with PREAUTH_FORGED=1 also
# handshakes from throwaway keys with forged credential headers:
# EVILNODE, tests/helpers/evilnode),
# twice while they talk to its admin endpoint ("admin": good and bad
# requests).  With PREAUTH_AUTHORITY=1 the node is also the authority
# corp ([authority corp], its store on disk) and the strangers also try to
# enrol: a token with a wrong secret, one for an authority name the node
# does not serve, and a throwaway key with a forged credential header
# asking the authority.  Each life lasts as long (25 s) and ends with SIGTERM; the
# node's profiles are PROFDIR/{base,peer,admin}.{1,2}.profraw.  Called by
# contrib/scripts/preauth-cov.sh.
# Uses the integration tests' helpers (tests/integration/lib.sh).
set -eu
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
PROFDIR=$(cd "$2" && pwd)
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
export top_srcdir
# The node runs without seccomp and Landlock (they would forbid writing
# the profile at exit); every other step of its start-up is the same.
SALLYPORT=$PROFDIR/sallyport-nosandbox
cat > "$SALLYPORT" <<EOF
#!/bin/sh
if [ "\$1" = run ]; then shift; exec "$BIN" run --no-sandbox "\$@"; fi
LLVM_PROFILE_FILE=/dev/null exec "$BIN" "\$@"
EOF
chmod +x "$SALLYPORT"
export SALLYPORT
. "$top_srcdir/tests/integration/lib.sh"
need curl

OUT_ID=$(make_identity out)
IN_ID=$(make_identity in)
CA_ID=$("$SALLYPORT" authority create "$WORK/ca.key" | tail -n 1)
make_identity stranger >/dev/null
NODE_PORT=$(free_port)
ADMIN=$(free_port)
TARGET_PORT=$(free_port)
STRANGER_PORT=$(free_port)
spawn "$WORK/target.out" netkit accept-log "127.0.0.1:$TARGET_PORT" \
	--log "$WORK/accepts.log" --ready "$WORK/target.ready"
wait_for_file "$WORK/target.ready" 10
{
	ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT" \
	    "admin = 127.0.0.1:$ADMIN" "handshake_timeout = 2"
	ini_peers client "$IN_ID"
	ini_authorities corp "$CA_ID"
	ini_outlet db "127.0.0.1:$TARGET_PORT" client role=app@corp
	echo "[relay hub]"
	echo "register = client"
	echo "allow = client, role=app@corp"
	echo
	if [ -n "${PREAUTH_AUTHORITY:-}" ]; then
		mkdir -p "$WORK/store"
		echo "[authority corp]"
		echo "key = ca.key"
		echo "store = store/corp.db"
		echo "credential_ttl = 1h"
		echo
	fi
} >"$WORK/out.ini"
# The stranger also asks the relay name for a registration (@R) and for
# a client session (@S): refused before any signature, as unknown.
{
	ini_node "$WORK/stranger.key"
	ini_peers server "$OUT_ID"
	ini_inlet db "127.0.0.1:$STRANGER_PORT" "server@127.0.0.1:$NODE_PORT"
	echo "[outlet hub]"
	echo "target = 127.0.0.1:1"
	echo "relay = server@127.0.0.1:$NODE_PORT"
	echo "allow = $IN_ID"
	echo
	echo "[inlet via]"
	echo "listen = 127.0.0.1:$(free_port)"
	echo "outlet = $IN_ID"
	echo "via = server@127.0.0.1:$NODE_PORT"
	echo "service = hub"
	echo
} >"$WORK/stranger.ini"

# admin(request as a python bytes literal): send it, read the answer.
admin()
{
	python3 - "$ADMIN" "$1" <<'PY' >/dev/null || true
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
try:
    s.sendall(eval(sys.argv[2]))
    while s.recv(4096):
        pass
except OSError:
    pass
PY
}

# run(name, n): life ${n} of the measured node, with the traffic of ${name}.
run()
{
	LLVM_PROFILE_FILE="$PROFDIR/$1.$2.profraw"
	export LLVM_PROFILE_FILE
	rm -f "$LLVM_PROFILE_FILE"
	start_node "$1" "$WORK/out.ini"
	unset LLVM_PROFILE_FILE
	eval "_pid=\$PID_$1"
	_t0=$(date +%s)
	if [ "$1" = peer ]; then
		n=0
		for shape in "--send-random 65536" \
		    "--send-hex $(printf 'ff%.0s' $(seq 1 4096))" \
		    "--send-zero 200 --shut" "--send-hex ffff0001020304050607" \
		    "--send-hex 0022" "--send-hex 63 --shut" \
		    "--send-hex 63$(printf '5a%.0s' $(seq 1 96))" \
		    "--send-hex 70$(printf 'a5%.0s' $(seq 1 96))" \
		    "--send-hex 43$(printf '00%.0s' $(seq 1 96))" \
		    "--send-hex 0041$(printf 'a5%.0s' $(seq 1 65))" ""; do
			# shellcheck disable=SC2086
			netkit probe "127.0.0.1:$NODE_PORT" $shape --seed $n \
			    --timeout 4 >/dev/null || true
			n=$((n + 1))
		done
		start_node stranger "$WORK/stranger.ini"
		netkit probe "127.0.0.1:$STRANGER_PORT" --send-hex 00 \
		    --timeout 3 >/dev/null || true
		wait_for_log "$WORK/$1.log" "reason=not-registrant" 10
		# Forged credential headers (evilnode --forge: throwaway keys
		# claiming corp): refused once the claimed credential's
		# signature fails, before the attestation.
		for req in ${PREAUTH_FORGED:+db @S}; do
			LLVM_PROFILE_FILE=/dev/null "${EVILNODE:?}" --forge 3 --creds 4 \
			    --relay "127.0.0.1:$NODE_PORT" --outlet-id "$OUT_ID" \
			    --authority-key "$WORK/ca.key" --request "$req" \
			    --timeout 5 >/dev/null || true
		done
		# Enrolment attempts (PREAUTH_AUTHORITY=1): refused no-token,
		# refused as an unknown request, and a forged header asking @A.
		secret=$(printf 'A%.0s' $(seq 1 43))
		for auth in ${PREAUTH_AUTHORITY:+corp nosuch}; do
			"$SALLYPORT" enroll "sallyport-token-1:$auth:$CA_ID:127.0.0.1:$NODE_PORT:$secret" \
			    --identity "$WORK/enrol-$auth.key" \
			    --out "$WORK/enrol-$auth.cred" >/dev/null 2>&1 || true
		done
		[ -z "${PREAUTH_AUTHORITY:-}" ] ||
			LLVM_PROFILE_FILE=/dev/null "${EVILNODE:?}" --forge 1 \
			    --creds 1 --relay "127.0.0.1:$NODE_PORT" \
			    --outlet-id "$OUT_ID" --authority-key "$WORK/ca.key" \
			    --request @Acorp --timeout 5 >/dev/null || true
		# shellcheck disable=SC2154 # set by start_node
		stop_pid "$PID_stranger"
		forget_pid "$PID_stranger"
	elif [ "$1" = admin ]; then
		for req in "b'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'" \
		    "b'GET /healthz HTTP/1.1\r\n\r\n'" \
		    "b'GET /readyz HTTP/1.0\r\n\r\n'" \
		    "b'GET /nope HTTP/1.1\r\n\r\n'" \
		    "b'POST /metrics HTTP/1.1\r\n\r\n'" \
		    "b'GET /metrics HTTP/2.0\r\n\r\n'" \
		    "b'\x00\x01garbage\r\n\r\n'" \
		    "b'GET /' + b'a' * 3000 + b' HTTP/1.1\r\n\r\n'" \
		    "b'GET / HTTP/1.1\r\nX: ' + b'b' * 3000 + b'\r\n\r\n'" \
		    "b'GET /metrics HTTP/1.1\r\nbad header\r\n\r\n'"; do
			admin "$req"
		done
		# A client that says nothing (the admin timeout).
		netkit probe "127.0.0.1:$ADMIN" --timeout 4 >/dev/null || true
	fi
	# Every life lasts as long: the timers fire as often.
	while [ $(($(date +%s) - _t0)) -lt 25 ]; do
		sleep 1
	done
	# shellcheck disable=SC2154 # set by the eval above
	stop_pid "$_pid"
	forget_pid "$_pid"
	[ -s "$PROFDIR/$1.$2.profraw" ] || die "node $1 wrote no profile"
}

# Twice each: a line counts when both lives with traffic ran it more often
# than either quiet one (timers fire once more or less from life to life),
# or when no quiet life ran it at all.
for life in 1 2; do
	run base $life
	run peer $life
	run admin $life
done
say "ok"
