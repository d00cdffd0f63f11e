#!/bin/sh
# PID 1 of the disposable host container: make the cgroup hierarchies writable for systemd and
# the inner Docker, install the test's SSH key for root, then hand over to systemd. Docker binds
# the container's cgroup hierarchies read-only; with its own cgroup namespace (--cgroupns=private)
# a read-write remount of those binds reaches only this container's own subtree.
set -e
for m in /sys/fs/cgroup/*; do
  if mountpoint -q "$m"; then mount -o remount,bind,rw "$m"; fi
done
if [ -f /etc/e2e/authorized_keys ]; then
  install -d -m 0700 /root/.ssh
  install -m 0600 /etc/e2e/authorized_keys /root/.ssh/authorized_keys
fi
exec /sbin/init
