import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config/schema.js'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildApp } from '../src/app.js'
import { parseConfig } from '../src/config/load.js'

export interface TestApp {
  app: FastifyInstance
  dataDir: string
  close: () => Promise<void>
}

/** A temp data dir with a real SQLite file; removed by close(). */
export function tempDataDir(prefix = 'cws-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix))
}

/**
 * Builds the real app on a fresh SQLite file. `config` is raw config (as from YAML), validated
 * through the same schema the server uses.
 */
export async function buildTestApp(config: Record<string, unknown> = {}, opts: { dataDir?: string, now?: () => Date, webDir?: string } = {}): Promise<TestApp> {
  const dataDir = opts.dataDir ?? tempDataDir()
  const cfg: Config = parseConfig({ log: { level: 'silent', file: false }, ...config })
  const app = await buildApp({ config: cfg, dataDir, now: opts.now, webDir: opts.webDir })
  await app.ready()
  return {
    app,
    dataDir,
    close: async () => {
      await app.close()
      if (!opts.dataDir)
        rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
