#!/usr/bin/env bash
# .ci/freeswitch-setup.sh — what the real-FreeSWITCH suite (npm run test:freeswitch) and
# bench:register need besides the Docker engine and base image of .ci/docker-setup.sh and the
# FreeSWITCH image named by FREESWITCH_IMAGE (taken from the environment, never built here):
#   - Debian packages: sipp (sip-tester), iproute2 (network namespaces), curl, openssl (the test
#     stack's self-signed certificate), fail2ban (fail2ban-regex against the real log; the
#     service is never started here)
# Idempotent; run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for p in sip-tester iproute2 curl openssl fail2ban; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "[freeswitch-setup] installing: ${need[*]}" >&2
  # No service starts during the install (fail2ban would otherwise start on this machine).
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  rc=0
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || rc=$?
  [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || { echo "[freeswitch-setup] apt-get could not install: ${need[*]}" >&2; exit 1; }
fi
