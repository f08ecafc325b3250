#!/bin/sh
# `[node] reload = watch` (issue 8 part 2), laid out like Kubernetes
# volumes: the configuration is a ConfigMap-style directory and the key a
# Secret-style one, each file a symlink through `..data` to a timestamped
# directory; an update swaps `..data` atomically (ln -s + mv -T).  With
# reload_interval = 0.5:
# 1. a swap of the configuration (the outlet's target moved) is noticed:
#    event=reload status=ok (no SIGHUP), and the next connection reaches
#    the new target;
# 2. a swap of the key file alone (new content, same path; the config file
#    unchanged) is noticed: status=ok identity=rotated; the inlet, still
#    pinning the old identity, is refused (peer-mismatch) until it pins the
#    new one (SIGHUP), then traffic works;
# 3. nothing else reloads: exactly 2 reloads, none in 2 s of quiet.
. "$(dirname "$0")/lib.sh"

T1=$(free_port)
T2=$(free_port)
start_echo "127.0.0.1:$T1" "$WORK/t1.log"
start_echo "127.0.0.1:$T2" "$WORK/t2.log"
: >>"$WORK/t1.log"
: >>"$WORK/t2.log"
OUT_ID=$(make_identity out)
OUTNEW_ID=$(make_identity outnew)
IN_ID=$(make_identity in)
NODE_PORT=$(free_port)
INLET_PORT=$(free_port)
INLET="127.0.0.1:$INLET_PORT"
CM="$WORK/cm"
SEC="$WORK/sec"

# swap(volume, new_dir): point volume/..data at new_dir atomically, then
# remove the old directory (what the kubelet does).
swap()
{
	_old=$(readlink "$1/..data")
	ln -s "$2" "$1/..data_tmp" && mv -T "$1/..data_tmp" "$1/..data" ||
		die "swapping $1/..data failed"
	rm -rf "${1:?}/$_old"
}
write_out()
{
	ini_node "$SEC/out.key" "127.0.0.1:$NODE_PORT" "reload = watch" \
	    "reload_interval = 0.5"
	ini_peers client "$IN_ID"
	ini_outlet echo "127.0.0.1:$1" client
}
write_in()
{
	{
		ini_node "$WORK/in.key" ""
		ini_peers server "$1"
		ini_inlet echo "$INLET" "server@127.0.0.1:$NODE_PORT"
	} >"$WORK/in.ini.new"
	mv -f "$WORK/in.ini.new" "$WORK/in.ini"
}
mkdir -p "$CM/..2026_01_01_00_00_01.1" "$SEC/..2026_01_01_00_00_01.1"
write_out "$T1" >"$CM/..2026_01_01_00_00_01.1/out.ini"
mv "$WORK/out.key" "$SEC/..2026_01_01_00_00_01.1/out.key"
for v in "$CM:out.ini" "$SEC:out.key"; do
	d=${v%%:*}
	f=${v#*:}
	ln -s ..2026_01_01_00_00_01.1 "$d/..data"
	ln -s "..data/$f" "$d/$f"
done
"$SALLYPORT" check "$CM/out.ini" >/dev/null || die "the watched config is invalid"
write_in "$OUT_ID"
start_node out "$CM/out.ini"
start_node in "$WORK/in.ini"
echo_ok()
{
	netkit echo-check "$INLET" --count 1 --size 1024 --timeout 5 >/dev/null 2>&1
}
echo_ok || die "no traffic before any change"
lines()
{
	grep -c . "$1" || true
}

# 1. The ConfigMap is updated: the target moves to T2.
mkdir "$CM/..2026_01_01_00_00_02.2"
write_out "$T2" >"$CM/..2026_01_01_00_00_02.2/out.ini"
t0=$(now_ms)
swap "$CM" ..2026_01_01_00_00_02.2
wait_reload out 1 ok 5
say "config swap noticed in $(($(now_ms) - t0)) ms: $RELOAD_LINE"
case " $RELOAD_LINE " in
*" identity=kept "*) ;;
*) die "the config swap does not say identity=kept: $RELOAD_LINE" ;;
esac
log_has "$WORK/out.log" event=reload-change kind=outlet name=echo \
    change=changed || die "no reload-change line for outlet echo"
b1=$(lines "$WORK/t1.log")
b2=$(lines "$WORK/t2.log")
echo_ok || die "no traffic after the config swap"
[ "$(lines "$WORK/t2.log")" = $((b2 + 1)) ] ||
	die "the connection did not reach the new target"
[ "$(lines "$WORK/t1.log")" = "$b1" ] || die "the old target got it"

# 2. The Secret is updated: a new key at the same path.
mkdir "$SEC/..2026_01_01_00_00_03.3"
mv "$WORK/outnew.key" "$SEC/..2026_01_01_00_00_03.3/out.key"
t0=$(now_ms)
swap "$SEC" ..2026_01_01_00_00_03.3
wait_reload out 2 ok 5
say "key swap noticed in $(($(now_ms) - t0)) ms: $RELOAD_LINE"
case " $RELOAD_LINE " in
*" identity=rotated "*) ;;
*) die "the key swap does not say identity=rotated: $RELOAD_LINE" ;;
esac
echo_ok && die "the inlet pinning the old identity still got through"
wait_for_event "$WORK/in.log" 5 event=audit decision=deny \
    reason=peer-mismatch role=inlet
write_in "$OUTNEW_ID"
reload_node in
echo_ok || die "no traffic once the inlet pins the new identity"
log_has "$WORK/in.log" event=audit decision=allow role=inlet \
    "peer=$OUTNEW_ID" || die "the inlet did not verify the new identity"

# 3. Two changes, two reloads; none while nothing changes (2 s, 4 polls).
wait_until 2 reload_total_ge "$WORK/out.log" 3 &&
	die "a reload without a change: $(grep 'event=reload ' "$WORK/out.log" | tail -n 1)"
[ "$(reload_total "$WORK/out.log")" = 2 ] || die "not exactly 2 reloads"
say "ok: config and key swaps noticed by the watch"
