#!/usr/bin/env bash
# scripts/node-dist.sh [major] — prints the directory of an official Node.js build (bin/node,
# include/node, share/) of the newest release of <major> (default 24), fetched from the npm registry's
# `node-linux-<arch>` package (the nodejs.org binaries, republished there) and cached under
# $CWS_NODE_CACHE (default ~/.cache/cws-node). Offline, it uses the newest cached release of <major>.
#
# Used by .ci/run (CI runs on this Node, native modules built against its headers) and by
# scripts/test-container.sh (the local stand-in for the node:<major>-bookworm-slim base image).
# Needs only npm (any version) on PATH. Progress goes to stderr; stdout is the directory alone.
set -euo pipefail

MAJOR=${1:-24}
CACHE=${CWS_NODE_CACHE:-$HOME/.cache/cws-node}
case "$(uname -m)" in
  x86_64 | amd64) ARCH=x64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) echo "node-dist: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
PKG=node-linux-$ARCH
mkdir -p "$CACHE"

newest() { # newest <versions, one a line>: the highest x.y.z
  sort -t. -k1,1n -k2,2n -k3,3n | tail -1
}

VERSION=$(npm view "$PKG@^$MAJOR" version --json 2>/dev/null | tr -d '[]", ' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+$' | newest || true)
if [ -z "$VERSION" ]; then
  # Offline (or the registry failed): the newest release of this major already in the cache.
  VERSION=$(find "$CACHE" -maxdepth 1 -name "$ARCH-v$MAJOR.*" -printf '%f\n' | sed "s/^$ARCH-v//" | newest || true)
  [ -n "$VERSION" ] || { echo "node-dist: cannot resolve $PKG@^$MAJOR (no registry, nothing cached in $CACHE)" >&2; exit 1; }
  echo "node-dist: registry unreachable, using the cached Node $VERSION" >&2
fi

DIR=$CACHE/$ARCH-v$VERSION
if [ ! -x "$DIR/bin/node" ]; then
  echo "node-dist: fetching $PKG@$VERSION from the npm registry" >&2
  TMP=$(mktemp -d "$CACHE/.fetch.XXXXXX")
  trap 'rm -rf "$TMP"' EXIT
  (cd "$TMP" && npm pack --silent "$PKG@$VERSION" >/dev/null)
  mkdir "$TMP/x"
  tar -xzf "$TMP"/*.tgz -C "$TMP/x"
  [ -x "$TMP/x/package/bin/node" ] || { echo "node-dist: $PKG@$VERSION has no bin/node" >&2; exit 1; }
  # The headers native modules (better-sqlite3) compile against: npm_config_nodedir=$DIR.
  [ -f "$TMP/x/package/include/node/node.h" ] || { echo "node-dist: $PKG@$VERSION has no include/node" >&2; exit 1; }
  rm -rf "$DIR"
  mv "$TMP/x/package" "$DIR"
fi
"$DIR/bin/node" -e 'process.exit(0)' || { echo "node-dist: $DIR/bin/node does not run here" >&2; exit 1; }
echo "$DIR"
