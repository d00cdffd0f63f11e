#!/bin/sh
# PID 1 of the disposable host container: make what systemd needs writable, install the test's
# SSH key for root, then hand over to systemd. (Docker mounts the container's cgroup hierarchies
# read-only; with its own cgroup namespace, remounting them read-write touches only this
# container's view.)
set -e
for m in /sys/fs/cgroup /sys/fs/cgroup/*; do
  mountpoint -q "$m" && mount -o remount,rw "$m" 2>/dev/null || true
done
if [ -f /etc/e2e/authorized_keys ]; then
  install -d -m 0700 /root/.ssh
  install -m 0600 /etc/e2e/authorized_keys /root/.ssh/authorized_keys
fi
exec /sbin/init
