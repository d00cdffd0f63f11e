#!/usr/bin/env bash
# .ci/engine-setup.sh — provide the Pulumi engine that `npm run test:engine` drives.
#
# Prints ONE line on stdout: the directory holding the `pulumi` to use (progress and messages go
# to stderr). In order:
#   1. `pulumi` on PATH, when it is the version pinned by the lockfile (@pulumi/pulumi);
#   2. else, with the offline build kit at ${PULUMI_ENGINE_KIT} (its build.sh builds the CLI, the
#      Node.js language host and the command, hcloud, random and tls plugins from source with Go
#      and the Go module proxy), the kit's build in
#      ${TELEPHONY_CACHE_DIR:-$HOME/.cache/telephony}/pulumi-engine — build.sh skips every binary
#      whose inputs (kit sources, Go version, flags) are unchanged, so a warm run takes a second;
#   3. else no engine: in CI (CI=true) exit 1 with a loud message; elsewhere print the same
#      message, an empty line on stdout and exit 0, and the engine suite skips itself.
# Go comes from the machine (the kit finds $GO, go on PATH or /usr/local/go/bin/go); this script
# installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '%s\n' "$*" >&2; }

pinned="v$(node -p 'require("@pulumi/pulumi/package.json").version' 2>/dev/null || true)"
if [ "$pinned" = "v" ]; then
  say "engine-setup: @pulumi/pulumi is not installed: run npm ci first"
  exit 1
fi

# 1. A Pulumi CLI installed the usual way, at the pinned version.
if on_path="$(command -v pulumi 2>/dev/null)"; then
  have="$(PULUMI_SKIP_UPDATE_CHECK=1 pulumi version 2>/dev/null || true)"
  if [ "$have" = "$pinned" ]; then
    say "engine-setup: using pulumi $have from PATH ($on_path)"
    dirname "$on_path"
    exit 0
  fi
  say "engine-setup: pulumi on PATH is ${have:-unknown}, not the pinned $pinned: not used"
fi

# 2. The offline build kit.
dest="${TELEPHONY_CACHE_DIR:-$HOME/.cache/telephony}/pulumi-engine"
if [ -n "${PULUMI_ENGINE_KIT:-}" ] && [ -f "$PULUMI_ENGINE_KIT/build.sh" ]; then
  say "engine-setup: building the engine with the kit into $dest (unchanged binaries are skipped)"
  started=$SECONDS
  # build.sh's progress lines go to stderr: stdout carries only the answer.
  bash "$PULUMI_ENGINE_KIT/build.sh" "$dest" >&2
  built="$(PULUMI_SKIP_UPDATE_CHECK=1 "$dest/bin/pulumi" version)"
  say "engine-setup: pulumi $built ready in $((SECONDS - started)) s"
  if [ "$built" != "$pinned" ]; then
    say "engine-setup: WARNING: the kit builds pulumi $built but the lockfile pins $pinned"
  fi
  echo "$dest/bin"
  exit 0
fi

# 3. No engine.
message="No Pulumi engine for the engine tests (npm run test:engine): install the Pulumi CLI $pinned
(https://www.pulumi.com/docs/install/, e.g. curl -fsSL https://get.pulumi.com | sh -s -- --version ${pinned#v})
so that \`pulumi version\` prints $pinned, or point PULUMI_ENGINE_KIT at the offline build kit
(its build.sh builds the engine from source with Go and the Go module proxy)."
if [ "${CI:-}" = "true" ]; then
  say ""
  say "================================================================================"
  say "ERROR: $message"
  say "================================================================================"
  exit 1
fi
say "engine-setup: $message"
echo ""
