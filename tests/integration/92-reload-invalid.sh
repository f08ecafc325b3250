#!/bin/sh
# Invalid reloads change nothing (issue 8 part 2).  After one valid reload
# (idle_timeout), the outlet node is sent one SIGHUP per kind of error:
# a syntax error, an unknown key, a bad address, an unknown peer name in
# allow, a missing key file, and its own key file made mode 0644.  Each
# broken file also drops the client from the allow-list, so any part of it
# applied would show.  Asserts for each: `sallyport check` rejects the file
# (78); the node logs `event=reload status=failed` at level warn with
# error="...out.ini:LINE: ..." naming the right line, no reload-change
# line, and traffic through the tunnel still works (the client is still
# allowed).  Then a valid reload (the client taken off the allow-list) is
# applied: status=ok, a higher generation, and the client is denied.
. "$(dirname "$0")/lib.sh"

TARGET_PORT=$(free_port)
start_echo "127.0.0.1:$TARGET_PORT"
tunnel echo "127.0.0.1:$TARGET_PORT"
OTHER_ID=$(make_identity other)
{
	ini_node "$WORK/out.key" "127.0.0.1:$NODE_PORT"
	ini_peers client "$IN_ID" other "$OTHER_ID"
	ini_outlet echo "127.0.0.1:$TARGET_PORT" client
} >"$WORK/good.ini"
# revoked.ini: valid, but the client is no longer allowed.
sed 's/^allow = client$/allow = other/' "$WORK/good.ini" >"$WORK/revoked.ini"
sed '/^listen = /a idle_timeout = 600' "$WORK/good.ini" >"$WORK/good2.ini"
for f in good good2 revoked; do
	"$SALLYPORT" check "$WORK/$f.ini" >/dev/null || die "$f.ini is not valid"
done

traffic_ok()
{
	_r=$(netkit echo-check "$INLET" --count 2 --size 4096 --timeout 10) ||
		die "traffic through the tunnel failed ($1): $_r"
}
line_of()
{
	grep -n -m1 -- "$1" "$WORK/revoked.ini" | cut -d: -f1
}

put_file "$WORK/good2.ini" "$WORK/out.ini"
reload_node out ok
gen1=$(field "$RELOAD_LINE" generation)
say "valid reload: $RELOAD_LINE"
[ -n "$gen1" ] || die "no generation= in the reload line"
log_has "$WORK/out.log" event=reload-change kind=node change=changed ||
	die "no reload-change kind=node line for idle_timeout"
traffic_ok "after the first valid reload"
changes=$(log_count "$WORK/out.log" event=reload-change)

L_HEADER=$(line_of '^\[outlet echo\]$')
L_TARGET=$(line_of '^target = ')
L_ALLOW=$(line_of '^allow = ')
L_IDENT=$(line_of '^identity = ')
for kind in syntax unknown-key bad-address unknown-peer missing-key key-mode; do
	bad="$WORK/bad-$kind.ini"
	case $kind in
	syntax)
		sed 's/^\[outlet echo\]$/[outlet echo/' "$WORK/revoked.ini" >"$bad"
		line=$L_HEADER ;;
	unknown-key)
		sed '/^target = /a frobnicate = 1' "$WORK/revoked.ini" >"$bad"
		line=$((L_TARGET + 1)) ;;
	bad-address)
		sed 's/^target = .*/target = 127.0.0.1:99999/' \
		    "$WORK/revoked.ini" >"$bad"
		line=$L_TARGET ;;
	unknown-peer)
		sed 's/^allow = other$/allow = nobody-known/' \
		    "$WORK/revoked.ini" >"$bad"
		line=$L_ALLOW ;;
	missing-key)
		sed "s|^identity = .*|identity = $WORK/missing.key|" \
		    "$WORK/revoked.ini" >"$bad"
		line=$L_IDENT ;;
	key-mode)
		cp "$WORK/revoked.ini" "$bad"
		chmod 0644 "$WORK/out.key"
		line=$L_IDENT ;;
	esac
	cmp -s "$bad" "$WORK/revoked.ini" && [ "$kind" != key-mode ] &&
		die "$kind: the broken file is not broken"
	rc=0
	"$SALLYPORT" check "$bad" >"$WORK/check-$kind.out" 2>&1 || rc=$?
	[ "$rc" = 78 ] || die "$kind: sallyport check exited $rc, not 78"
	put_file "$bad" "$WORK/out.ini"
	reload_node out failed
	say "$kind: $RELOAD_LINE"
	case " $RELOAD_LINE " in
	*" level=warn "*) ;;
	*) die "$kind: the failed reload is not level=warn" ;;
	esac
	printf '%s\n' "$RELOAD_LINE" |
	    grep -Eq "error=\"[^\"]*out\\.ini:$line: [^\"]+\"" ||
		die "$kind: the error does not name out.ini:$line: $RELOAD_LINE"
	[ "$(log_count "$WORK/out.log" event=reload-change)" = "$changes" ] ||
		die "$kind: a failed reload logged reload-change lines"
	[ "$kind" = key-mode ] && chmod 0600 "$WORK/out.key"
	traffic_ok "after the $kind reload"
	log_has "$WORK/out.log" event=audit decision=deny "peer=$IN_ID" &&
		die "$kind: part of the broken file was applied (client denied)"
done
[ "$(log_count "$WORK/out.log" event=reload status=failed)" = 6 ] ||
	die "not 6 failed reloads"

# A valid reload still works, and is applied.
put_file "$WORK/revoked.ini" "$WORK/out.ini"
reload_node out ok
say "valid reload: $RELOAD_LINE"
gen2=$(field "$RELOAD_LINE" generation)
[ "$gen2" -gt "$gen1" ] || die "generation did not grow ($gen1 -> $gen2)"
log_has "$WORK/out.log" event=reload-change kind=outlet name=echo \
    change=changed || die "no reload-change line for outlet echo"
r=$(netkit probe "$INLET" --send-hex 50494e470d0a --timeout 5)
say "client after the valid reload: $r"
[ "$(field "$r" bytes)" = 0 ] || die "the client still got data: $r"
wait_for_event "$WORK/out.log" 5 event=audit decision=deny \
    reason=not-allowed "peer=$IN_ID" service=echo role=outlet
say "ok: 6 invalid reloads changed nothing; valid reloads applied"
