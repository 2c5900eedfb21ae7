import type { ListeningApp } from './chat.helpers.js'
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { parseConfig } from '../src/config/load.js'
import { createLogger, LogRing } from '../src/lib/logger.js'
import { api, startApp } from './chat.helpers.js'
import { ADMIN, loginAs, tempDataDir } from './helper.js'

const mode = (p: string) => statSync(p).mode & 0o777

/** Secrets at rest (issue #15 §4): a private data dir, and no credential left behind in SQLite's free pages or WAL. */
describe('secrets at rest', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  const freshDir = () => {
    const parent = tempDataDir()
    dirs.push(parent)
    return path.join(parent, 'data')
  }

  it('creates the data dir 0700 and cws.db, its -wal and -shm and the log file 0600 on a fresh start', async () => {
    const dataDir = freshDir()
    const config = parseConfig({ log: { level: 'info', file: true }, admin: { username: ADMIN.username, password: ADMIN.password } })
    const logger = createLogger({ level: 'info', dataDir, file: true, ring: new LogRing(), pretty: false, destination: { write: () => {} } })
    const app = await buildApp({ config, dataDir, logger, logRing: new LogRing() })
    await app.ready()
    try {
      await loginAs(app, ADMIN.username, ADMIN.password)
      logger.info('a line for the log file')
      await new Promise(r => setTimeout(r, 200))
      const db = path.join(dataDir, 'cws.db')
      expect(mode(dataDir)).toBe(0o700)
      expect(existsSync(`${db}-wal`) && existsSync(`${db}-shm`)).toBe(true)
      expect(Object.fromEntries([db, `${db}-wal`, `${db}-shm`, path.join(dataDir, 'logs', 'cws.log')].map(f => [path.basename(f), mode(f).toString(8)])))
        .toEqual({ 'cws.db': '600', 'cws.db-wal': '600', 'cws.db-shm': '600', 'cws.log': '600' })
      expect(mode(path.join(dataDir, 'logs'))).toBe(0o700)
    }
    finally {
      await app.close()
    }
  })

  it('makes an older world-readable data dir and database private at start', async () => {
    const dataDir = freshDir()
    let t = await startApp({}, { dataDir })
    await t.close()
    chmodSync(dataDir, 0o755)
    chmodSync(path.join(dataDir, 'cws.db'), 0o644)
    // A WAL left behind (a crash) with the old mode.
    writeFileSync(path.join(dataDir, 'cws.db-wal'), '', { mode: 0o644 })
    chmodSync(path.join(dataDir, 'cws.db-wal'), 0o644)
    t = await startApp({}, { dataDir })
    try {
      expect([mode(dataDir), mode(path.join(dataDir, 'cws.db')), mode(path.join(dataDir, 'cws.db-wal'))].map(m => m.toString(8))).toEqual(['700', '600', '600'])
    }
    finally {
      await t.close()
    }
  })

  describe('a credential replaced or reverted in the dashboard', () => {
    let t: ListeningApp | undefined
    afterEach(async () => {
      await t?.close()
      t = undefined
    })
    const bytesOnDisk = (dataDir: string) => ['cws.db', 'cws.db-wal'].map(f => path.join(dataDir, f)).filter(existsSync).map(f => readFileSync(f))
    const onDisk = (dataDir: string, secret: string) => bytesOnDisk(dataDir).some(b => b.includes(Buffer.from(secret)))
    const upstream = (credential: string) => ({ id: 'api', type: 'openai', baseUrl: 'https://api.example.org/v1', credential, models: [{ key: 'gpt', name: 'GPT', slug: 'gpt' }] })

    it('leaves no copy of the old credential in cws.db or its WAL', async () => {
      const dataDir = freshDir()
      t = await startApp({}, { dataDir })
      const admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
      const old = `sk-old-${'A'.repeat(40)}`
      const next = `sk-new-${'B'.repeat(40)}`
      expect((await api(t.base, admin, 'PUT', '/api/admin/settings/upstreams', { upstreams: [upstream(old)] })).status).toBe(200)
      // The control: the saved credential is on disk (what the test looks for can be found).
      expect(onDisk(dataDir, old)).toBe(true)
      expect((await api(t.base, admin, 'PUT', '/api/admin/settings/upstreams', { upstreams: [upstream(next)] })).status).toBe(200)
      await t.app.db.$queryRawUnsafe('PRAGMA wal_checkpoint(FULL)')
      expect(onDisk(dataDir, old)).toBe(false)
      expect(onDisk(dataDir, next)).toBe(true)

      // Reverting to the config file drops the dashboard's credential as well.
      expect((await api(t.base, admin, 'DELETE', '/api/admin/settings/upstreams')).status).toBe(200)
      await t.app.db.$queryRawUnsafe('PRAGMA wal_checkpoint(FULL)')
      expect(onDisk(dataDir, next)).toBe(false)
    })
  })
})
