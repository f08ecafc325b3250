#!/bin/sh
# A reload logs one reload-change line per changed section, whatever key
# changed (issue 19, R2; docs/config.md "Reload"): one node with a [node],
# [peers], [authorities], an outlet, an inlet and a relay section is
# reloaded once per key of those sections, each time with that key alone
# changed; each reload must log exactly one `event=reload-change kind=K
# name=N change=changed` line, for that section, and `changed=1`.  Before
# issue 19 `max_dials`, `proxy_protocol`, an attribute rule in `allow` or
# `register`, and an inlet's `intercept` changed without a line
# (changed=0); before issue 20 so did [node]'s admin, admin_public, user,
# group, allow_root, intercept, credential, revoked, credential_skew and
# resume, a peer's identifier and [authorities] (the diff now compares
# every key of config.c's key tables).  Loopback; the peers it names are
# never reached.
. "$(dirname "$0")/lib.sh"

ID_node=$(make_identity node)
ID_A=$(make_identity a)
ID_B=$(make_identity b)
ID_C=$(make_identity c)
ID_HUB=$(make_identity hub)
ID_CORP=$(make_identity corp)
cp "$WORK/node.key" "$WORK/node2.key" # the same key under another name
cred_issue corp.key node --attr role=node --ttl 1h
: >"$WORK/revoked.list"

# The keys' values; each step of the loop below changes one.  [node]
# keys whose value is empty are left out.
n_identity="$WORK/node.key"
n_listen="127.0.0.1:$(free_port)"
n_intercept="127.0.0.1:$(free_port)"
n_allow_root=yes
NODE_KEYS="identity listen intercept allow_root max_connections
max_handshakes handshake_timeout connect_timeout idle_timeout shutdown_grace
keepalive tcp_keepalive log_level reload reload_interval relay_resolve admin
admin_public user group credential revoked credential_skew resume"
for k in $NODE_KEYS; do
	eval ": \"\${n_$k:=}\""
done
p_more=""
a_more=""
o_target="127.0.0.1:$(free_port)"
o_allow="a"
o_relay="hub@127.0.0.1:$(free_port)"
o_pool=4
o_proxy=off
o_dials=4
o_pconns=0
o_prate=0
o_pburst=0
o_pbytes=0
o_ppbytes=0
i_listen="127.0.0.1:$(free_port)"
i_intercept="198.18.19.1:5432"
i_outlet="a@127.0.0.1:$(free_port)"
i_service=s1
i_via=""
r_register="a"
r_allow="b"
r_via="hub@127.0.0.1:$(free_port)"
r_pconns=4096
r_prate=0
r_pburst=0

write_conf()
{
	{
		echo "[node]"
		for k in $NODE_KEYS; do
			eval "v=\$n_$k"
			[ -z "$v" ] || echo "$k = $v"
		done
		# shellcheck disable=SC2086 # "name id" pairs, or nothing
		ini_peers a "$ID_A" b "$ID_B" hub "$ID_HUB" $p_more
		# shellcheck disable=SC2086
		ini_authorities corp "$ID_CORP" $a_more
		echo "[outlet o]"
		echo "target = $o_target"
		echo "allow = $o_allow"
		echo "relay = $o_relay"
		echo "pool = $o_pool"
		echo "proxy_protocol = $o_proxy"
		echo "max_dials = $o_dials"
		echo "max_connections_per_peer = $o_pconns"
		echo "new_connections_per_second = $o_prate"
		echo "new_connections_burst = $o_pburst"
		echo "bytes_per_second_per_connection = $o_pbytes"
		echo "bytes_per_second_per_peer = $o_ppbytes"
		echo
		echo "[inlet i]"
		echo "listen = $i_listen"
		echo "intercept = $i_intercept"
		echo "outlet = $i_outlet"
		echo "service = $i_service"
		[ -z "$i_via" ] || echo "via = $i_via"
		echo
		echo "[relay r]"
		echo "register = $r_register"
		echo "allow = $r_allow"
		echo "via = $r_via"
		echo "max_connections_per_peer = $r_pconns"
		echo "new_connections_per_second = $r_prate"
		echo "new_connections_burst = $r_pburst"
	} >"$WORK/node.ini.new"
	mv -f "$WORK/node.ini.new" "$WORK/node.ini"
}
write_conf
"$SALLYPORT" check "$WORK/node.ini" >"$WORK/check.out" 2>&1 ||
	die "the base configuration: $(cat "$WORK/check.out")"
start_node n "$WORK/node.ini"

# One step per key: KIND NAME VARIABLE NEW-VALUE (the inlet's via needs
# its outlet without an address: the last two inlet steps make one
# reload; reload = watch last: from then on the node reloads by itself).
cat >"$WORK/steps" <<EOF
node node n_identity $WORK/node2.key
node node n_listen 127.0.0.1:$(free_port)
node node n_intercept 127.0.0.1:$(free_port)
node node n_max_connections 9000
node node n_max_handshakes 200
node node n_handshake_timeout 11
node node n_connect_timeout 11
node node n_idle_timeout 3600
node node n_shutdown_grace 11
node node n_keepalive 31
node node n_tcp_keepalive 121
node node n_log_level info
node node n_reload_interval 3
node node n_relay_resolve 31
node node n_admin 127.0.0.1:$(free_port)
node node n_admin_public yes
node node n_user root
node node n_group root
node node n_credential $WORK/node.cred
node node n_revoked $WORK/revoked.list
node node n_credential_skew 31
node node n_resume no
node node n_allow_root no
peers peers p_more c $ID_C
peers peers p_more c $ID_CORP
authorities authorities a_more corp2 $ID_A
outlet o o_dials 9
outlet o o_target 127.0.0.1:$(free_port)
outlet o o_allow a,b
outlet o o_allow a,b,role=app@corp
outlet o o_relay hub@127.0.0.1:$(free_port)
outlet o o_pool 5
outlet o o_proxy v2
outlet o o_pconns 5
outlet o o_prate 10
outlet o o_pburst 20
outlet o o_pbytes 1048576
outlet o o_ppbytes 2097152
inlet i i_listen 127.0.0.1:$(free_port)
inlet i i_intercept 198.18.19.1:5433
inlet i i_outlet b@127.0.0.1:$(free_port)
inlet i i_outlet role=db@corp@127.0.0.1:$(free_port)
inlet i i_service s2
inlet i i_outlet b
inlet i i_via hub@127.0.0.1:$(free_port)
relay r r_register a,b
relay r r_register a,b,role=db@corp
relay r r_allow b,a
relay r r_allow b,a,role=app@corp
relay r r_via hub@127.0.0.1:$(free_port)
relay r r_pconns 100
relay r r_prate 10
relay r r_pburst 20
node node n_reload watch
EOF
while read -r kind name var value; do
	before=$(log_count "$WORK/n.log" event=reload-change)
	eval "$var=\$value"
	write_conf
	# i_outlet without an address is only valid with a via: its step
	# and the via's are one change each, checked together.
	if [ "$var" = i_outlet ] && [ "$value" = b ]; then
		continue
	fi
	reload_node n
	after=$(log_count "$WORK/n.log" event=reload-change)
	line=$(grep 'event=reload-change' "$WORK/n.log" | tail -n 1)
	say "$var = $value: $line"
	[ "$((after - before))" = 1 ] ||
		die "$var = $value: $((after - before)) reload-change lines"
	case " $line " in
	*" kind=$kind name=$name change=changed "*) ;;
	*) die "$var = $value: not this section's line: $line" ;;
	esac
	[ "$(field "$RELOAD_LINE" changed)" = 1 ] ||
		die "$var = $value: $RELOAD_LINE"
done <"$WORK/steps"
proc_alive "$PID_n" || die "the node died"
say "ok"
