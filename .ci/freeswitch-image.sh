#!/usr/bin/env bash
# .ci/freeswitch-image.sh — makes sure the FreeSWITCH image of this checkout exists in the local
# Docker image store (the cache: the tag is a hash of the build inputs, so a warm run does nothing)
# and prints its name. Builds FROM a Debian bookworm image made by .ci/bookworm-base.sh (no image
# registry here), from the source tarballs in $FREESWITCH_SOURCES_DIR (default: ../shared/
# third_party/freeswitch beside the repository when it exists, else GitHub at the pinned commits).
# Needs a running Docker engine (.ci/docker-setup.sh) and root.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${FREESWITCH_SOURCES_DIR:-}" ] && [ -d ../shared/third_party/freeswitch ]; then
  export FREESWITCH_SOURCES_DIR
  FREESWITCH_SOURCES_DIR=$(cd ../shared/third_party/freeswitch && pwd)
fi
if [ -z "${FREESWITCH_BASE_IMAGE:-}" ]; then
  bash .ci/bookworm-base.sh >&2
  export FREESWITCH_BASE_IMAGE=fshetzner/base:bookworm
fi
exec npx --no-install tsx bin/freeswitchImage.ts
