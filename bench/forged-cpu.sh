#!/bin/sh
# What a stranger's handshake costs a node (issue 19, N2), in
# instructions (callgrind's Ir: repeatable on a busy machine, unlike
# milliseconds).  One node (--no-sandbox: seccomp stops valgrind) is an
# outlet (allow = role=app@corp) and a relay with NAMES names, each
# allowing role=app@corp; evilnode --forge makes N handshakes with fresh
# throwaway keys, each run counted alone (callgrind_control -z, then -d):
#   unknown  no credential (the identity is on no list)
#   forged   CREDS credentials naming corp as issuer, signatures that fail
# at the outlet (request "echo") and at the relay ("@S").  Prints
# instructions per attempt and the ratio to an unknown key.
# Usage: bench/forged-cpu.sh SALLYPORT EVILNODE [N] [NAMES] [CREDS]
set -eu
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
EVIL=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
N=${3:-20} NAMES=${4:-10} CREDS=${5:-4}
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
	{ echo "forged-cpu: needs valgrind" >&2; exit 77; }
W=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$W"' EXIT INT TERM
cd "$W"
CA=$("$BIN" authority create ca.key | tail -n 1)
OUT=$("$BIN" identity create out.key | grep -Eo 'I[0-9a-f]{64}' | tail -n 1)
PORT=$((20000 + $$ % 20000))
{
	printf '[node]\nidentity = %s/out.key\nlisten = 127.0.0.1:%s\n' \
	    "$W" "$PORT"
	[ "$(id -u)" != 0 ] || echo "allow_root = yes"
	printf '\n[authorities]\ncorp = %s\n\n' "$CA"
	printf '[outlet echo]\ntarget = 127.0.0.1:1\nallow = role=app@corp\n\n'
	i=0
	while [ $i -lt "$NAMES" ]; do
		printf '[relay r%s]\nallow = role=app@corp\n\n' $i
		i=$((i + 1))
	done
} >node.ini
valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" \
    "$BIN" run --no-sandbox node.ini >node.log 2>&1 &
PID=$!
i=0
until grep -q event=ready node.log; do
	i=$((i + 1))
	[ $i -lt 600 ] || { cat node.log >&2; exit 1; }
	sleep 0.1
done
# count(request, creds): instructions of N attempts, counted alone.
count()
{
	callgrind_control -z "$PID" >/dev/null 2>&1
	"$EVIL" --forge "$N" --creds "$2" --relay "127.0.0.1:$PORT" \
	    --outlet-id "$OUT" --authority-key "$W/ca.key" --request "$1" \
	    --timeout 30 >/dev/null
	rm -f "$W"/cg.out.*
	callgrind_control -d "$PID" >/dev/null 2>&1
	sed -n 's/^summary: *//p; s/^totals: *//p' "$W"/cg.out.* | head -n 1
}
for req in echo @S; do
	u=$(count "$req" 0)
	f=$(count "$req" "$CREDS")
	echo "request=$req names=$NAMES creds=$CREDS attempts=$N" \
	    "unknown_ir=$((u / N)) forged_ir=$((f / N))" \
	    "ratio=$(awk -v a="$f" -v b="$u" 'BEGIN { printf "%.2f", a / b }')"
done
