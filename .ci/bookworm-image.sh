#!/usr/bin/env bash
# .ci/bookworm-image.sh — the Debian 12 image the container suite builds the packaged FreeSWITCH
# image's Dockerfile FROM (test/container/freeswitchImage.container.test.ts), in place of
# debian:bookworm-slim@sha256:…, which no registry here can give: bookworm minbase + curl and
# ca-certificates (what the Dockerfile's first RUN installs), made with .ci/debian-image.sh, its
# name printed on stdout. Made once per machine (about a minute), then found by its tag.
#
# Its apt sources are removed: the build under test reaches nothing but the stand-in repository on
# loopback, so the Dockerfile's first `apt-get update` has nothing to fetch and its install of curl
# and ca-certificates finds them installed.
#
# Environment: BOOKWORM_IMAGE (fshetzner/bookworm:curl), BASE_MIRROR (the Debian mirror; default
# the one apt uses here), BOOKWORM_REBUILD=1 (build it again), DOCKER. Needs root (debootstrap)
# unless the image is already there. Called with the debootstrapped root as its one argument, it
# is its own setup step (debian-image.sh --setup runs `bash SCRIPT ROOTFS`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
BOOKWORM_IMAGE="${BOOKWORM_IMAGE:-fshetzner/bookworm:curl}"

if [ $# = 1 ] && [ -d "$1/etc/apt" ]; then
  root=$1
  rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*
  echo 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  exit 0
fi

if [ "${BOOKWORM_REBUILD:-0}" != 1 ] && "$DOCKER" image inspect "$BOOKWORM_IMAGE" >/dev/null 2>&1; then
  log "bookworm image: $BOOKWORM_IMAGE already exists, skipped"
else
  is_root && [ -x /usr/sbin/debootstrap ] ||
    die "The image $BOOKWORM_IMAGE does not exist, and building it needs root and debootstrap." \
        "Run 'sudo bash .ci/docker-setup.sh' (installs debootstrap), then 'sudo bash .ci/bookworm-image.sh' once."
  t=$(now)
  bash "$here/debian-image.sh" ${BASE_MIRROR:+--mirror "$BASE_MIRROR"} --setup "$here/bookworm-image.sh" \
      bookworm curl,ca-certificates "$BOOKWORM_IMAGE" >/dev/null \
    || die "building $BOOKWORM_IMAGE from Debian bookworm failed (see above)."
  log "bookworm image: $BOOKWORM_IMAGE built in $(took "$t")"
fi
echo "$BOOKWORM_IMAGE"
