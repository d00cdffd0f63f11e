#!/usr/bin/env bash
# .ci/e2e-setup.sh — what the end-to-end suite (npm run test:e2e) needs besides the Docker engine
# and base image of .ci/docker-setup.sh, the FreeSWITCH image named by FREESWITCH_IMAGE and a
# pinned `pulumi` on PATH (both taken from the environment):
#   - Debian packages: openssh-client (ssh, ssh-keygen), iproute2 (network namespaces, veth),
#     util-linux (nsenter), debootstrap (the disposable host's image)
#   - the disposable host's image (test/support/e2eHost/build-image.sh; cached by a tag keyed on its inputs)
# Idempotent; run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for p in openssh-client iproute2 util-linux debootstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "[e2e-setup] installing: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || { echo "[e2e-setup] apt-get could not install: ${need[*]}" >&2; exit 1; }
fi
echo "[e2e-setup] host image: $(bash test/support/e2eHost/build-image.sh)" >&2
