#!/usr/bin/env bash
# .ci/docker-engine.sh — step 2 of .ci/docker-setup.sh: a Docker engine that answers. One that
# answers already is used as it is; otherwise (root, Debian's docker.io installed by step 1) this
# starts dockerd in the background and waits for it, or says why it could not.
#
# dockerd runs without a bridge and without touching the host firewall (flags below): containers
# and builds use `--network host` (a container started without --network gets only loopback;
# `docker build --network host` when a RUN step needs the network). The Debian client
# (/usr/bin/docker, 20.10, API 1.41) and a newer one on PATH (28.x, negotiating down to 1.41)
# both work with it; `docker build` uses the legacy builder (no buildx plugin).
#
# Environment: DOCKERD_LOG (/var/log/dockerd-ci.log), DOCKERD_WAIT (seconds to wait for dockerd to
# answer, 60), DOCKER_STORAGE_DRIVER (overlay2|vfs|...; auto: overlay2 when the kernel has overlayfs
# and /var/lib/docker is not itself on overlayfs), DOCKER (the client; see lib.sh).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd-ci.log}"
DOCKERD_WAIT="${DOCKERD_WAIT:-60}"

# Storage driver: overlay2 works on this kind of machine (ext4 root with
# d_type, kernel has overlayfs). vfs is the fallback that works anywhere but
# copies every layer in full (slow, disk hungry), so it is only chosen when
# overlayfs is unavailable or /var/lib/docker itself sits on overlayfs (nested
# overlay mounts fail).
pick_storage_driver() {
  if [ -n "${DOCKER_STORAGE_DRIVER:-}" ]; then echo "$DOCKER_STORAGE_DRIVER"; return; fi
  mkdir -p /var/lib/docker
  if grep -qw overlay /proc/filesystems && [ "$(stat -f -c %T /var/lib/docker)" != overlayfs ]; then
    echo overlay2
  else
    echo vfs
  fi
}

# Is $1 a live (not zombie) process? kill -0 alone says yes for zombies.
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# A pid file left by a dockerd/containerd that was killed (e.g. when a session
# ended) makes the next start refuse ("pid file found, ensure docker is not
# running") while that pid is a not-yet-reaped zombie or got reused.
clear_stale_pidfile() {  # $1 = pid file, $2 = expected process name
  local f=$1 name=$2 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  if [ -z "$pid" ] || ! alive "$pid" || [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" != "$name" ]; then
    log "removing stale $f"
    rm -f "$f"
  fi
}

# Last meaningful log lines (dockerd 20.10 logs a lot of gRPC chatter at info).
show_dockerd_log() {
  { grep -v 'module=grpc' "$DOCKERD_LOG" | tail -n 25; } >&2 2>/dev/null || true
}

# pid of a live dockerd not started by us, if any (e.g. started by a previous
# run of this script, or by hand).
live_dockerd() {
  local p
  for p in $(pgrep -x dockerd || true); do alive "$p" && { echo "$p"; return; }; done
  return 0
}

start_dockerd() {
  local driver
  clear_stale_pidfile /var/run/docker.pid dockerd
  clear_stale_pidfile /var/run/docker/containerd/containerd.pid containerd
  driver=$(pick_storage_driver)
  dockerd_args=(
    # overlay2 normally; see pick_storage_driver.
    --storage-driver="$driver"
    # Do not touch the host firewall. With iptables on, dockerd sets the
    # FORWARD policy to DROP and adds NAT rules, which would break any
    # veth/netns test topology on this machine. We only use --network host.
    --iptables=false
    --ip6tables=false
    # No docker0 bridge and no 172.17.0.0/16 network on the host: containers
    # and builds use --network host, so the default bridge is never needed.
    # (A container started without --network gets only a loopback device.)
    --bridge=none
    # No systemd as PID 1 here: manage cgroups (v1 on this kernel) directly.
    --exec-opt native.cgroupdriver=cgroupfs
  )
  log "starting dockerd ${dockerd_args[*]} (log: $DOCKERD_LOG)"
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  echo "=== $(date -u +%FT%TZ) docker-setup.sh starting dockerd ${dockerd_args[*]}" >>"$DOCKERD_LOG"
  # setsid + nohup: detach from this shell's session and terminal so the
  # daemon survives this script exiting; stdin from /dev/null so it never
  # holds the caller's pipes open; 9>&- so it does not inherit (and hold
  # forever) docker-setup.sh's flock. dockerd starts its own containerd.
  nohup setsid /usr/sbin/dockerd "${dockerd_args[@]}" </dev/null >>"$DOCKERD_LOG" 2>&1 9>&- &
  dockerd_pid=$!
}

T=$(now)
if docker_up; then
  log "step 2 (dockerd): already running, skipped ($(took "$T"))"
else
  dockerd_pid=""    # the dockerd this run started, if any
  waited_for=""     # a pre-existing dockerd we are waiting for, if any
  deadline=$(( $(date +%s) + DOCKERD_WAIT ))
  until docker_up; do
    if [ -z "$dockerd_pid" ]; then
      existing=$(live_dockerd)
      if [ -z "$existing" ]; then
        # None running (or the one we waited for went away): start ours.
        start_dockerd
      elif [ "$existing" != "$waited_for" ]; then
        # A dockerd exists but does not answer yet (still starting?): wait for
        # it rather than start a second one that would fight over the socket
        # and /var/lib/docker.
        log "a dockerd process (pid $existing) exists but does not answer yet; waiting for it"
        waited_for=$existing
      fi
    elif ! alive "$dockerd_pid"; then
      show_dockerd_log
      die "dockerd exited during startup — Docker is NOT available." \
          "Last lines of $DOCKERD_LOG are above."
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      if [ -z "$dockerd_pid" ]; then
        die "an existing dockerd (pid $waited_for, not started by this run) did not answer" \
            "within ${DOCKERD_WAIT}s — Docker is NOT available."
      fi
      # Do not leave a hung daemon behind: the next run would wait for it.
      kill "$dockerd_pid" 2>/dev/null || true
      show_dockerd_log
      die "dockerd did not answer within ${DOCKERD_WAIT}s (killed it) — Docker is NOT available." \
          "Last lines of $DOCKERD_LOG are above."
    fi
    sleep 0.5
  done
  log "step 2 (dockerd) took $(took "$T"): $("$DOCKER" info --format 'server {{.ServerVersion}}, storage {{.Driver}}, cgroup {{.CgroupDriver}} v{{.CgroupVersion}}')"
fi
