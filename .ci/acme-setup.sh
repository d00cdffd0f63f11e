#!/usr/bin/env bash
# .ci/acme-setup.sh — what the ACME suite (npm run test:acme) and the real-FreeSWITCH suite's
# certificate test need: Debian's pebble (the RFC 8555 test server) and lego (the ACME client the
# hosts run), plus iproute2 and util-linux (network and mount namespaces), curl and openssl.
# Nothing else: no image, no download outside Debian's packages. Idempotent; run as root.
set -euo pipefail

need=()
for p in pebble lego iproute2 util-linux curl openssl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "[acme-setup] installing: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
    { echo "[acme-setup] apt-get could not install: ${need[*]}" >&2; exit 1; }
fi
