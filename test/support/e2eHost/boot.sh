#!/bin/sh
# PID 1 of the disposable host container: make the cgroup hierarchies writable for systemd and
# the inner Docker, install the test's SSH key for root, then hand over to systemd. Docker binds
# the container's cgroup hierarchies read-only; with its own cgroup namespace (--cgroupns=private)
# a read-write remount of those binds reaches only this container's own subtree.
# /proc/sys is read-only too; only its net/ part is made writable (a bind of it remounted rw): those
# sysctls belong to the container's own network namespace (the standby pair's deploy sets
# net.ipv4/ipv6.ip_nonlocal_bind), while the kernel-wide ones stay out of reach.
# E2E_LINKS (space-separated interface names): wait until the test has wired each of them before
# systemd starts, so nothing on the host (keepalived, sshd) starts without its network.
set -e
for m in /sys/fs/cgroup/*; do
  if mountpoint -q "$m"; then mount -o remount,bind,rw "$m"; fi
done
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,rw /proc/sys/net
for link in ${E2E_LINKS:-}; do
  tries=0
  until [ -e "/sys/class/net/$link" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 600 ]; then echo "e2e-boot: $link never appeared" >&2; exit 1; fi
    sleep 0.1
  done
done
if [ -f /etc/e2e/authorized_keys ]; then
  install -d -m 0700 /root/.ssh
  install -m 0600 /etc/e2e/authorized_keys /root/.ssh/authorized_keys
fi
exec /sbin/init
