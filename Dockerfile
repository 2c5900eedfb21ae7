# ChatGPT Web Share: one image serving the API and the built web app on port 8080.
#
#   docker build -t chatgpt-web-share .        (or: docker compose build)
#   docker run -d -p 8080:8080 -v cws-data:/data chatgpt-web-share
#
# On Node 24 (node:24-bookworm-slim). The build stage runs exactly what CI runs outside a container
# (pnpm install --frozen-lockfile, pnpm build); the runtime image holds only Node, the production
# dependencies, the compiled server, the committed SQL migrations and the built SPA, as one layer
# (188 MB; docs/performance.md, "The image", says what each step below saves).

# ---------------------------------------------------------------- build
# (Fully qualified, so podman resolves it without a short-name registry list as well.)
FROM docker.io/library/node:24-bookworm-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary can be fetched.
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
RUN npm i -g pnpm@12 && pnpm --version
ENV CI=true
WORKDIR /src

# Manifests first: the dependency layer is rebuilt only when one of these changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY backend/package.json backend/
COPY frontend/package.json frontend/
# The pnpm store is a build cache (BuildKit / buildah): after a lockfile change only new packages are
# fetched, and better-sqlite3's compiled addon is reused instead of being rebuilt.
RUN --mount=type=cache,id=cws-pnpm-store,target=/root/.local/share/pnpm/store \
    pnpm install --frozen-lockfile

COPY . .
RUN pnpm build

# A production-only node_modules for the server (no dev dependencies, no workspace links; the Prisma
# CLI and its engines are dev dependencies: migrations are committed SQL the server applies itself),
# trimmed to what the server loads (scripts/container/prune.sh); and Node without its symbol table
# (the same binary, 18 MB smaller; the dynamic symbols native addons link against stay).
RUN --mount=type=cache,id=cws-pnpm-store,target=/root/.local/share/pnpm/store \
    pnpm --filter @cws/backend deploy --prod /out \
  && sh scripts/container/prune.sh /out/node_modules /src/backend/dist /src/frontend/dist \
  && strip -o /out/node /usr/local/bin/node

# ---------------------------------------------------------------- runtime filesystem
# The official base minus what the server never runs. Files deleted in a later layer would still be
# shipped in the base's layer, so the runtime image below copies this tree as one layer.
#  - npm, corepack, yarn and the Node headers (build tools; the build stage has them);
#  - docs (Debian's copyright files stay), man pages, translations, glibc's iconv charsets (Node
#    brings its own ICU);
#  - Debian's package tools (apt, dpkg, debconf and the perl they run on): nothing is installed at
#    run time. dpkg's status file stays, so image scanners still see which packages the files came
#    from. The shell and coreutils stay for `docker exec`.
FROM docker.io/library/node:24-bookworm-slim AS rootfs
RUN rm -rf /usr/local/lib/node_modules /usr/local/include /usr/local/share/doc /usr/local/share/man \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
      /usr/share/man/* /usr/share/info/* /usr/share/locale/* /usr/lib/*-linux-gnu*/gconv \
      /usr/bin/apt* /usr/lib/apt /usr/lib/*-linux-gnu*/libapt-* /etc/apt /var/lib/apt /var/cache/apt \
      /usr/bin/dpkg* /usr/sbin/dpkg* /etc/dpkg /usr/share/dpkg /usr/bin/debconf* /usr/share/debconf /var/cache/debconf \
      /usr/bin/perl* /usr/lib/*-linux-gnu*/perl-base /usr/share/perl5 \
      /var/log/* /tmp/* /root/.npm \
  && find /usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete \
  && find /usr/share/doc -mindepth 1 -type d -empty -delete \
  && mkdir -p /data /app && chown node:node /data
COPY --from=build /out/node /usr/local/bin/node
# Same relative layout as a clone: backend/dist/... finds ../../prisma/migrations, ../../package.json
# and ../../../frontend/dist.
COPY --from=build /src/backend/package.json /app/backend/package.json
COPY --from=build /out/node_modules /app/backend/node_modules
COPY --from=build /src/backend/dist /app/backend/dist
COPY --from=build /src/backend/prisma/migrations /app/backend/prisma/migrations
COPY --from=build /src/frontend/dist /app/frontend/dist
COPY scripts/container/healthcheck.mjs /app/healthcheck.mjs

# ---------------------------------------------------------------- runtime
FROM scratch AS runtime
COPY --from=rootfs / /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    NODE_ENV=production \
    CWS_DATA_DIR=/data
WORKDIR /app

# The data dir (SQLite, logs, generated secrets) belongs to the unprivileged user `node` (uid 1000).
VOLUME /data
USER node

# Configuration: /app/config.yaml if mounted (absent = defaults), then CWS_* environment variables.
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
# node is PID 1 (the entrypoint execs it) and closes the server gracefully on SIGTERM.
ENTRYPOINT ["docker-entrypoint.sh"]
# The flags are backend/node-flags.json's (scripts/test-container.sh checks they match).
CMD ["node", "--max-semi-space-size=8", "backend/dist/server.js"]
