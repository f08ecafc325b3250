#!/bin/sh
# The Kubernetes manifests (contrib/kubernetes/*.yaml): every object of
# every file validates against the Kubernetes API schemas (the npm package
# kubernetes-models, one class per kind), the fields the deployment relies
# on are there (k8s-manifests.js: native sidecar, probes through
# `sallyport probe` on /readyz, NetworkPolicies admitting only the node
# port, key Secrets with defaultMode 0440 under an fsGroup, reload = watch,
# the securityContext; enrolling pods make their key in an emptyDir and
# read the token from a Secret; the authority's store on a
# PersistentVolume), and every embedded node.ini passes `sallyport check`
# once its key, token, credential and store paths and its identifiers are
# replaced by generated ones (a token line of a generated authority key).
# As root, the check also runs as uid 10001 against a key owned by root,
# group 10001, mode 0440: what a Secret volume gives that uid.
#
# The npm packages are installed into the build directory
# (tests/node_modules-k8s), once.  Skips (77) only without node/npm or
# when the install fails for lack of network.
. "$(dirname "$0")/lib.sh"

# Exact versions: kubernetes-models 5 needs Node 22; 4.5.1 runs on Node 20
# and knows native sidecars (Container.restartPolicy, Kubernetes 1.29+).
# js-yaml 3 reads `0440` as octal, like Kubernetes' YAML 1.1 parser.
MODELS=kubernetes-models@4.5.1
JSYAML=js-yaml@3.14.1

command -v node >/dev/null 2>&1 || skip "node is not installed (Node.js 20 needed for kubernetes-models)"
command -v npm >/dev/null 2>&1 || skip "npm is not installed (needed to install kubernetes-models)"

mkdir -p "$top_builddir/tests"
PREFIX=$(cd "$top_builddir/tests" && pwd)/node_modules-k8s
have()
{
	node -e 'const p = require(process.argv[1] + "/node_modules/" + process.argv[2] + "/package.json");
		process.exit(p.version === process.argv[3] ? 0 : 1)' \
		"$PREFIX" "$1" "$2" 2>/dev/null
}
if ! have kubernetes-models 4.5.1 || ! have js-yaml 3.14.1; then
	say "npm install $MODELS $JSYAML into $PREFIX"
	if ! npm install --prefix "$PREFIX" --no-audit --no-fund --no-save \
	    "$MODELS" "$JSYAML" >"$WORK/npm.log" 2>&1; then
		if grep -Eq 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network' \
		    "$WORK/npm.log"; then
			skip "npm install $MODELS $JSYAML failed for lack of network: $(tail -n 3 "$WORK/npm.log" | tr '\n' ' ')"
		fi
		die "npm install failed: $(cat "$WORK/npm.log")"
	fi
fi

# Schema validation and the explicit field checks; node.ini files to $WORK/ini.
mkdir "$WORK/ini"
NODE_PATH="$PREFIX/node_modules" node "$top_srcdir/tests/integration/k8s-manifests.js" \
	"$WORK/ini" "$top_srcdir"/contrib/kubernetes/*.yaml >"$WORK/validate.out" 2>&1 ||
	die "manifests invalid: $(cat "$WORK/validate.out")"
say "$(cat "$WORK/validate.out")"

# As root, with setpriv: check as the pods' uid 10001 with the key as a
# Secret volume under fsGroup 10001 and defaultMode 0440 has it.
as_pod=""
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	as_pod="setpriv --reuid 10001 --regid 10001 --clear-groups --"
	chmod 711 "$WORK"
	chmod 755 "$WORK/ini"
	# The binary must be reachable for that uid (a build under a 0700
	# home directory is not): then check as root only.
	if ! $as_pod "$SALLYPORT" --help >/dev/null 2>&1; then
		say "uid 10001 cannot run $SALLYPORT: checking as root only"
		as_pod=""
	fi
fi

# The authority key every enrolment token and [authority] section names.
CA_ID=$("$SALLYPORT" authority create "$WORK/corp.key" | grep -Eo 'I[0-9a-f]{64}' | tail -n 1)
[ -n "$CA_ID" ] || die "authority create printed no identifier"
SECRET=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
TOKEN="sallyport-token-1:corp:$CA_ID:127.0.0.1:7400:$SECRET"

n=0
for ini in "$WORK"/ini/*.ini; do
	n=$((n + 1))
	name=$(basename "$ini" .ini)
	key=$(sed -n 's/^identity *= *//p' "$ini")
	[ -n "$key" ] || die "$name: no identity line"
	make_identity "$name" >/dev/null
	{
		echo "s|^identity *= *$key\$|identity = $WORK/$name.key|"
		echo "s|^enroll *= *.*\$|enroll = $WORK/$name.token|"
		echo "s|^enroll_credential *= *.*\$|enroll_credential = $WORK/$name.cred|"
		echo "s|^key *= *.*\$|key = $WORK/corp.key|"
		echo "s|^store *= *.*\$|store = $WORK/$name-store/corp.db|"
	} >"$WORK/$name.sed"
	printf '%s\n' "$TOKEN" >"$WORK/$name.token"
	mkdir "$WORK/$name-store"
	# Every identifier in the file becomes a generated one (distinct ones
	# stay distinct).
	i=0
	for id in $(grep -Eo 'I[0-9a-f]{64}' "$ini" | sort -u); do
		i=$((i + 1))
		new=$(make_identity "$name-peer$i")
		echo "s/$id/$new/g" >>"$WORK/$name.sed"
	done
	sed -f "$WORK/$name.sed" "$ini" >"$WORK/$name.ini.new" &&
		mv "$WORK/$name.ini.new" "$ini"
	grep -q "^identity = $WORK/$name.key\$" "$ini" || die "$name: identity not substituted"
	if [ -n "$as_pod" ]; then
		# Secret volumes: root:10001 0440.  An enrolling pod's own key
		# is the uid's, 0600 (sallyport identity create in the pod).
		if grep -q '^enroll *=' "$ini"; then
			chown 10001:10001 "$WORK/$name.key"
		else
			chown 0:10001 "$WORK/$name.key"
			chmod 0440 "$WORK/$name.key"
		fi
		chown 0:10001 "$WORK/$name.token" "$WORK/corp.key"
		chmod 0440 "$WORK/$name.token" "$WORK/corp.key"
		chown 10001:10001 "$WORK/$name-store"
		chmod 644 "$ini"
	fi
	rc=0
	# shellcheck disable=SC2086
	$as_pod "$SALLYPORT" check "$ini" >"$WORK/$name.check" 2>&1 || rc=$?
	[ "$rc" = 0 ] || die "sallyport check $name.ini: exit $rc: $(cat "$WORK/$name.check")
$(cat "$ini")"
	say "$name: sallyport check ok${as_pod:+ (as uid 10001, Secret files root:10001 0440)}"
done
[ "$n" -ge 3 ] || die "only $n node.ini found in the manifests"

# The key rule the manifests rely on also refuses what a wrong defaultMode
# gives: root-owned 0444 (others may read), here the authority key.
if [ -n "$as_pod" ]; then
	ini=$(grep -l '^\[authority ' "$WORK"/ini/*.ini | head -n 1)
	[ -n "$ini" ] || die "no authority node.ini"
	chmod 0444 "$WORK/corp.key"
	rc=0
	# shellcheck disable=SC2086
	$as_pod "$SALLYPORT" check "$ini" >"$WORK/bad.check" 2>&1 || rc=$?
	[ "$rc" = 78 ] || die "key 0444 accepted (exit $rc): $(cat "$WORK/bad.check")"
	grep -q "too open" "$WORK/bad.check" ||
		die "the refusal does not say why: $(cat "$WORK/bad.check")"
fi
exit 0
