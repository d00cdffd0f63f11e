#!/usr/bin/env bash
# Downloads the pinned upstream sources into sources/ beside this script, from GitHub's archive of
# each commit in sources.txt (https://github.com/<repository>/archive/<commit>.tar.gz). Their
# commit IDs are verified by the Dockerfile's build (build.sh verify), not here. Skips a tarball
# that is already present.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p sources
while read -r name repository commit; do
  case "$name" in ''|'#'*) continue ;; esac
  [ -s "sources/$name.tar.gz" ] || [ -s "sources/$name.tar.xz" ] && continue
  echo "fetching $repository@$commit"
  curl -fsSL --retry 3 -o "sources/$name.tar.gz.part" "https://github.com/$repository/archive/$commit.tar.gz"
  mv "sources/$name.tar.gz.part" "sources/$name.tar.gz"
done < sources.txt
