# ChatGPT Web Share: one image serving the API and the built web app on port 8080.
#
#   docker build -t chatgpt-web-share .        (or: docker compose build)
#   docker run -d -p 8080:8080 -v cws-data:/data chatgpt-web-share
#
# The build stage runs exactly what CI runs outside a container (pnpm install --frozen-lockfile,
# pnpm build); the runtime stage holds only production dependencies, the compiled server, the
# committed SQL migrations and the built SPA.

# ---------------------------------------------------------------- build
# (Fully qualified, so podman resolves it without a short-name registry list as well.)
FROM docker.io/library/node:20-bookworm-slim AS build
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

# A production-only node_modules for the server (no dev dependencies, no workspace links), then
# trimmed: Prisma ships a query compiler per database and we only talk to SQLite; better-sqlite3
# needs its compiled addon, not its objects, static library and C sources; no source maps or type
# declarations at run time.
RUN --mount=type=cache,id=cws-pnpm-store,target=/root/.local/share/pnpm/store \
    pnpm --filter @cws/backend deploy --prod /out \
  && find /out/node_modules/@prisma/client/runtime/ -name 'query_compiler_*' ! -name '*.sqlite.*' -delete \
  && cd /out/node_modules/better-sqlite3/ \
  && find build -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} + \
  && find build/Release -mindepth 1 ! -name better_sqlite3.node -exec rm -rf {} + \
  && rm -rf deps src \
  && find /out/node_modules/ -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete \
  && find /src/backend/dist /src/frontend/dist -name '*.map' -delete

# ---------------------------------------------------------------- runtime
FROM docker.io/library/node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    CWS_DATA_DIR=/data
WORKDIR /app

# Same relative layout as a clone: backend/dist/... finds ../../prisma/migrations, ../../package.json
# and ../../../frontend/dist.
COPY --from=build /src/backend/package.json backend/package.json
COPY --from=build /out/node_modules backend/node_modules
COPY --from=build /src/backend/dist backend/dist
COPY --from=build /src/backend/prisma/migrations backend/prisma/migrations
COPY --from=build /src/frontend/dist frontend/dist
COPY scripts/container/healthcheck.mjs healthcheck.mjs

# The data dir (SQLite, logs, generated secrets) belongs to the unprivileged user `node` (uid 1000).
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node

# Configuration: /app/config.yaml if mounted (absent = defaults), then CWS_* environment variables.
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
# node is PID 1 (the entrypoint execs it) and closes the server gracefully on SIGTERM.
CMD ["node", "backend/dist/server.js"]
