#!/bin/sh
# The container image (docker/Dockerfile, issue 24 part 1), built and run
# with podman, no Docker engine and no registry.  Base images come from
# Debian packages: `mmdebstrap --variant=minbase bookworm` with this
# machine's apt sources (debian:bookworm, the build stage) and the same
# without docs, man pages and locales (debian:bookworm-slim, the runtime);
# both carry the apt clean-up settings official base images have, so that
# the runtime layer keeps no apt cache.  podman runs with the containers.conf
# below (CONTAINERS_CONF): runc, cgroupfs, file events, default ulimits
# within this machine's hard limits.  `podman build --format docker` keeps
# the HEALTHCHECK (the OCI format drops it).
#
# Then an outlet and an inlet container (--network=host --read-only
# --cap-drop ALL, config and key mounted read-only) carry redis traffic;
# inside, the node is uid 10001 with CapEff 0, NoNewPrivs 1 and Seccomp 2;
# `podman healthcheck run` passes; `podman kill --signal HUP` reloads
# (event=reload status=ok); `podman stop` ends it with exit code 0; the
# memlock warning carries its container hint (and the test prints the limit
# the containers got).  Last, `podman kube play` runs outlet.yaml and
# sidecar.yaml of contrib/kubernetes (made runnable here by k8s-podman.py)
# and redis goes through the sidecar's listener and the outlet pod.
#
# Cached outside the build tree (srctree.sh): the base images stay in
# podman's store and are reused when present; the image is tagged with the
# source hash, so the plain and the ASan runs build it once.  Skips (77)
# only when podman cannot run at all, never where CI=true.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/integration/srctree.sh"
need redis-server redis-cli

command -v podman >/dev/null 2>&1 ||
	ci_skip "podman is not installed (contrib/scripts/deps.sh)"
[ "$(id -u)" = 0 ] || ci_skip "needs root (rootful podman, mmdebstrap)"

# Hard limits of this machine bound the containers' defaults.
# hard_limit(name): the hard limit of /proc/self/limits' "Max ${name}".
hard_limit()
{
	_l=$(awk -v n="Max $1" 'index($0, n) == 1 { print $(NF - 1) }' /proc/self/limits)
	[ "$_l" != unlimited ] || _l=1048576
	echo "$_l"
}
hn=$(hard_limit "open files")
nofile=$((hn < 20000 ? hn : 20000))
hu=$(hard_limit processes)
nproc=$((hu < 32768 ? hu : 32768))
cat >"$WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
CONTAINERS_CONF=$WORK/containers.conf
export CONTAINERS_CONF
podman info >"$WORK/info.out" 2>&1 ||
	ci_skip "podman cannot run here: $(tail -n 3 "$WORK/info.out")"

CTRS=""
PODS=""
# (set +e: a container or pod already gone must not cut the EXIT trap
# short, before lib.sh's cleanup stops this test's processes.)
ctr_cleanup()
{
	set +e
	for _c in $CTRS; do
		podman rm -f -t 5 "$_c" >/dev/null 2>&1
	done
	for _p in $PODS; do
		podman pod rm -f -t 5 "$_p" >/dev/null 2>&1
	done
	# The ConfigMaps' volumes kube play made (their names end in $SFX).
	for _v in $(podman volume ls -q 2>/dev/null | grep -e "$SFX\$"); do
		podman volume rm -f "$_v" >/dev/null 2>&1
	done
}
# Appended to the kube pods' and ConfigMaps' names: unique to this run.
SFX=-t46-$$
trap '_r=$?; ctr_cleanup; (exit $_r); cleanup' EXIT

# --- the base images ---
# base(tag, extra mmdebstrap options...): make localhost/debian:${tag}
# from Debian packages unless it exists.
base()
{
	_tag=$1
	shift
	if podman image exists "localhost/debian:$_tag"; then
		say "reusing localhost/debian:$_tag"
		return 0
	fi
	command -v mmdebstrap >/dev/null 2>&1 ||
		ci_skip "mmdebstrap is not installed (contrib/scripts/deps.sh)"
	_src=/etc/apt/sources.list.d/debian.sources
	[ -f "$_src" ] || _src=/etc/apt/sources.list
	_t0=$(date +%s)
	# The apt settings of official images: drop downloaded .debs and the
	# package caches after every dpkg run and update, no translations.
	mmdebstrap --quiet --variant=minbase \
	    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr "$@" \
	    --aptopt='Dir::Cache::pkgcache ""' --aptopt='Dir::Cache::srcpkgcache ""' \
	    --customize-hook='printf "%s\n" "DPkg::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };" "APT::Update::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };" "Dir::Cache::pkgcache \"\";" "Dir::Cache::srcpkgcache \"\";" >"$1/etc/apt/apt.conf.d/docker-clean"' \
	    --customize-hook='echo "Acquire::Languages \"none\";" >"$1/etc/apt/apt.conf.d/docker-no-languages"' \
	    bookworm "$WORK/base-$_tag.tar" "$_src" >"$WORK/mmdebstrap-$_tag.log" 2>&1 ||
		die "mmdebstrap $_tag failed: $(tail -n 20 "$WORK/mmdebstrap-$_tag.log")"
	podman import --change 'CMD ["/bin/bash"]' "$WORK/base-$_tag.tar" \
	    "localhost/debian:$_tag" >"$WORK/import.log" 2>&1 ||
		die "podman import $_tag: $(cat "$WORK/import.log")"
	rm -f "$WORK/base-$_tag.tar"
	say "made localhost/debian:$_tag in $(($(date +%s) - _t0)) s"
}
base bookworm
base bookworm-slim --dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-include=/usr/share/locale/locale.alias'

# --- the image, once per source tree ---
hash=$(src_hash)
IMAGE=localhost/sallyport-test:$hash
if podman image exists "$IMAGE"; then
	say "reusing $IMAGE"
else
	src_copy "$WORK/ctx"
	t0=$(date +%s)
	podman build --format docker --network=host -f "$WORK/ctx/docker/Dockerfile" \
	    -t "$IMAGE" "$WORK/ctx" >"$WORK/build.log" 2>&1 ||
		die "podman build failed: $(tail -n 40 "$WORK/build.log")"
	t1=$(date +%s)
	gz=$(podman save "$IMAGE" 2>/dev/null | gzip -c | wc -c)
	echo "build=$((t1 - t0))s gzipped=$gz" >"$SP_CACHE/image-$hash.txt"
	rm -rf "$WORK/ctx"
	# Older images of this test go (a dangling build stage with them).
	podman images --format '{{.Repository}}:{{.Tag}}' localhost/sallyport-test |
	    grep -vx "$IMAGE" | while read -r old; do
		podman rmi -f "$old" >/dev/null 2>&1 || true
	done
	podman image prune -f >/dev/null 2>&1 || true
	find "$SP_CACHE" -name 'image-*.txt' ! -name "image-$hash.txt" -delete
fi
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
say "image $IMAGE: $size bytes ($(cat "$SP_CACHE/image-$hash.txt" 2>/dev/null || echo 'build figures not kept'))"
podman image inspect --format '{{json .Config.Healthcheck}}' "$IMAGE" |
	grep -q 'sallyport probe' || die "the image has no HEALTHCHECK"
[ "$(podman image inspect --format '{{.Config.User}}' "$IMAGE")" = 10001:10001 ] ||
	die "the image's user is not 10001:10001"

# --- an outlet and an inlet container carrying redis ---
start_redis
NODE_PORT=$(free_port)
INLET_PORT=$(free_port)
ADMIN_OUT=$(free_port)
ADMIN_IN=$(free_port)
OUT_ID=$(make_identity out)
IN_ID=$(make_identity in)
chmod 755 "$WORK"
for n in out in; do
	mkdir -m 755 "$WORK/etc-$n"
	# A Secret volume under fsGroup 10001, defaultMode 0440 (README).
	mv "$WORK/$n.key" "$WORK/etc-$n/node.key"
	chown 0:10001 "$WORK/etc-$n/node.key"
	chmod 0440 "$WORK/etc-$n/node.key"
done
# [node] by hand: ini_node's allow_root is for nodes started as root.
{
	printf '[node]\nidentity = /etc/sallyport/node.key\n'
	printf 'listen = 127.0.0.1:%s\nadmin = 127.0.0.1:%s\n\n' "$NODE_PORT" "$ADMIN_OUT"
	ini_peers app "$IN_ID"
	ini_outlet redis "127.0.0.1:$REDIS_PORT" app
} >"$WORK/etc-out/node.ini"
{
	printf '[node]\nidentity = /etc/sallyport/node.key\nadmin = 127.0.0.1:%s\n\n' "$ADMIN_IN"
	ini_peers db "$OUT_ID"
	ini_inlet redis "127.0.0.1:$INLET_PORT" "db@127.0.0.1:$NODE_PORT"
} >"$WORK/etc-in/node.ini"
chmod 644 "$WORK"/etc-*/node.ini

# ctr_log(name): the container's output so far, into $WORK/name.log.
ctr_log()
{
	podman logs "sp-test-$1-$$" >"$WORK/$1.log" 2>&1 || true
}
ctr_has()
{
	_h=$1
	shift
	ctr_log "$_h"
	log_has "$WORK/$_h.log" "$@"
}
# ctr_wait(name, timeout, key=value...): wait for a line in its output.
ctr_wait()
{
	_cn=$1
	_ct=$2
	shift 2
	wait_until "$_ct" ctr_has "$_cn" "$@" ||
		die "container $_cn: no '$*' within $_ct s"
}
for n in out in; do
	c=sp-test-$n-$$
	eval "admin=\$ADMIN_$(echo $n | tr a-z A-Z)"
	CTRS="$CTRS $c"
	NODE_LOGS="$NODE_LOGS $WORK/$n.log"
	podman run -d --name "$c" --network=host --read-only --cap-drop ALL \
	    -v "$WORK/etc-$n:/etc/sallyport:ro" \
	    -e "SALLYPORT_ADMIN=http://127.0.0.1:$admin/readyz" \
	    "$IMAGE" >"$WORK/run-$n.out" 2>&1 ||
		die "podman run $n: $(cat "$WORK/run-$n.out")"
	ctr_wait "$n" 30 event=ready
done

[ "$(redis-cli -p "$INLET_PORT" PING)" = PONG ] || die "no PONG through the containers"
[ "$(redis-cli -p "$INLET_PORT" SET ctr in-a-container)" = OK ] || die "SET failed"
[ "$(redis-cli -p "$INLET_PORT" GET ctr)" = in-a-container ] || die "GET failed"
ctr_log out
log_has "$WORK/out.log" event=audit decision=allow service=redis "peer=$IN_ID" ||
	die "no allow audit line in the outlet container"
say "redis PING/SET/GET through the outlet and inlet containers: ok"

# The node's process status inside the container.
for n in out in; do
	podman exec "sp-test-$n-$$" cat /proc/1/limits >"$WORK/limits-$n" 2>&1 || true
	podman exec "sp-test-$n-$$" cat /proc/1/status >"$WORK/status-$n" 2>&1 ||
		die "podman exec $n: $(cat "$WORK/status-$n")"
	st=$(grep -E '^(Uid|CapEff|NoNewPrivs|Seccomp):' "$WORK/status-$n" | tr -s '\t ' ' ' | tr '\n' ';')
	say "$n: $st"
	grep -Eq '^Uid:[[:space:]]+10001[[:space:]]+10001[[:space:]]+10001[[:space:]]+10001$' "$WORK/status-$n" ||
		die "$n does not run as uid 10001: $st"
	grep -Eq '^CapEff:[[:space:]]+0+$' "$WORK/status-$n" || die "$n has capabilities: $st"
	grep -Eq '^NoNewPrivs:[[:space:]]+1$' "$WORK/status-$n" || die "$n lacks NoNewPrivs: $st"
	grep -Eq '^Seccomp:[[:space:]]+2$' "$WORK/status-$n" || die "$n is not in seccomp filter mode: $st"
	podman healthcheck run "sp-test-$n-$$" >"$WORK/health-$n" 2>&1 ||
		die "healthcheck of $n failed: $(cat "$WORK/health-$n")"
done
say "uid 10001, CapEff 0, NoNewPrivs 1, Seccomp 2; podman healthcheck run: healthy"

# A reload by SIGHUP through podman.
podman kill --signal HUP "sp-test-out-$$" >/dev/null || die "podman kill --signal HUP failed"
ctr_wait out 30 event=reload status=ok
[ "$(redis-cli -p "$INLET_PORT" GET ctr)" = in-a-container ] || die "GET after the reload failed"
say "podman kill --signal HUP: reload status=ok"

# A clean stop: SIGTERM, drain, exit 0.
for n in in out; do
	# (podman without systemd logs that it has no healthcheck timer to remove)
	podman stop -t 30 "sp-test-$n-$$" >"$WORK/stop-$n" 2>&1 ||
		die "podman stop $n failed: $(cat "$WORK/stop-$n")"
	code=$(podman inspect --format '{{.State.ExitCode}}' "sp-test-$n-$$")
	[ "$code" = 0 ] || die "$n exited $code after podman stop"
done
say "podman stop: exit 0"

# The memlock warning says where the limit comes from in a container.
ml=$(awk '/^Max locked memory/ { print $4, $5 }' "$WORK/limits-out")
if log_has "$WORK/out.log" event=memlock scope=credentials; then
	grep 'event=memlock' "$WORK/out.log" | grep -q 'hint=.*--ulimit memlock=-1:-1.*Kubernetes has no per-pod limit' ||
		die "the memlock warning lacks the container hint: $(grep event=memlock "$WORK/out.log")"
	say "memlock limit in the container: $ml (soft hard); warned with the hint"
else
	log_has "$WORK/out.log" event=memlock scope=all ||
		die "no event=memlock line: $(head -n 5 "$WORK/out.log")"
	say "memlock limit in the container: $ml; scope=all"
fi

# --- the Kubernetes manifests podman can run: outlet.yaml (a Deployment)
# and sidecar.yaml (a Deployment with the inlet as a native sidecar), made
# to run here by k8s-podman.py (host network, this image, hostPath for the
# token Secrets, this machine's ports), carrying redis from the sidecar's
# listener through the outlet pod.  Both pods make their key in their
# emptyDir (the init container) and enrol with a token from the
# authority corp, which runs here as a node of the built binary (its
# manifest, authority.yaml, is a StatefulSet: podman cannot run it;
# 110-k8s-enrol.sh runs its config).  relay.yaml is a StatefulSet too and
# intercept.yaml needs NET_ADMIN and nftables rules in the pod: both are
# checked by 85-k8s-manifests.sh (schemas, fields, `sallyport check` of
# their node.ini); the relay fleet itself by 72/73.
need_py_yaml=$(python3 -c 'import yaml' 2>&1) ||
	ci_skip "python3-yaml is not installed (contrib/scripts/deps.sh): $need_py_yaml"
K_NODE=$(free_port)
K_INLET=$(free_port)
K_ADMIN_OUT=$(free_port)
K_ADMIN_IN=$(free_port)
K_AUTH=$(free_port)
k8s=$top_srcdir/contrib/kubernetes
"$SALLYPORT" authority create "$WORK/corp.key" >/dev/null || die "authority create failed"
mkdir "$WORK/corp-store"
{
	ini_node kauth.key "127.0.0.1:$K_AUTH"
	echo "[authority corp]"
	echo "key = corp.key"
	echo "store = corp-store/corp.db"
} >"$WORK/kauth.ini"
make_identity kauth >/dev/null
start_node kauth "$WORK/kauth.ini"
# kube(manifest, FROM=TO...): play it; remember its pods.
kube()
{
	_m=$1
	_b=$(basename "$1" .yaml)
	shift
	python3 "$top_srcdir/tests/integration/k8s-podman.py" --suffix="$SFX" "$_m" "$IMAGE" \
	    "$WORK/etc-$_b" "$WORK/$_b-pods.yaml" "$WORK/$_b-cm.yaml" "$@" ||
		die "k8s-podman.py $_b failed"
	if ! podman kube play --network host --configmap "$WORK/$_b-cm.yaml" \
	    "$WORK/$_b-pods.yaml" >"$WORK/$_b-play.out" 2>&1; then
		# A pod half brought up is not in $PODS: take it down here.
		podman kube down "$WORK/$_b-pods.yaml" >/dev/null 2>&1 || true
		die "podman kube play $_b: $(cat "$WORK/$_b-play.out")"
	fi
	_pod=$(sed -n '/^Pod:/{n;p}' "$WORK/$_b-play.out")
	[ -n "$_pod" ] || die "podman kube play $_b: no pod: $(cat "$WORK/$_b-play.out")"
	PODS="$PODS $_pod"
	eval "POD_$(echo "$_b" | tr -c 'a-z0-9\n' _)=$_pod"
}
ready()
{
	"$SALLYPORT" probe "http://127.0.0.1:$1/readyz" >/dev/null 2>&1
}
# The token Secrets (role=db for the outlet, role=app for the sidecar),
# root:10001 0440 as the Secret volume gives them.
for b in outlet sidecar; do
	mkdir -m 755 "$WORK/etc-$b"
	"$SALLYPORT" authority token create "$WORK/kauth.ini" corp \
	    --attr "role=$([ $b = outlet ] && echo db || echo app)" --uses 2 \
	    >"$WORK/etc-$b/token" 2>"$WORK/token-$b.err" ||
		die "token create failed: $(cat "$WORK/token-$b.err")"
	chown 0:10001 "$WORK/etc-$b/token"
	chmod 0440 "$WORK/etc-$b/token"
done
kube "$k8s/outlet.yaml" "0.0.0.0:7400=127.0.0.1:$K_NODE" \
	"127.0.0.1:9400=127.0.0.1:$K_ADMIN_OUT" \
	"postgres.data.svc.cluster.local:5432=127.0.0.1:$REDIS_PORT"
wait_until 60 ready "$K_ADMIN_OUT" || die "outlet.yaml's pod: not ready: $(podman pod logs "$POD_outlet" 2>&1 | tail -n 20)"
kube "$k8s/sidecar.yaml" "127.0.0.1:9400=127.0.0.1:$K_ADMIN_IN" \
	"127.0.0.1:5432=127.0.0.1:$K_INLET" \
	"sallyport-outlet.data.svc.cluster.local:7400=127.0.0.1:$K_NODE"
wait_until 60 ready "$K_ADMIN_IN" || die "sidecar.yaml's pod: not ready: $(podman pod logs "$POD_sidecar" 2>&1 | tail -n 20)"
[ "$(redis-cli -p "$K_INLET" PING)" = PONG ] ||
	die "no PONG through the kube pods: $(podman pod logs "$POD_sidecar" 2>&1 | tail -n 20)
outlet pod: $(podman pod logs "$POD_outlet" 2>&1 | tail -n 20)"
[ "$(redis-cli -p "$K_INLET" GET ctr)" = in-a-container ] || die "GET through the kube pods failed"
podman pod logs "$POD_outlet" >"$WORK/kube-outlet.log" 2>&1 || true
log_has "$WORK/kube-outlet.log" event=enroll authority=corp result=ok ||
	die "outlet.yaml's pod did not enrol: $(tail -n 20 "$WORK/kube-outlet.log")"
log_has "$WORK/kube-outlet.log" event=audit decision=allow service=postgres rule=role=app@corp ||
	die "no allow audit line in outlet.yaml's pod: $(tail -n 20 "$WORK/kube-outlet.log")"
say "podman kube play outlet.yaml + sidecar.yaml: keys made in the pods, enrolled by token, redis PING/GET through the pods: ok"
for p in $POD_sidecar $POD_outlet; do
	podman pod stop -t 30 "$p" >"$WORK/pod-stop" 2>&1 ||
		die "podman pod stop $p failed: $(cat "$WORK/pod-stop")"
done
say "ok"
