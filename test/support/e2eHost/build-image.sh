#!/usr/bin/env bash
# Builds the disposable "server" image of the end-to-end test: a Debian 12 (bookworm) root made
# with debootstrap from Debian packages, booting systemd, with what a fresh Debian server that the
# bring-your-own-server bootstrap finds would have (sshd) plus what it installs (Docker, UFW,
# fail2ban, curl) and what the host-maintenance step, the ACME group and the standby pair install
# (unattended-upgrades, lego, keepalived) -- pre-installed,
# because the host reaches no package mirror during the test; the steps then find them present and
# install nothing. The root is made and imported by .ci/debian-image.sh; rootfs.sh makes it a
# fresh machine on every boot, and boot.sh is its PID 1.
#
#   bash test/support/e2eHost/build-image.sh        prints the image tag; builds it only when missing
#
# The tag is keyed on the build inputs (this script, rootfs.sh, boot.sh, .ci/debian-image.sh, the
# suite, the mirror), so a change to any of them builds a new image and an unchanged one costs a
# `docker image inspect`.
# Environment: E2E_HOST_MIRROR (default: the Debian mirror apt uses here), E2E_HOST_REPO.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
helper=$(cd "$here/../../../.ci" && pwd)/debian-image.sh
SUITE=bookworm
PACKAGES=systemd,systemd-sysv,dbus,openssh-server,docker.io,ufw,fail2ban,unattended-upgrades,lego,keepalived,python3-systemd,curl,ca-certificates,iproute2,procps,kmod
REPO="${E2E_HOST_REPO:-e2e-debian-host}"
MIRROR="${E2E_HOST_MIRROR:-$(bash "$helper" --print-mirror)}"

key=$(cat "$here/build-image.sh" "$here/rootfs.sh" "$here/boot.sh" "$helper" <(echo "$SUITE $MIRROR") | sha256sum | cut -c1-16)
TAG="$REPO:$key"
if docker image inspect "$TAG" >/dev/null 2>&1; then echo "$TAG"; exit 0; fi

start=$(date +%s)
echo "build-image.sh: building $TAG" >&2
bash "$helper" --mirror "$MIRROR" --setup "$here/rootfs.sh" \
  --change 'CMD ["/usr/local/sbin/e2e-boot"]' --label "telephony.e2e.host=$key" \
  "$SUITE" "$PACKAGES" "$TAG" >/dev/null
echo "build-image.sh: $TAG built in $(( $(date +%s) - start )) s" >&2
echo "$TAG"
