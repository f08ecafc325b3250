#!/bin/sh
# Install the Debian 12 packages that building and testing sallyport need.
# Skips apt entirely when everything is already there.  podman, runc,
# catatonit (the pause process of a pod),
# mmdebstrap and python3-yaml build and run the container image and the
# Kubernetes manifests (46-container.sh);
# dpkg-dev, debhelper and lintian build and check the Debian package
# (47-deb-package.sh).
set -eu
pkgs="build-essential autoconf automake libtool pkg-config
 libbearssl-dev libev-dev libc-ares-dev libinih-dev libseccomp-dev libsqlite3-dev libpq-dev check libjansson-dev clang llvm-14 mandoc
 openssl socat curl redis-server redis-tools nginx-light iperf3
 stunnel4 spiped openssh-client openssh-server
 iproute2 nftables procps psmisc python3 systemd
 postgresql postgresql-client tcpdump prometheus
 podman runc catatonit mmdebstrap python3-yaml dpkg-dev debhelper lintian"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Services must not start at install time: the tests start their own.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
apt-get install -y -qq --no-install-recommends $missing
rm -f /usr/sbin/policy-rc.d
