#!/usr/bin/env bash
# .ci/base-image.sh — step 3 of .ci/docker-setup.sh: the Node.js base image the config API's image
# is built FROM, made from Debian packages (no image registry needed), its name printed on stdout.
#
# Environment: BASE_IMAGE (fshetzner/base:node24), BASE_SUITE (forky: nodejs 24; trixie has only
# 20, past its end of life), BASE_MIRROR (default: the Debian mirror apt uses here),
# BASE_MIN_NODE_MAJOR (fail the build if the suite's nodejs is older; 24), HOST_CA_DIR (extra CA
# certificates to add; /usr/local/share/ca-certificates), BASE_REBUILD=1 (rebuild both images,
# rootfs too), DOCKER.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
BASE_IMAGE="${BASE_IMAGE:-fshetzner/base:node24}"
BASE_SUITE="${BASE_SUITE:-forky}"
BASE_MIN_NODE_MAJOR="${BASE_MIN_NODE_MAJOR:-24}"
BASE_REBUILD="${BASE_REBUILD:-0}"

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

# Builds $ROOTFS_IMAGE with .ci/debian-image.sh: Debian $BASE_SUITE minbase (essential packages +
# apt only: no init, no systemd) + nodejs; forky's is 24.x (the project needs 24, trixie has 20
# only). npm is NOT included: Debian's npm drags in ~365 packages. base-rootfs.sh checks the node
# it got, slims the root and names the labels.
build_rootfs_image() {
  local t
  t=$(now)
  export BASE_SUITE BASE_MIN_NODE_MAJOR
  bash "$here/debian-image.sh" ${BASE_MIRROR:+--mirror "$BASE_MIRROR"} --setup "$here/base-rootfs.sh" \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' \
      --change 'CMD ["node"]' \
      "$BASE_SUITE" nodejs,ca-certificates "$ROOTFS_IMAGE" >/dev/null \
    || die "building $ROOTFS_IMAGE from Debian $BASE_SUITE failed (see above) — base image NOT built."
  log "  $ROOTFS_IMAGE took $(took "$t")"
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

# The one place that names the base image: docker-setup.sh passes it on, the suites take it from there.
echo "$BASE_IMAGE"
