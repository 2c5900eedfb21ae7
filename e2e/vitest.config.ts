import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Browser tests: the real built server + Debian's chromium through playwright-core.
// Expects `pnpm build` to have run (SPA in frontend/dist, server in backend/dist).
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['e2e/**/*.test.ts'],
    environment: 'node',
    // One server + one browser per file; files one after the other (machines have 2 cores).
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
})
