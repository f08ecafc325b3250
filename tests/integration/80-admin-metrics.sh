#!/bin/sh
# Admin endpoint metrics (docs/logging.md, "Metrics"): an inlet -> outlet
# tunnel to an echo target with admin = on both nodes.  Asserts /healthz
# and /readyz answer 200, bytes and opened/closed counters move as traffic
# flows (curl), a stranger's denial is counted by decision and reason,
# `sallyport probe` exits 0 on the URL and 1 on a dead port, and
# `promtool check metrics` accepts the output (when promtool is there;
# CI installs it: contrib/scripts/deps.sh).
. "$(dirname "$0")/lib.sh"
need curl

ECHO_PORT=$(free_port)
start_echo "127.0.0.1:$ECHO_PORT"
OUT_ADMIN=$(free_port)
IN_ADMIN=$(free_port)
# The two nodes share the node lines: give each its own admin port.
tunnel_admin()
{
	OUT_ID=$(make_identity out)
	IN_ID=$(make_identity in)
	NODE_PORT=$(free_port)
	INLET_PORT=$(free_port)
	INLET="127.0.0.1:$INLET_PORT"
	{
		ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT" \
			"admin = 127.0.0.1:$OUT_ADMIN"
		ini_peers client "$IN_ID"
		ini_outlet echo "127.0.0.1:$ECHO_PORT" client
	} >"$WORK/out.ini"
	{
		ini_node "$WORK/in.key" "" "admin = 127.0.0.1:$IN_ADMIN"
		ini_peers server "$OUT_ID"
		ini_inlet echo "$INLET" "server@127.0.0.1:$NODE_PORT"
	} >"$WORK/in.ini"
	start_node out "$WORK/out.ini"
	start_node in "$WORK/in.ini"
}
tunnel_admin

[ "$(curl -fsS "http://127.0.0.1:$OUT_ADMIN/healthz")" = ok ] ||
	die "/healthz is not ok"
[ "$(curl -fsS "http://127.0.0.1:$IN_ADMIN/readyz")" = ready ] ||
	die "/readyz is not ready"
"$SALLYPORT" probe "http://127.0.0.1:$IN_ADMIN/readyz" >/dev/null ||
	die "probe of /readyz failed"
"$SALLYPORT" probe "127.0.0.1:$IN_ADMIN" >/dev/null ||
	die "probe of the address failed"
DEAD=$(free_port)
if "$SALLYPORT" probe "http://127.0.0.1:$DEAD/healthz" 2>/dev/null; then
	die "probe of a dead port succeeded"
fi

# Traffic: 3 connections of 1000 bytes each through the tunnel.
netkit echo-check "$INLET" --count 3 >"$WORK/check.out" 2>&1 ||
	die "echo through the tunnel failed: $(cat "$WORK/check.out")"
closed_in()
{
	[ "$(metric "$IN_ADMIN" 'sallyport_connections_closed_total{role="inlet",reason="eof"}')" = 3 ]
}
wait_until 5 closed_in || die "inlet closed_total{eof} is not 3"
[ "$(metric "$IN_ADMIN" 'sallyport_connections_opened_total{role="inlet",name="echo"}')" = 3 ] ||
	die "inlet opened_total is not 3"
[ "$(metric "$IN_ADMIN" 'sallyport_connections_active{role="inlet"}')" = 0 ] ||
	die "inlet active is not 0"
rx=$(metric "$IN_ADMIN" 'sallyport_received_bytes_total{role="inlet"}')
[ "$rx" -gt 0 ] || die "inlet received bytes did not move"
tx=$(metric "$OUT_ADMIN" 'sallyport_sent_bytes_total{role="outlet"}')
[ "$tx" = "$rx" ] || die "outlet sent $tx bytes, the inlet received $rx"
[ "$(metric "$OUT_ADMIN" 'sallyport_access_decisions_total{role="outlet",decision="allow",reason="allowed"}')" = 3 ] ||
	die "outlet allow decisions are not 3"
[ "$(metric "$IN_ADMIN" 'sallyport_handshake_duration_seconds_count{role="inlet"}')" = 3 ] ||
	die "handshake histogram count is not 3"

# A stranger is denied: counted by decision and reason, never by peer.
make_identity stranger >/dev/null
STRANGER_PORT=$(free_port)
{
	ini_node "$WORK/stranger.key"
	ini_peers server "$OUT_ID"
	ini_inlet echo "127.0.0.1:$STRANGER_PORT" "server@127.0.0.1:$NODE_PORT"
} >"$WORK/stranger.ini"
start_node stranger "$WORK/stranger.ini"
probe_denied "127.0.0.1:$STRANGER_PORT"
denied()
{
	[ "$(metric "$OUT_ADMIN" 'sallyport_access_decisions_total{role="outlet",decision="deny",reason="not-allowed"}')" = 1 ]
}
wait_until 5 denied || die "the denial was not counted"
curl -fsS "http://127.0.0.1:$OUT_ADMIN/metrics" >"$WORK/metrics.txt"
if grep -q 'I[0-9a-f]\{64\}\|127\.0\.0\.1' "$WORK/metrics.txt"; then
	die "a peer identifier or an address is in the metrics"
fi
grep -q '^sallyport_build_info{version="[^"]*",aes="[^"]*"} 1$' \
	"$WORK/metrics.txt" || die "no build_info"
if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1 ||
		die "promtool: $(cat "$WORK/promtool.out")"
	curl -fsS "http://127.0.0.1:$IN_ADMIN/metrics" |
		promtool check metrics >"$WORK/promtool.out" 2>&1 ||
		die "promtool: $(cat "$WORK/promtool.out")"
else
	say "promtool not installed: format not checked (contrib/scripts/deps.sh)"
fi
say "ok"
