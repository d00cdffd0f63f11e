#!/usr/bin/env bash
# .ci/base-rootfs.sh ROOTFS — the Node.js base image's own steps on its bootstrapped root, run by
# .ci/debian-image.sh --setup for .ci/base-image.sh: node must run there and be new enough, the
# root is slimmed, and the image's labels (suite, node version) are printed on stdout for the
# import. Environment: BASE_SUITE, BASE_MIN_NODE_MAJOR (as base-image.sh sets them).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
rootfs=${1:?usage: base-rootfs.sh ROOTFS}
BASE_SUITE="${BASE_SUITE:-forky}"
BASE_MIN_NODE_MAJOR="${BASE_MIN_NODE_MAJOR:-24}"

node_version=$(chroot "$rootfs" /usr/bin/node -e 'process.stdout.write(process.version)') \
  || die "node does not run inside the bootstrapped $BASE_SUITE rootfs"
node_major=${node_version#v}; node_major=${node_major%%.*}
[ "$node_major" -ge "$BASE_MIN_NODE_MAJOR" ] \
  || die "$BASE_SUITE ships node $node_version, need >= $BASE_MIN_NODE_MAJOR (set BASE_SUITE)"

# Slim down (debian-image.sh drops the downloaded .debs and apt lists: a Dockerfile that needs apt
# runs `apt-get update` first anyway): apt's caches, docs/man/locales, logs. Copyright files stay.
rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/man/* \
       "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log
find "$rootfs/usr/share/doc" -type f ! -name copyright -delete 2>/dev/null || true
# Host-specific: debootstrap copied in this machine's name (resolv.conf: debian-image.sh empties it).
echo localhost >"$rootfs/etc/hostname"

echo "LABEL fshetzner.base.suite=$BASE_SUITE fshetzner.base.node=$node_version"
