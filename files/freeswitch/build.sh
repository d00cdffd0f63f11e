#!/usr/bin/env bash
# Build steps of files/freeswitch/Dockerfile, one per RUN so each is its own cached layer.
#   verify             every tarball in sources/ carries the commit ID sources.txt pins
#   sofia-sip|spandsp  unpack, bootstrap, configure, make install into $PREFIX
#   freeswitch         the same, with modules.conf as the module list
#   runtime-packages   the Debian packages whose shared libraries the installed files link to
set -euo pipefail
BUILD=/build
PREFIX=/usr/local/freeswitch
JOBS=$(nproc)
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
export LDFLAGS="-Wl,-rpath,$PREFIX/lib"

tarball() {  # $1 = source name → its tarball in sources/
  local f
  for f in "$BUILD/sources/$1.tar.xz" "$BUILD/sources/$1.tar.gz"; do [ -f "$f" ] && { echo "$f"; return; }; done
  echo "no tarball for $1 in sources/ (expected $1.tar.xz or $1.tar.gz)" >&2; exit 1
}
decompress() { case "$1" in *.xz) xz -dc "$1" ;; *.gz) gzip -dc "$1" ;; esac; }

verify() {
  local name repo commit file found
  while read -r name repo commit; do
    case "$name" in ''|'#'*) continue ;; esac
    file=$(tarball "$name")
    # git get-tar-commit-id stops reading after the header: ignore the decompressor's SIGPIPE.
    found=$(set +o pipefail; decompress "$file" 2>/dev/null | git get-tar-commit-id || true)
    if [ "$found" != "$commit" ]; then
      echo "$file: commit ID '${found:-none}' is not the pinned $commit of $repo" >&2
      exit 1
    fi
    echo "verified $name = $repo@$commit"
  done < "$BUILD/sources.txt"
}

unpack() {  # $1 = name → /build/src/<name>
  rm -rf "$BUILD/src/$1" && mkdir -p "$BUILD/src/$1"
  decompress "$(tarball "$1")" | tar -x -C "$BUILD/src/$1" --strip-components=1
  cd "$BUILD/src/$1"
}

build_library() {  # $1 = name
  unpack "$1"
  ./bootstrap.sh >/dev/null
  ./configure --prefix="$PREFIX" --disable-static >/dev/null
  make -j"$JOBS" >/dev/null
  make install >/dev/null
  cd / && rm -rf "$BUILD/src/$1"
}

build_freeswitch() {
  unpack freeswitch
  cp "$BUILD/modules.conf" modules.conf
  ./bootstrap.sh -j >/dev/null
  ./configure --prefix="$PREFIX" --disable-fhs --disable-static \
    --disable-libvpx --disable-libyuv --without-png --without-freetype \
    --disable-core-odbc-support --disable-core-pgsql-pkgconfig --disable-debug >/dev/null
  make -j"$JOBS" >/dev/null
  make install >/dev/null
  # Nothing of the vanilla tree may survive: the stack's rendered tree is the whole configuration.
  rm -rf "$PREFIX/conf" "$PREFIX/include" "$PREFIX/lib/pkgconfig" "$PREFIX"/lib/*.la "$PREFIX"/mod/*.la "$PREFIX/share"
  strip --strip-unneeded "$PREFIX"/bin/* "$PREFIX"/lib/*.so* "$PREFIX"/mod/*.so 2>/dev/null || true
  cd / && rm -rf "$BUILD/src/freeswitch"
  # Every module of the list was built.
  local module missing=0
  for module in $(awk -F/ 'NF == 2 { print $2 }' "$BUILD/modules.conf"); do
    [ -f "$PREFIX/mod/$module.so" ] || { echo "module $module was not built" >&2; missing=1; }
  done
  [ "$missing" = 0 ]
}

runtime_packages() {
  local lib pkg unresolved=0
  : > "$BUILD/runtime-packages.txt"
  for lib in $(find "$PREFIX/bin" "$PREFIX/lib" "$PREFIX/mod" -type f \( -perm -u+x -o -name '*.so*' \) -exec ldd {} + 2>/dev/null \
                 | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u); do
    case "$lib" in "$PREFIX"/*) continue ;; esac
    pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || true)
    if [ -z "$pkg" ]; then echo "no Debian package owns $lib" >&2; unresolved=1; continue; fi
    echo "${pkg%%:*}" | sed 's/,.*//' >> "$BUILD/runtime-packages.txt"
  done
  [ "$unresolved" = 0 ]
  sort -u -o "$BUILD/runtime-packages.txt" "$BUILD/runtime-packages.txt"
  echo "runtime packages: $(tr '\n' ' ' < "$BUILD/runtime-packages.txt")"
}

case "${1:-}" in
  verify) verify ;;
  sofia-sip|spandsp) build_library "$1" ;;
  freeswitch) build_freeswitch ;;
  runtime-packages) runtime_packages ;;
  *) echo "usage: build.sh verify|sofia-sip|spandsp|freeswitch|runtime-packages" >&2; exit 2 ;;
esac
