import { defineConfig } from 'vitest/config'

// The fault suites of issue #15 §2 (`pnpm test:soak`, after `pnpm test` in CI): long-running,
// so kept out of `pnpm test`. Suites that start the real server need `pnpm build` first.
// One file at a time: several measure memory and timing on a 2-CPU machine.
export default defineConfig({
  test: {
    include: ['test/soak/**/*.soak.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/soak/duration.ts'],
  },
})
