// The Node flags the server runs with wherever it is started (backend/node-flags.json, their one
// home): pnpm start, the browser and fault suites, bench/stream.ts. The Dockerfile's CMD repeats them
// (scripts/test-container.sh checks it does).
import { readFileSync } from 'node:fs'

/** @returns {string[]} the flags, in order, before the server script */
export function serverNodeFlags() {
  return JSON.parse(readFileSync(new URL('../backend/node-flags.json', import.meta.url), 'utf8')).flags
}
