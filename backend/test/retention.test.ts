import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { dbFile } from '../src/db/client.js'
import { createLogger, LogRing } from '../src/lib/logger.js'
import { pruneAsks } from '../src/modules/asklog/retention.js'
import { ADMIN, buildTestApp, createUser, injectAs, loginAs, tempDataDir } from './helper.js'

const DAY = 86_400_000

/** Retention (issue #15 §4): the ask log is pruned, log files are bounded, the overview shows the database size. */
describe('ask log retention', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  const dataDir = () => {
    const d = tempDataDir()
    dirs.push(d)
    return d
  }

  it('prunes ended asks older than logs.ask_retention_days at start, keeping recent ones, conversations and messages', async () => {
    const dir = dataDir()
    const now = Date.now()
    let t = await buildTestApp({ logs: { ask_retention_days: 30 } }, { dataDir: dir })
    const { user } = await createUser(t.app, { username: 'carol' })
    const conv = await t.app.db.conversation.create({ data: { id: 'c-old', userId: user.id, model: 'demo', upstreamId: 'demo', createdAt: new Date(now - 400 * DAY) } })
    await t.app.db.message.create({ data: { id: 'm-old', conversationId: conv.id, role: 'assistant', content: 'an old answer', model: 'demo', createdAt: new Date(now - 400 * DAY) } })
    const ask = (id: string, daysAgo: number, outcome: string) => ({ id, userId: user.id, conversationId: conv.id, messageId: 'm-old', model: 'demo', upstreamId: 'demo', outcome, quota: 'committed', createdAt: new Date(now - daysAgo * DAY) })
    await t.app.db.ask.createMany({ data: [ask('old-done', 400, 'done'), ask('old-error', 40, 'error'), ask('recent', 5, 'done'), ask('edge', 29, 'stopped')] })
    await t.close()

    t = await buildTestApp({ logs: { ask_retention_days: 30 } }, { dataDir: dir })
    try {
      const left = (await t.app.db.ask.findMany({ select: { id: true }, orderBy: { id: 'asc' } })).map(a => a.id)
      expect(left).toEqual(['edge', 'recent'])
      expect(await t.app.db.conversation.count({ where: { id: 'c-old' } })).toBe(1)
      expect((await t.app.db.message.findUniqueOrThrow({ where: { id: 'm-old' } })).content).toBe('an old answer')
    }
    finally {
      await t.close()
    }
  })

  it('never prunes a running or queued ask, a reservation, an ask a rate window still counts, or anything with 0 (forever)', async () => {
    const dir = dataDir()
    const t = await buildTestApp({}, { dataDir: dir })
    try {
      const now = new Date()
      const { user: dave } = await createUser(t.app, { username: 'dave' })
      const { user: erin } = await createUser(t.app, { username: 'erin' })
      // Erin's limits count a year-long rolling window: her 100-day-old ask still counts against it.
      await t.app.limits.load(erin.id)
      await t.app.db.userLimits.update({ where: { userId: erin.id }, data: { rateWindows: JSON.stringify([{ model: 'demo', max: 100, windowSeconds: 366 * 86_400 }]) } })
      const ask = (id: string, userId: number, daysAgo: number, outcome: string, quota = 'committed') => ({ id, userId, model: 'demo', upstreamId: 'demo', outcome, quota, createdAt: new Date(now.getTime() - daysAgo * DAY) })
      await t.app.db.ask.createMany({ data: [
        ask('running', dave.id, 100, 'running'),
        ask('queued', dave.id, 100, 'queued'),
        ask('reserved', dave.id, 100, 'error', 'reserved'),
        ask('dave-old', dave.id, 100, 'done'),
        ask('erin-windowed', erin.id, 100, 'done'),
        ask('erin-past-window', erin.id, 400, 'done'),
      ] })
      expect(await pruneAsks(t.app.db, now, 0)).toBe(0)
      expect(await t.app.db.ask.count()).toBe(6)
      expect(await pruneAsks(t.app.db, now, 30)).toBe(2)
      const left = (await t.app.db.ask.findMany({ select: { id: true }, orderBy: { id: 'asc' } })).map(a => a.id)
      expect(left).toEqual(['erin-windowed', 'queued', 'reserved', 'running'])
    }
    finally {
      await t.close()
    }
  })

  it('shows the database size (cws.db + WAL) and the retention in the admin overview', async () => {
    const dir = dataDir()
    const t = await buildTestApp({ logs: { ask_retention_days: 90 } }, { dataDir: dir })
    try {
      const admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
      const res = await injectAs(t.app, admin, { method: 'GET', url: '/api/admin/stats' })
      expect(res.statusCode).toBe(200)
      const file = dbFile(dir)
      const onDisk = statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0)
      const { dbBytes, askRetentionDays } = res.json().totals
      expect(askRetentionDays).toBe(90)
      expect(dbBytes).toBeGreaterThan(4096)
      // Measured a moment later, give or take the WAL frames of the login in between.
      expect(Math.abs(dbBytes - onDisk)).toBeLessThan(256 * 1024)
    }
    finally {
      await t.close()
    }
  })
})

describe('log file rotation', () => {
  it('rotates cws.log past log.max_file_mb and keeps log.max_files older files', async () => {
    const dir = tempDataDir()
    try {
      const logger = createLogger({ level: 'info', dataDir: dir, file: true, maxFileBytes: 1024 * 1024, maxFiles: 2, ring: new LogRing(10), pretty: false, destination: { write: () => {} } })
      const filler = 'x'.repeat(1000)
      for (let i = 0; i < 5000; i++) {
        logger.info({ i, filler }, 'line')
        if (i % 200 === 0)
          await new Promise(r => setImmediate(r))
      }
      logger.info('the last line')
      await new Promise(r => setTimeout(r, 300))
      const logs = path.join(dir, 'logs')
      expect(readdirSync(logs).sort()).toEqual(['cws.1.log', 'cws.2.log', 'cws.log'])
      for (const f of readdirSync(logs))
        expect(statSync(path.join(logs, f)).size, f).toBeLessThan(1.2 * 1024 * 1024)
      expect(readFileSync(path.join(logs, 'cws.log'), 'utf8')).toContain('the last line')
      // About 5 MB were written: only the newest ~3 MB are kept, the oldest lines are gone.
      const kept = readdirSync(logs).map(f => readFileSync(path.join(logs, f), 'utf8')).join('')
      expect(kept).not.toContain('"i":0,')
      expect((statSync(path.join(logs, 'cws.1.log')).mode & 0o777).toString(8)).toBe('600')
    }
    finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
