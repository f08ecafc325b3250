#!/bin/sh
# The Kubernetes manifests' enrolment, end to end on loopback with the
# real binary (issue 21, section 4).  The node.ini of each ConfigMap is
# taken from the YAML (authority.yaml, outlet.yaml, sidecar.yaml), and only
# what one machine needs is replaced: this machine's ports for the
# cluster's addresses and ports, files in the test directory for the
# volumes' paths (and allow_root = yes when the test runs as root: the
# pods run as uid 10001).  The keys are made by the init container's own command
# (from the YAML), which does nothing when the key is there already.
# - the authority node starts from authority.yaml's config with an empty
#   store; tokens are made with `sallyport authority token create` on that
#   config, as authority.yaml's header says;
# - the outlet pod (token role=db) and two sidecar pods sharing one token
#   (role=app, --uses 2) start with nothing but their fresh key and the
#   token, enrol, and the sidecars reach redis through the outlet, which
#   allows them by role=app@corp; the inlets pin the outlet by
#   role=db@corp; /readyz (the probes' command) passes;
# - a third pod with the same, used-up token is refused token-used;
# - a sidecar container restarted (its emptyDir kept: key and credential)
#   starts without enrolling again and reaches redis.
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli
need_py_yaml=$(python3 -c 'import yaml' 2>&1) ||
	skip "python3-yaml is not installed (contrib/scripts/deps.sh): $need_py_yaml"

S=$SALLYPORT
k8s=$top_srcdir/contrib/kubernetes
start_redis

# cm_ini(manifest): the node.ini of the manifest's ConfigMap.
cm_ini()
{
	python3 -c '
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "ConfigMap" and "node.ini" in d.get("data", {}):
        sys.stdout.write(d["data"]["node.ini"])
        break
else:
    sys.exit("no ConfigMap with node.ini in " + sys.argv[1])
' "$1" || die "no node.ini in $1"
}

# init_cmd(manifest): the init container "identity"'s shell command.
init_cmd()
{
	python3 -c '
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] in ("Deployment", "StatefulSet"):
        for c in d["spec"]["template"]["spec"].get("initContainers", []):
            if c["name"] == "identity":
                assert c["command"][:2] == ["sh", "-c"], c["command"]
                print(c["command"][2])
                sys.exit(0)
sys.exit("no init container identity in " + sys.argv[1])
' "$1" || die "no identity init container in $1"
}

# pod(name, manifest, FROM=TO...): $WORK/name.ini from the manifest's
# ConfigMap, its volumes' paths under $WORK/name/ (the key and credential
# in $WORK/name/state, the token $WORK/name/enroll/token), each FROM=TO
# replaced; then the init container's command makes the key.
pod()
{
	_n=$1
	_m=$2
	shift 2
	mkdir -p "$WORK/$_n/state" "$WORK/$_n/enroll"
	cm_ini "$_m" >"$WORK/$_n.ini.in"
	init_cmd "$_m" >"$WORK/$_n.init"
	_sed="s|/var/lib/sallyport/|$WORK/$_n/state/|g;s|/etc/sallyport/enroll/|$WORK/$_n/enroll/|g"
	_sed="$_sed;s|/etc/sallyport/authority/|$WORK/$_n/authority/|g"
	_sed="$_sed;s|/var/lib/sallyport-store/|$WORK/$_n/store/|g"
	for _s in "$@"; do
		_sed="$_sed;s|${_s%%=*}|${_s#*=}|g"
	done
	sed "$_sed" "$WORK/$_n.ini.in" >"$WORK/$_n.ini"
	# The pods run as uid 10001; a test run as root says it means it.
	if [ "$(id -u)" = 0 ]; then
		sed 's/^\[node\]$/[node]\nallow_root = yes/' "$WORK/$_n.ini" >"$WORK/$_n.ini.new" &&
			mv "$WORK/$_n.ini.new" "$WORK/$_n.ini"
	fi
	sed "$_sed" "$WORK/$_n.init" >"$WORK/$_n.init.sh"
	grep -Eq '/var/lib|/etc/sallyport|svc\.cluster\.local|:(9400|7400|5432)([^0-9]|$)' \
	    "$WORK/$_n.ini" && die "$_n.ini: a path or address not replaced: $(cat "$WORK/$_n.ini")"
	PATH="$(cd "$(dirname "$S")" && pwd):$PATH" sh "$WORK/$_n.init.sh" \
	    >"$WORK/$_n.init.out" 2>&1 ||
		die "$_n: the init container's command failed: $(cat "$WORK/$_n.init.out")"
	[ "$(stat -c %a "$WORK/$_n/state/node.key")" = 600 ] || die "$_n: key not 0600"
}

ready()
{
	"$S" probe "http://127.0.0.1:$1/readyz" >/dev/null 2>&1
}

AUTH_PORT=$(free_port)
AUTH_ADMIN=$(free_port)
OUT_PORT=$(free_port)
OUT_ADMIN=$(free_port)

# --- the authority (authority.yaml) ----------------------------------------
pod auth "$k8s/authority.yaml" \
	"0.0.0.0:7400=127.0.0.1:$AUTH_PORT" "127.0.0.1:9400=127.0.0.1:$AUTH_ADMIN" \
	"sallyport-authority.sallyport.svc.cluster.local:7400=127.0.0.1:$AUTH_PORT"
mkdir -p "$WORK/auth/authority" "$WORK/auth/store"
CA_ID=$("$S" authority create "$WORK/auth/authority/corp.key" | grep -Eo 'I[0-9a-f]{64}' | tail -n 1)
[ -n "$CA_ID" ] || die "authority create printed no identifier"
start_node auth "$WORK/auth.ini"
wait_until 30 ready "$AUTH_ADMIN" || die "the authority is not ready"

# token(role, uses): a token line of corp, as authority.yaml's header makes it.
token()
{
	"$S" authority token create "$WORK/auth.ini" corp --attr "role=$1" \
	    --uses "$2" --ttl 1h 2>"$WORK/token.ref" ||
		die "token create failed: $(cat "$WORK/token.ref")"
}
token db 1 >"$WORK/db.token"
token app 2 >"$WORK/app.token"
grep -q "^sallyport-token-1:corp:$CA_ID:127.0.0.1:$AUTH_PORT:" "$WORK/app.token" ||
	die "the token does not carry authority.yaml's address: $(cut -d: -f1-5 "$WORK/app.token")"

# --- the outlet (outlet.yaml) ----------------------------------------------
pod out "$k8s/outlet.yaml" \
	"0.0.0.0:7400=127.0.0.1:$OUT_PORT" "127.0.0.1:9400=127.0.0.1:$OUT_ADMIN" \
	"postgres.data.svc.cluster.local:5432=127.0.0.1:$REDIS_PORT"
cp "$WORK/db.token" "$WORK/out/enroll/token"
[ ! -e "$WORK/out/state/node.cred" ] || die "a credential before enrolment"
start_node out "$WORK/out.ini"
wait_until 30 ready "$OUT_ADMIN" || die "the outlet pod is not ready"
log_has "$WORK/out.log" event=enroll authority=corp result=ok ||
	die "the outlet did not enrol: $(tail -n 20 "$WORK/out.log")"
OUT_ID=$("$S" identity show "$WORK/out/state/node.key")

# --- two sidecar pods with one token (sidecar.yaml) --------------------------
# sidecar(name): start the pod's node (made by pod() before); its inlet
# port is $P_name, its admin port $A_name.
sidecar()
{
	start_node "$1" "$WORK/$1.ini"
	eval "_a=\$A_$1"
	wait_until 30 ready "$_a" || die "sidecar $1 is not ready: $(tail -n 20 "$WORK/$1.log")"
}
pong()
{
	[ "$(redis-cli -h 127.0.0.1 -p "$1" PING 2>&1)" = PONG ]
}
for a in app1 app2 app3; do
	eval "P_$a=$(free_port)"
	eval "A_$a=$(free_port)"
	eval "pod $a \"\$k8s/sidecar.yaml\" \"127.0.0.1:9400=127.0.0.1:\$A_$a\" \
		\"127.0.0.1:5432=127.0.0.1:\$P_$a\" \
		\"sallyport-outlet.data.svc.cluster.local:7400=127.0.0.1:$OUT_PORT\""
	cp "$WORK/app.token" "$WORK/$a/enroll/token"
done
for a in app1 app2; do
	sidecar $a
	log_has "$WORK/$a.log" event=enroll authority=corp result=ok ||
		die "$a did not enrol: $(tail -n 20 "$WORK/$a.log")"
	eval "_p=\$P_$a"
	wait_until 10 pong "$_p" || die "no PONG through $a"
	ID=$("$S" identity show "$WORK/$a/state/node.key")
	wait_for_event "$WORK/out.log" 10 event=audit decision=allow \
	    "peer=$ID" rule=role=app@corp
	wait_for_event "$WORK/$a.log" 10 event=audit decision=allow \
	    "peer=$OUT_ID" rule=role=db@corp
	say "$a: enrolled with the shared token, PONG through the outlet by role=app@corp"
done
"$S" authority member list "$WORK/auth.ini" corp >"$WORK/members" 2>&1 ||
	die "member list failed: $(cat "$WORK/members")"
[ "$(grep -c 'role=app' "$WORK/members")" = 2 ] ||
	die "not two role=app members: $(cat "$WORK/members")"

# The token's two uses are gone: a third pod is refused at start.
spawn "$WORK/app3.log" "$S" run "$WORK/app3.ini"
wait_exit "$LAST_PID" 30 || die "app3 did not end its start: $(tail -n 5 "$WORK/app3.log")"
[ "$EXIT_CODE" != 0 ] || die "a third pod enrolled with a two-use token"
grep -q 'token-used' "$WORK/app3.log" ||
	die "app3 not refused token-used: $(tail -n 5 "$WORK/app3.log")"
[ ! -e "$WORK/app3/state/node.cred" ] || die "app3 got a credential"

# A restarted container keeps its emptyDir: the init command leaves the key
# alone, the node starts from its credential without enrolling again.
KEYSUM=$(cksum <"$WORK/app1/state/node.key")
PATH="$(cd "$(dirname "$S")" && pwd):$PATH" sh "$WORK/app1.init.sh" ||
	die "the init command failed on an existing key"
[ "$(cksum <"$WORK/app1/state/node.key")" = "$KEYSUM" ] || die "the init command replaced the key"
stop_pid "$PID_app1"
mv "$WORK/app1.log" "$WORK/app1-first.log"
sidecar app1
log_has "$WORK/app1.log" event=enroll && die "app1 enrolled again after a restart"
wait_until 10 pong "$P_app1" || die "no PONG through app1 after its restart"
say "ok: authority.yaml, outlet.yaml and sidecar.yaml's configs: enrolled by token" \
    "(two uses, the third refused token-used), redis by attribute rules; a" \
    "restarted container keeps its key and credential"
