#!/bin/sh
# Run by the Dockerfile's build stage: trims the production-only node_modules made by
# `pnpm deploy --prod` down to what the server loads, and the built apps of their source maps.
#   prune.sh <deployed node_modules> <backend dist> <frontend dist>
# Each step is measured in docs/performance.md ("The image").
set -eu
NM=$1 BACKEND_DIST=$2 FRONTEND_DIST=$3
before=$(du -sk "$NM" | cut -f1)

# Prisma's client runtime ships a client and a query compiler (two builds, CJS and ESM, plain and
# base64 WebAssembly) for each of five databases. Keep the files our generated client imports.
runtime=$(find "$NM/.pnpm" -path '*/node_modules/@prisma/client/runtime' -type d | head -1)
[ -n "$runtime" ] || { echo "prune: no @prisma/client/runtime in $NM" >&2; exit 1; }
keep=$(grep -rhoE '@prisma/client/runtime/[A-Za-z0-9_.-]+' "$BACKEND_DIST" | sed 's#.*/##' | sort -u)
[ -n "$keep" ] || { echo "prune: the built server imports nothing from @prisma/client/runtime" >&2; exit 1; }
for f in "$runtime"/*; do
  name=$(basename "$f")
  # `runtime/client` resolves to client.js under Node (the package's exports map).
  echo "$keep" | grep -qxF -e "$name" -e "${name%.js}" || rm -rf "$f"
done
for name in $keep; do
  [ -e "$runtime/$name" ] || [ -e "$runtime/$name.js" ] || { echo "prune: $name is imported but missing" >&2; exit 1; }
done

# better-sqlite3 loads build/Release/better_sqlite3.node; its objects, static library, the SQLite
# amalgamation and the C++ sources are build inputs.
for b in $(find "$NM/.pnpm" -path '*/node_modules/better-sqlite3' -type d); do
  find "$b/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
  find "$b/build/Release" -mindepth 1 ! -name better_sqlite3.node -exec rm -rf {} +
  rm -rf "$b/deps" "$b/src"
done

# Tests, docs, examples and benchmarks at a package's root (beside its package.json).
find "$NM/.pnpm" -mindepth 4 -maxdepth 5 -type d \
  \( -name test -o -name tests -o -name __tests__ -o -name docs -o -name doc -o -name example -o -name examples \
     -o -name bench -o -name benchmark -o -name benchmarks -o -name .github \) \
  -exec sh -c 'for d; do [ -f "$(dirname "$d")/package.json" ] && rm -rf "$d"; done; true' sh {} +

# Source maps, TypeScript (Node does not strip types under node_modules, so no package can load .ts
# files there) and Markdown; licence files stay.
find "$NM" -type f \( -name '*.map' -o -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.md' -o -name '*.markdown' \) \
  ! -iname 'licen[cs]e*' -delete
find "$BACKEND_DIST" "$FRONTEND_DIST" -name '*.map' -delete

echo "prune: node_modules $((before / 1024)) MB -> $(($(du -sk "$NM" | cut -f1) / 1024)) MB"
