#!/usr/bin/env bash
# Builds the disposable "server" image of the end-to-end test: a Debian 12 (bookworm) root made
# with debootstrap from Debian packages, booting systemd, with what a fresh Debian server that the
# bring-your-own-server bootstrap finds would have (sshd) plus what it installs (Docker, UFW,
# fail2ban, curl) and what the host-maintenance step installs (unattended-upgrades) -- pre-installed,
# because the host reaches no package mirror during the test; the steps then find them present and
# install nothing.
#
#   bash test/support/e2eHost/build-image.sh        prints the image tag; builds it only when missing
#
# The tag is keyed on the build inputs (this script, boot.sh, the suite, the mirror), so a change
# to any of them builds a new image and an unchanged one costs a `docker image inspect`.
# Environment: E2E_HOST_MIRROR (default: the Debian mirror apt uses here), E2E_HOST_REPO.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SUITE=bookworm
PACKAGES=systemd,systemd-sysv,dbus,openssh-server,docker.io,ufw,fail2ban,unattended-upgrades,python3-systemd,curl,ca-certificates,iproute2,procps,kmod
REPO="${E2E_HOST_REPO:-e2e-debian-host}"
MIRROR="${E2E_HOST_MIRROR:-$(apt-get indextargets --format '$(REPO_URI)' 2>/dev/null | grep -m1 -E '/debian/?$' || true)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian/}"

key=$(cat "$here/build-image.sh" "$here/boot.sh" <(echo "$SUITE $MIRROR") | sha256sum | cut -c1-16)
TAG="$REPO:$key"
if docker image inspect "$TAG" >/dev/null 2>&1; then echo "$TAG"; exit 0; fi

for tool in debootstrap; do
  command -v "$tool" >/dev/null || { echo "build-image.sh: $tool is missing (apt-get install $tool)" >&2; exit 1; }
done
root=$(mktemp -d /var/tmp/e2e-host-root.XXXXXX)
trap 'rm -rf "$root" "$root.log"' EXIT
start=$(date +%s)
echo "build-image.sh: debootstrap $SUITE from $MIRROR (log $root.log)" >&2
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1; then
  tail -n 30 "$root.log" >&2; exit 1
fi

# A fresh machine on every boot: its own machine ID (the deploy keys host steps on it) and its
# own SSH host keys, made when sshd first starts.
: >"$root/etc/machine-id"
rm -f "$root"/etc/ssh/ssh_host_*
install -d "$root/etc/systemd/system/ssh.service.d"
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
  >"$root/etc/systemd/system/ssh.service.d/e2e-host-keys.conf"
# Nothing in a container to drive these.
for unit in getty@tty1.service console-getty.service systemd-udevd.service systemd-udev-trigger.service \
            systemd-modules-load.service sys-kernel-config.mount sys-kernel-debug.mount apt-daily.timer apt-daily-upgrade.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
# Docker's default bridge would take 172.17.0.0/16 inside the container; the test uses
# documentation ranges only (the deploy runs its containers on the host network anyway).
install -d "$root/etc/docker"
echo '{ "bip": "192.0.2.129/25" }' >"$root/etc/docker/daemon.json"
echo e2e-host >"$root/etc/hostname"
: >"$root/etc/resolv.conf"
install -m 0755 "$here/boot.sh" "$root/usr/local/sbin/e2e-boot"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

tar --numeric-owner -C "$root" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . \
  | docker import --change 'CMD ["/usr/local/sbin/e2e-boot"]' \
      --change "LABEL telephony.e2e.host=$key" - "$TAG" >/dev/null
echo "build-image.sh: $TAG built in $(( $(date +%s) - start )) s" >&2
echo "$TAG"
