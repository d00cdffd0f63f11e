#!/usr/bin/env bash
# .ci/base-image.sh — step 3 of .ci/docker-setup.sh: the Node.js base image the config API's image
# is built FROM, made from Debian packages (no image registry needed), its name printed on stdout.
#
# Environment: BASE_IMAGE (fshetzner/base:node24), BASE_SUITE (forky: nodejs 24; trixie has only
# 20, past its end of life), BASE_MIRROR (default: the mirror apt uses here), BASE_MIN_NODE_MAJOR
# (fail the build if the suite's nodejs is older; 24), HOST_CA_DIR (extra CA certificates to add;
# /usr/local/share/ca-certificates), BASE_REBUILD=1 (rebuild both images, rootfs too), DOCKER.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
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

# The one place that names the base image: docker-setup.sh passes it on, the suites take it from there.
echo "$BASE_IMAGE"
