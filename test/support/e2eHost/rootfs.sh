#!/usr/bin/env bash
# The disposable host's tweaks to its bootstrapped root (ROOTFS, the first argument), run by
# .ci/debian-image.sh --setup before the root is imported (build-image.sh). Prints nothing on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${1:?usage: rootfs.sh ROOTFS}

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
install -m 0755 "$here/boot.sh" "$root/usr/local/sbin/e2e-boot"
