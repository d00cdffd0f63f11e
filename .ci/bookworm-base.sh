#!/usr/bin/env bash
# .ci/bookworm-base.sh — the Debian 12 (bookworm) base image the FreeSWITCH image is built FROM in
# tests, made from Debian packages (debootstrap + `docker import`) because no image registry is
# reachable here. On a real host the Dockerfile's default (a pinned debian:bookworm-slim) is used.
#
#   ${FREESWITCH_BASE_IMAGE:-fshetzner/base:bookworm}          rootfs + this host's extra CAs
#   ${FREESWITCH_BASE_IMAGE:-fshetzner/base:bookworm}-rootfs   the plain debootstrap'd rootfs
#
# Idempotent and cached by tag: nothing is done when the image exists with the same CA set.
# Needs a running Docker engine (.ci/docker-setup.sh) and root (debootstrap).
set -euo pipefail

IMAGE="${FREESWITCH_BASE_IMAGE:-fshetzner/base:bookworm}"
ROOTFS_IMAGE="${IMAGE}-rootfs"
SUITE=bookworm
HOST_CA_DIR=/usr/local/share/ca-certificates
DOCKER=/usr/bin/docker
LOCK_FILE=/var/lock/fshetzner-bookworm-base.lock

log() { printf '[bookworm-base %(%H:%M:%S)T] %s\n' -1 "$*"; }
die() { printf '\n##  BOOKWORM BASE IMAGE FAILED: %s\n\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap)"
exec 9>"$LOCK_FILE"
flock -w 900 9 || die "could not take $LOCK_FILE within 15 minutes"

detect_mirror() {
  local m=""
  [ -f /etc/apt/sources.list.d/debian.sources ] && m=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' /etc/apt/sources.list.d/debian.sources)
  [ -z "$m" ] && [ -f /etc/apt/sources.list ] && m=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\/.*\/debian\/?$/) { print $i; exit } }' /etc/apt/sources.list)
  echo "${m:-http://deb.debian.org/debian}"
}
ca_hash() {
  if [ -d "$HOST_CA_DIR" ]; then (cd "$HOST_CA_DIR" && find . -name '*.crt' -type f | LC_ALL=C sort | xargs -r sha256sum) | sha256sum | cut -c1-16; else echo none; fi
}
label() { "$DOCKER" image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }

hash=$(ca_hash)
if [ "$(label "$IMAGE" fshetzner.base.ca)" = "$hash" ]; then
  log "$IMAGE exists, skipped"
  exit 0
fi

if ! "$DOCKER" image inspect "$ROOTFS_IMAGE" >/dev/null 2>&1; then
  mirror="${BASE_MIRROR:-$(detect_mirror)}"
  rootfs=$(mktemp -d /var/tmp/fshetzner-bookworm.XXXXXX)
  trap 'rm -rf "$rootfs" "$rootfs.log"' EXIT
  log "debootstrap $SUITE from $mirror"
  debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
    || { tail -n 30 "$rootfs.log" >&2; die "debootstrap of $SUITE from $mirror failed"; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
         "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log
  : >"$rootfs/etc/resolv.conf"
  echo localhost >"$rootfs/etc/hostname"
  tar --numeric-owner -C "$rootfs" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . \
    | "$DOCKER" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["bash"]' \
        --change "LABEL fshetzner.base.suite=$SUITE" \
        - "$ROOTFS_IMAGE" >/dev/null || die "docker import failed"
  rm -rf "$rootfs" "$rootfs.log"; trap - EXIT
fi

# This host's extra CA certificates (a TLS-inspecting egress proxy may sit in the way of apt).
ctx=$(mktemp -d /var/tmp/fshetzner-bookworm-ca.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/ca"
[ -d "$HOST_CA_DIR" ] && cp -a "$HOST_CA_DIR/." "$ctx/ca/"
printf 'FROM %s\nCOPY ca/ /usr/local/share/ca-certificates/\nRUN update-ca-certificates >/dev/null\nLABEL fshetzner.base.ca=%s\n' "$ROOTFS_IMAGE" "$hash" >"$ctx/Dockerfile"
"$DOCKER" build -q -t "$IMAGE" "$ctx" >/dev/null || die "CA layer on $ROOTFS_IMAGE failed"
log "$IMAGE built"
