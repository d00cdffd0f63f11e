#!/usr/bin/env bash
# .ci/debian-image.sh — a Debian root made with debootstrap, imported as a Docker image. Both images
# this project builds without an image registry come from here, each with its own packages:
#   - the config API's Node.js base (.ci/base-image.sh: forky minbase + nodejs, then a CA layer)
#   - the end-to-end test's disposable host (test/support/e2eHost/build-image.sh: bookworm +
#     systemd, sshd, Docker, UFW, fail2ban, ...)
#
#   bash .ci/debian-image.sh [options] SUITE PACKAGES TAG    builds TAG, prints it on stdout
#   bash .ci/debian-image.sh --print-mirror                  prints the mirror it would use
#
#   SUITE              a Debian suite (bookworm, forky, ...); one this debootstrap has no script
#                      for is bootstrapped with sid's, which is what that script is for
#   PACKAGES           comma-separated: debootstrap --variant=minbase --include=PACKAGES
#   TAG                the image to make (replaced if it exists)
#   --mirror URL       the Debian mirror; default: the one apt uses here, else deb.debian.org
#                      (callers pass their own knob: BASE_MIRROR, E2E_HOST_MIRROR)
#   --setup SCRIPT     runs `bash SCRIPT ROOTFS` after debootstrap, before the cleanup and the import;
#                      each line it prints on stdout is one more --change (say, a LABEL naming a
#                      version it found in the root); a non-zero exit stops the build
#   --change INSTR     a Dockerfile instruction for `docker import --change` (repeatable)
#   --label KEY=VALUE  a label on the image (repeatable)
#
# Every image gets the same cleanup: no downloaded .debs, no apt lists, an empty /etc/resolv.conf
# (the runtime provides one); /dev, /proc and /sys go in empty, owners as numbers. It always
# builds: whether an existing image is current is the caller's question (each keys its own tag).
# Needs root (debootstrap); progress and errors on stderr. Environment: DOCKER (the client, docker).
#
# Shell rather than TypeScript: the work is a pipeline of debootstrap, tar and docker import, which
# shell says most directly; its callers are shell scripts that run as root before any suite (with
# nothing but bash and Debian's packages); and test/ci/debianImage.test.ts checks it all the same,
# with debootstrap and docker stubbed on PATH.
set -euo pipefail
DOCKER="${DOCKER:-docker}"
log() { printf '[debian-image] %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }
usage() { sed -n 's/^#   bash /usage: bash /p' "$0" >&2; exit 2; }

# The mirror apt uses here (deb822 or one-line sources alike), so the build goes where apt goes.
detect_mirror() {
  local m
  m=$(apt-get indextargets --format '$(REPO_URI)' 2>/dev/null | grep -m1 -E '/debian/?$' || true)
  echo "${m:-http://deb.debian.org/debian/}"
}
if [ "${1:-}" = --print-mirror ]; then detect_mirror; exit 0; fi

mirror="" setup=""
changes=() args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --mirror) mirror=${2:?--mirror needs a URL}; shift 2 ;;
    --setup) setup=${2:?--setup needs a script}; shift 2 ;;
    --change) changes+=("${2:?--change needs an instruction}"); shift 2 ;;
    --label) changes+=("LABEL ${2:?--label needs KEY=VALUE}"); shift 2 ;;
    -*) log "unknown option $1"; usage ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} = 3 ] || usage
suite=${args[0]} packages=${args[1]} tag=${args[2]}
mirror=${mirror:-$(detect_mirror)}
command -v debootstrap >/dev/null || fail "debootstrap is missing (apt-get install debootstrap)"

root=$(mktemp -d /var/tmp/debian-image.XXXXXX)
trap 'rm -rf "$root" "$root.log"' EXIT
start=$(date +%s)
script=""
# Where debootstrap itself looks for its suite scripts (it honours DEBOOTSTRAP_DIR too).
scripts=${DEBOOTSTRAP_DIR:-/usr/share/debootstrap}/scripts
[ -e "$scripts/$suite" ] || script=$scripts/sid
log "debootstrap $suite (+ $packages) from $mirror into $root${script:+ (script: $script)}"
if ! debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" ${script:+"$script"} >"$root.log" 2>&1; then
  tail -n 30 "$root.log" >&2 || true
  [ -f "$root/debootstrap/debootstrap.log" ] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
  fail "debootstrap of $suite from $mirror; $tag NOT built"
fi
log "debootstrap took $(( $(date +%s) - start )) s"

if [ -n "$setup" ]; then
  setup_out=$(bash "$setup" "$root") || fail "$setup $root exited non-zero; $tag NOT built"
  while IFS= read -r line; do [ -n "$line" ] && changes+=("$line"); done <<<"$setup_out"
fi

rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
: >"$root/etc/resolv.conf"

import_args=()
for change in ${changes[@]+"${changes[@]}"}; do import_args+=(--change "$change"); done
tar --numeric-owner -C "$root" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . \
  | "$DOCKER" import ${import_args[@]+"${import_args[@]}"} - "$tag" >/dev/null \
  || fail "docker import of the $suite root; $tag NOT built"
log "$tag built in $(( $(date +%s) - start )) s"
echo "$tag"
