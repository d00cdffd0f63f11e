#!/usr/bin/env bash
# .ci/docker-setup.sh — bring up a local Docker engine and the project's base
# image on a machine that reaches ONLY package registries (no Docker Hub, no
# other image registry). The suites call it; each step is a script of its own:
#
#   0. uses the Docker engine that already answers, if any — as any user, on
#      any OS (Docker Desktop, a rootless engine, a user in the docker group):
#      then steps 1 and 2 are skipped and nothing is installed
#   1. (no engine answers; root on Debian only) installs Debian's docker.io
#      (engine + containerd + runc) and debootstrap                 (here)
#   2. (same) starts dockerd in the background             (docker-engine.sh)
#   3. builds ${BASE_IMAGE:-fshetzner/base:node24} from Debian packages with
#      debootstrap + `docker import`, plus a thin layer with this host's extra
#      CA certificates (skipped when the image exists with the same CA set);
#      debootstrap needs root: elsewhere give BASE_IMAGE an existing Node.js
#      24 image (e.g. node:24-bookworm-slim where a registry is reachable)
#                                                            (base-image.sh)
#
# Without an engine, and not root on Debian, it stops with a message saying
# what to do (start an engine, or run it as root on Debian).
#
# Idempotent: every step checks first and skips what is already done, so it is
# cheap to call at the start of every CI run. Exit codes: 0 = engine up and
# image present; non-zero = something failed (a loud banner says what). The
# caller decides whether that is fatal. Progress goes to stderr; stdout has one
# line, the base image's name, which is how the suites learn it (one place names it).
#
# Environment knobs (all optional): DOCKER, the docker client (/usr/bin/docker
# if present, else the one on PATH: the Debian client matches the Debian
# engine); step 2's DOCKERD_LOG, DOCKERD_WAIT, DOCKER_STORAGE_DRIVER (see
# docker-engine.sh); step 3's BASE_IMAGE, BASE_SUITE, BASE_MIRROR,
# BASE_MIN_NODE_MAJOR, HOST_CA_DIR, BASE_REBUILD=1 (see base-image.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
if is_root; then LOCK_FILE=/var/lock/fshetzner-docker-setup.lock; else LOCK_FILE="${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}/fshetzner-docker-setup-$(id -u).lock"; fi

# 0. An engine that already answers is used as it is, whoever runs this.
ENGINE_READY=0
docker_up && ENGINE_READY=1
if [ "$ENGINE_READY" = 0 ] && ! { is_root && is_debian; }; then
  why=$("$DOCKER" info 2>&1 >/dev/null | grep -v '^\s*$' | tail -n 1 || true)
  die "No Docker engine answers ($DOCKER info: ${why:-no output})." \
      "Start one and run this again: e.g. 'sudo systemctl start docker', Docker Desktop," \
      "or add your user to the docker group (then log in again)." \
      "Or run this script as root on Debian: it installs Debian's docker.io and starts dockerd."
fi

# Serialise concurrent invocations (two CI steps calling this at once would
# otherwise start two dockerd or run two debootstraps).
mkdir -p "$(dirname "$LOCK_FILE")"
exec 9>"$LOCK_FILE"
flock -w 900 9 || die "could not take $LOCK_FILE within 15 minutes"

T_TOTAL=$(now)

# -----------------------------------------------------------------------------
# 1. Install the engine and debootstrap from Debian's packages
# -----------------------------------------------------------------------------
# docker.io (bookworm: 20.10.24) pulls in containerd, runc, tini (docker-init)
# and iptables as hard dependencies. --no-install-recommends keeps out
# apparmor, needrestart, cgroupfs-mount and git, none of which is needed here.
# debootstrap needs wget + gpgv + debian-archive-keyring (bookworm's keyring
# already carries the trixie release keys); zstd/xz let it unpack newer debs.
T=$(now)
need_pkgs=()
if [ "$ENGINE_READY" = 0 ]; then
  [ -x /usr/sbin/dockerd ] || need_pkgs+=(docker.io)
  [ -x /usr/bin/docker ]   || need_pkgs+=(docker.io)
fi
# What step 3 needs to build the base image; only root on Debian can install it
# (elsewhere step 3 says what to do if the image is missing).
if is_root && is_debian; then
  [ -x /usr/sbin/debootstrap ] || need_pkgs+=(debootstrap)
  for p in wget gpgv debian-archive-keyring zstd xz-utils ca-certificates; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need_pkgs+=("$p")
  done
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  mapfile -t need_pkgs < <(printf '%s\n' "${need_pkgs[@]}" | sort -u)
  log "installing: ${need_pkgs[*]}"
  # The docker.io postinst would try to start the daemon through invoke-rc.d
  # with Debian's default flags (which rewrite iptables). Forbid service starts
  # during the install via policy-rc.d, unless the machine already has one.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt_ok=1
  apt-get update -qq >&2 || apt_ok=0
  if [ "$apt_ok" = 1 ]; then
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null || apt_ok=0
  fi
  [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$apt_ok" = 1 ] || die "apt-get could not install: ${need_pkgs[*]}"
  log "step 1 (install packages) took $(took "$T")"
else
  log "step 1 (install packages): nothing to install, skipped ($(took "$T"))"
fi

# 2. Start dockerd (unless one already answers), 3. the base image: its name is our answer.
bash "$here/docker-engine.sh"
image=$(bash "$here/base-image.sh")

log "docker setup done in $(took "$T_TOTAL")"
# The one place that names the base image (base-image.sh): the suites take its name from here.
echo "$image"
