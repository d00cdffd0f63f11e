#!/usr/bin/env bash
# .ci/docker-setup.sh — bring up a local Docker engine and the project's base
# image on a machine that reaches ONLY package registries (no Docker Hub, no
# other image registry).
#
#   0. uses the Docker engine that already answers, if any — as any user, on
#      any OS (Docker Desktop, a rootless engine, a user in the docker group):
#      then steps 1 and 2 are skipped and nothing is installed
#   1. (no engine answers; root on Debian only) installs Debian's docker.io
#      (engine + containerd + runc) and debootstrap
#   2. (same) starts dockerd in the background
#   3. builds ${BASE_IMAGE:-fshetzner/base:node24} from Debian packages with
#      debootstrap + `docker import`, plus a thin layer with this host's extra
#      CA certificates (skipped when the image exists with the same CA set);
#      debootstrap needs root: elsewhere give BASE_IMAGE an existing Node.js
#      24 image (e.g. node:24-bookworm-slim where a registry is reachable)
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
# Environment knobs (all optional):
#   BASE_IMAGE            image tag to build        (fshetzner/base:node24)
#   BASE_SUITE            Debian suite to bootstrap (forky: nodejs 24; trixie
#                         has only 20, past its end of life)
#   BASE_MIRROR           Debian mirror URL         (taken from /etc/apt/sources*)
#   BASE_MIN_NODE_MAJOR   fail the build if the suite's nodejs is older (24)
#   DOCKER                the docker client (/usr/bin/docker if present, else
#                         the one on PATH)
#   HOST_CA_DIR           extra CA certificates to add to the base image
#                         (/usr/local/share/ca-certificates)
#   BASE_REBUILD=1        rebuild both images (rootfs too) even if they exist
#   DOCKERD_LOG           dockerd log file          (/var/log/dockerd-ci.log)
#   DOCKERD_WAIT          seconds to wait for dockerd to answer (60)
#   DOCKER_STORAGE_DRIVER overlay2|vfs|... (auto: overlay2 when the kernel has
#                         overlayfs and /var/lib/docker is not itself on overlayfs)
#
# Using the engine afterwards: both the Debian client (/usr/bin/docker, 20.10,
# API 1.41) and the newer /usr/local/bin/docker (28.x, first in PATH) work,
# because the 28.x client negotiates the API down to 1.41. This script always
# calls /usr/bin/docker so the client and engine come from the same package.
# Containers are meant to run with `--network host` (no bridge exists, see the
# dockerd flags below); likewise `docker build --network host` when a RUN step
# needs the network (npm ci, apt-get): without it RUN steps only get loopback.
# `docker build` uses the legacy builder with either client (no buildx plugin is
# installed; DOCKER_BUILDKIT=1 works only with /usr/bin/docker).
set -euo pipefail

BASE_IMAGE="${BASE_IMAGE:-fshetzner/base:node24}"
BASE_SUITE="${BASE_SUITE:-forky}"
BASE_MIN_NODE_MAJOR="${BASE_MIN_NODE_MAJOR:-24}"
BASE_REBUILD="${BASE_REBUILD:-0}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd-ci.log}"
DOCKERD_WAIT="${DOCKERD_WAIT:-60}"
# Prefer the Debian client that matches the Debian engine (see header); on
# other machines, the docker on PATH.
if [ -z "${DOCKER:-}" ]; then
  if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=$(command -v docker || echo docker); fi
fi
is_root() { [ "$(id -u)" = 0 ]; }
is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }
if is_root; then LOCK_FILE=/var/lock/fshetzner-docker-setup.lock; else LOCK_FILE="${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}/fshetzner-docker-setup-$(id -u).lock"; fi

# Progress goes to stderr: stdout carries only the answer, the base image's name (last line).
log()  { printf '[docker-setup %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
now()  { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# Loud failure banner on stderr, then exit non-zero.
die() {
  {
    echo
    echo '################################################################################'
    echo '##  DOCKER SETUP FAILED'
    while [ $# -gt 0 ]; do echo "##  $1"; shift; done
    echo '################################################################################'
    echo
  } >&2
  exit 1
}

docker_up() { "$DOCKER" info >/dev/null 2>&1; }

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

# -----------------------------------------------------------------------------
# 2. Start dockerd (unless one already answers)
# -----------------------------------------------------------------------------

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
  # forever) the flock of this script. dockerd starts its own containerd.
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

# -----------------------------------------------------------------------------
# 3. Base image from Debian packages: debootstrap + docker import
# -----------------------------------------------------------------------------
# Two images:
#   ${BASE_IMAGE}-rootfs  the plain Debian rootfs (debootstrap | docker import);
#                         slow to make (40-90 s, mostly downloads), made once
#                         per machine.
#   ${BASE_IMAGE}         the rootfs plus one thin layer holding this host's
#                         extra CA certificates (~2 s), labelled with their hash.
# Why the CA layer: outgoing HTTPS on this kind of machine passes a TLS-
# inspecting egress proxy whose CA lives in /usr/local/share/ca-certificates
# (and may change between sessions). Without it, `npm ci` or any HTTPS call in
# a container fails with "self-signed certificate in certificate chain".
# Debian's nodejs uses the system store, so update-ca-certificates is enough
# (no NODE_EXTRA_CA_CERTS needed). When the host's CA set changes, only the
# thin layer is rebuilt.
ROOTFS_IMAGE="${BASE_IMAGE}-rootfs"
HOST_CA_DIR="${HOST_CA_DIR:-/usr/local/share/ca-certificates}"

# Mirror: the one apt already uses (deb822 debian.sources or sources.list), so
# the build goes wherever this machine's apt goes.
detect_mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' \
          /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\/.*\/debian\/?$/) { print $i; exit } }' \
          /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

host_ca_hash() {
  if [ -d "$HOST_CA_DIR" ]; then
    (cd "$HOST_CA_DIR" && find . -name '*.crt' -type f | LC_ALL=C sort | xargs -r sha256sum) | sha256sum | cut -c1-16
  else
    echo none
  fi
}

image_label() {  # $1 = image, $2 = label key; prints "" if absent
  "$DOCKER" image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

# Builds $ROOTFS_IMAGE: Debian $BASE_SUITE minbase + nodejs, imported from a tar.
build_rootfs_image() {
  local mirror rootfs t node_version node_major
  mirror="${BASE_MIRROR:-$(detect_mirror)}"
  rootfs=$(mktemp -d /var/tmp/fshetzner-rootfs.XXXXXX)
  # shellcheck disable=SC2064  # expand $rootfs now
  trap "rm -rf '$rootfs' '$rootfs.log'" EXIT

  # minbase: essential packages + apt only (no init, no systemd); --include adds
  # just what the image is for. nodejs in forky is 24.x (the project needs 24,
  # trixie has 20 only). npm is NOT included: Debian's npm drags in ~365 packages.
  # An older debootstrap (bookworm's) has no script for a newer suite: those
  # are bootstrapped like sid, which is what its script is for.
  local script=""
  [ -e "/usr/share/debootstrap/scripts/$BASE_SUITE" ] || script=/usr/share/debootstrap/scripts/sid
  log "  debootstrap $BASE_SUITE from $mirror into $rootfs${script:+ (script: $script)}"
  t=$(now)
  if ! debootstrap --variant=minbase --include=nodejs,ca-certificates \
         "$BASE_SUITE" "$rootfs" "$mirror" ${script:+"$script"} >"$rootfs.log" 2>&1; then
    tail -n 30 "$rootfs.log" >&2 || true
    [ -f "$rootfs/debootstrap/debootstrap.log" ] && tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2
    die "debootstrap of $BASE_SUITE from $mirror failed — base image NOT built."
  fi
  log "  debootstrap took $(took "$t")"

  node_version=$(chroot "$rootfs" /usr/bin/node -e 'process.stdout.write(process.version)') \
    || die "node does not run inside the bootstrapped $BASE_SUITE rootfs"
  node_major=${node_version#v}; node_major=${node_major%%.*}
  [ "$node_major" -ge "$BASE_MIN_NODE_MAJOR" ] \
    || die "$BASE_SUITE ships node $node_version, need >= $BASE_MIN_NODE_MAJOR (set BASE_SUITE)"

  # Slim down: downloaded .debs, apt lists (a Dockerfile that needs apt runs
  # `apt-get update` first anyway), docs/man/locales. Copyright files stay.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
         "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/man/* \
         "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log
  find "$rootfs/usr/share/doc" -type f ! -name copyright -delete 2>/dev/null || true
  # Host-specific files debootstrap copied in; docker bind-mounts its own.
  : >"$rootfs/etc/resolv.conf"
  echo localhost >"$rootfs/etc/hostname"

  t=$(now)
  # --numeric-owner keeps uid/gid as numbers (the image's /etc/passwd, not the
  # host's, names them). /dev, /proc, /sys contents are provided by the runtime.
  tar --numeric-owner -C "$rootfs" \
      --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . \
    | "$DOCKER" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["node"]' \
        --change "LABEL fshetzner.base.suite=$BASE_SUITE fshetzner.base.node=$node_version" \
        - "$ROOTFS_IMAGE" >/dev/null \
    || die "docker import of the $BASE_SUITE rootfs failed — base image NOT built."
  log "  docker import took $(took "$t")"
  rm -rf "$rootfs" "$rootfs.log"; trap - EXIT
}

# Builds $BASE_IMAGE = $ROOTFS_IMAGE + this host's extra CA certificates.
build_ca_layer() {
  local ca_hash=$1 ctx old_id t
  ctx=$(mktemp -d /var/tmp/fshetzner-ca.XXXXXX)
  # shellcheck disable=SC2064
  trap "rm -rf '$ctx'" EXIT
  mkdir -p "$ctx/ca"
  [ -d "$HOST_CA_DIR" ] && cp -a "$HOST_CA_DIR/." "$ctx/ca/"
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $ROOTFS_IMAGE
COPY ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null
LABEL fshetzner.base.ca=$ca_hash \\
      org.opencontainers.image.description="Debian $BASE_SUITE minbase + nodejs, built by .ci/docker-setup.sh"
DOCKERFILE
  old_id=$("$DOCKER" image inspect -f '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || true)
  t=$(now)
  # Legacy builder (default for this client): FROM resolves the local image,
  # nothing is pulled. The RUN needs no network.
  "$DOCKER" build -q -t "$BASE_IMAGE" "$ctx" >/dev/null \
    || die "docker build of the CA layer on $ROOTFS_IMAGE failed — base image NOT built."
  log "  CA layer (hash $ca_hash) took $(took "$t")"
  rm -rf "$ctx"; trap - EXIT
  # The previous $BASE_IMAGE is now untagged: drop it (best effort).
  if [ -n "$old_id" ] && [ "$old_id" != "$("$DOCKER" image inspect -f '{{.Id}}' "$BASE_IMAGE")" ]; then
    "$DOCKER" image rm "$old_id" >/dev/null 2>&1 || true
  fi
}

T=$(now)
ca_hash=$(host_ca_hash)
if [ "$BASE_REBUILD" != 1 ] && [ "$(image_label "$BASE_IMAGE" fshetzner.base.ca)" = "$ca_hash" ]; then
  log "step 3 (base image): $BASE_IMAGE already exists, skipped ($(took "$T"))"
elif [ "$BASE_REBUILD" != 1 ] && "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1 && [ -z "$(image_label "$BASE_IMAGE" fshetzner.base.suite)" ]; then
  # Not one this script built (e.g. BASE_IMAGE=node:24-bookworm-slim, pulled): used as it is.
  log "step 3 (base image): using $BASE_IMAGE as it is (not built by this script)"
elif ! "$DOCKER" image inspect "$ROOTFS_IMAGE" >/dev/null 2>&1 && ! { is_root && is_debian && [ -x /usr/sbin/debootstrap ]; }; then
  die "The base image $BASE_IMAGE does not exist, and building it needs root on Debian (debootstrap)." \
      "Either run this script as root on Debian once (e.g. 'sudo bash .ci/docker-setup.sh')," \
      "or use an existing Node.js 24 image: e.g. 'docker pull node:24-bookworm-slim' where a registry" \
      "is reachable, then run with BASE_IMAGE=node:24-bookworm-slim."
else
  old_rootfs_id=$("$DOCKER" image inspect -f '{{.Id}}' "$ROOTFS_IMAGE" 2>/dev/null || true)
  if [ "$BASE_REBUILD" = 1 ] || [ -z "$old_rootfs_id" ]; then
    log "step 3 (base image): building $ROOTFS_IMAGE"
    build_rootfs_image
  else
    log "step 3 (base image): $ROOTFS_IMAGE exists; host CA set changed, redoing the CA layer only"
  fi
  build_ca_layer "$ca_hash"
  # After a rebuild the previous rootfs image is untagged: drop it (best
  # effort; it stays while images built from it still exist).
  if [ -n "$old_rootfs_id" ] && [ "$old_rootfs_id" != "$("$DOCKER" image inspect -f '{{.Id}}' "$ROOTFS_IMAGE")" ]; then
    "$DOCKER" image rm "$old_rootfs_id" >/dev/null 2>&1 || true
  fi
  log "step 3 (base image) took $(took "$T"): $BASE_IMAGE = $BASE_SUITE + node $(image_label "$BASE_IMAGE" fshetzner.base.node), $("$DOCKER" image inspect -f '{{.Size}}' "$BASE_IMAGE" | awk '{ printf "%d MB", $1 / 1e6 }')"
fi

log "docker setup done in $(took "$T_TOTAL")"
# The one place that names the base image: the suites take its name from here.
echo "$BASE_IMAGE"
