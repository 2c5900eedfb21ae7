import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { sqlOf } from '../src/db/client.js'
import { buildTestApp, createUser } from './helper.js'

/** Whether `text` is in cws.db itself (not only in its WAL): only a checkpoint puts it there. */
const inDbFile = (dataDir: string, text: string): boolean => readFileSync(path.join(dataDir, 'cws.db')).includes(text)

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise(r => setTimeout(r, 50))) {
    if (cond())
      return true
  }
  return cond()
}

describe('wAL checkpoints off the event loop (db/wal-checkpointer.ts)', () => {
  it('copies a new row into cws.db within about a second, though the main connection would only checkpoint past 10 000 pages', async () => {
    const t = await buildTestApp()
    try {
      const conn = sqlOf(t.app.db).connection
      // The worker said it is up: the main connection's own checkpoint is only a backstop now.
      expect(await until(() => Number(conn.pragma('wal_autocheckpoint', { simple: true })) === 10_000, 3000)).toBe(true)
      const username = `checkpointed${Date.now()}`
      await createUser(t.app, { username })
      // A few pages of WAL, far below any automatic checkpoint: still in cws.db soon after.
      expect(await until(() => inDbFile(t.dataDir, username), 3000)).toBe(true)
    }
    finally {
      await t.close()
    }
  })

  it('closes its connection before the app\'s, so the WAL is folded in and removed at a clean stop', async () => {
    const t = await buildTestApp({}, { dataDir: undefined })
    const wal = path.join(t.dataDir, 'cws.db-wal')
    const username = `atstop${Date.now()}`
    await createUser(t.app, { username })
    expect(existsSync(wal)).toBe(true)
    await t.app.close()
    expect(existsSync(wal)).toBe(false)
    expect(inDbFile(t.dataDir, username)).toBe(true)
    await t.close()
  })
})
