/**
 * Restarts with 50 live streams (issue #15 §2, §3, §4), against the real built server:
 * - SIGTERM: exit within 10 s, every character a member saw is stored, each client gets an `error`
 *   with a retry hint, and the answers cut are refunded;
 * - kill -9: every accepted question is kept, nothing stays streaming/running after the restart,
 *   the database is intact, ChatGPT web answers are read back complete from the upstream
 *   ("recovered"), the others refunded.
 */
import type { FakeUpstream } from '../fake-upstream/server.js'
import type { RealServer } from './real-server.js'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../chat.helpers.js'
import { generatedAnswer } from '../fake-upstream/knobs.js'
import { startFakeUpstream } from '../fake-upstream/server.js'
import { ANSWER_CHARS, charsLost, fiftyLiveStreams, openDb, QUOTA, serverConfig, soakMember } from './live-streams.js'
import { startRealServer } from './real-server.js'

let fake: FakeUpstream
const dirs: string[] = []
function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'cws-soak-'))
  dirs.push(d)
  return d
}
beforeAll(async () => {
  fake = await startFakeUpstream()
})
afterAll(async () => {
  await fake.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

interface Row { id: string, content: string, status: string }

describe('graceful stop (SIGTERM) with 50 live streams', () => {
  let server: RealServer
  afterAll(() => server?.stop())

  it('exits within 10 s, flushes every character shown, tells each client to retry, refunds the cut answers', async () => {
    const dataDir = tempDir()
    server = await startRealServer(dataDir, serverConfig(fake))
    const member = await soakMember(server)
    const streams = await fiftyLiveStreams(server.url, member)

    const t0 = performance.now()
    server.child.kill('SIGTERM')
    const exit = await server.exited
    const exitMs = performance.now() - t0
    await Promise.all(streams.map(s => s.done))

    expect(exit.code).toBe(0)
    expect(exitMs).toBeLessThan(10_000)
    for (const s of streams)
      expect(s.events.at(-1)).toMatchObject({ event: 'error', data: { code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: expect.any(Number) } })

    const db = openDb(dataDir)
    try {
      const byId = new Map((db.prepare('SELECT "id", "content", "status" FROM "Message" WHERE "role" = \'assistant\'').all() as Row[]).map(r => [r.id, r]))
      let seen = 0
      let stored = 0
      let lost = 0
      for (const s of streams) {
        const row = byId.get(s.accepted.assistantMessageId)!
        seen += s.text.length
        stored += row.content.length
        lost += charsLost(s.text, row.content)
        expect(row.status).toBe('interrupted')
      }
      console.log(`graceful stop: 50 live streams, exit in ${(exitMs / 1000).toFixed(2)} s, members saw ${seen} characters, ${stored} stored, ${lost} lost`)
      expect(lost).toBe(0)
      expect(db.prepare('SELECT COUNT(*) AS n FROM "Message" WHERE "status" = \'streaming\'').get()).toEqual({ n: 0 })
      // §4: cut by our own restart, so refunded — the counts are whole again, nothing held.
      expect(db.prepare('SELECT "outcome", "quota", COUNT(*) AS n FROM "Ask" GROUP BY 1, 2').all()).toEqual([{ outcome: 'interrupted', quota: 'refunded', n: 50 }])
      expect(db.prepare('SELECT "totalAsks" FROM "UserLimits" ul JOIN "User" u ON u."id" = ul."userId" WHERE u."username" = \'soaker\'').get()).toEqual({ totalAsks: QUOTA })
      expect(db.prepare('SELECT "model", "remaining" FROM "ModelQuota" mq JOIN "User" u ON u."id" = mq."userId" WHERE u."username" = \'soaker\' ORDER BY 1').all()).toEqual([{ model: 'gpt', remaining: QUOTA }, { model: 'web', remaining: QUOTA }])
      expect(db.prepare('SELECT COUNT(*) AS n FROM "QuotaHold"').get()).toEqual({ n: 0 })
    }
    finally {
      db.close()
    }
  })
})

describe('crash (kill -9) with 50 live streams', () => {
  let server: RealServer
  afterAll(() => server?.stop())

  it('keeps every question, leaves nothing streaming, stays intact, recovers ChatGPT web answers and refunds the rest', async () => {
    const dataDir = tempDir()
    server = await startRealServer(dataDir, serverConfig(fake))
    const member = await soakMember(server)
    const streams = await fiftyLiveStreams(server.url, member)

    server.child.kill('SIGKILL')
    await server.exited
    await Promise.all(streams.map(s => s.done))
    const seen = streams.reduce((n, s) => n + s.text.length, 0)
    let checkpointed = 0
    const db0 = openDb(dataDir)
    try {
      for (const s of streams)
        checkpointed += (db0.prepare('SELECT "content" FROM "Message" WHERE "id" = ?').get(s.accepted.assistantMessageId) as Row).content.length
    }
    finally {
      db0.close()
    }

    server = await startRealServer(dataDir, serverConfig(fake))
    const db = openDb(dataDir)
    try {
      const unsettled = db.prepare('SELECT COUNT(*) AS n FROM "Ask" WHERE "outcome" = \'interrupted\' AND "quota" = \'committed\'')
      await eventually(() => (unsettled.get() as { n: number }).n === 0, 20_000)

      const questions = db.prepare('SELECT "id", "content" FROM "Message" WHERE "role" = \'user\'').all() as Row[]
      const kept = streams.filter(s => questions.some(q => q.id === s.accepted.userMessageId)).length
      expect(kept).toBe(50)
      expect(db.prepare('SELECT COUNT(*) AS n FROM "Message" WHERE "status" = \'streaming\'').get()).toEqual({ n: 0 })
      expect(db.prepare('SELECT COUNT(*) AS n FROM "Ask" WHERE "outcome" IN (\'queued\', \'running\')').get()).toEqual({ n: 0 })
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')

      // ChatGPT web: the upstream finished each answer; it is stored whole, as done, "recovered".
      const asks = db.prepare('SELECT a."outcome", a."quota", a."recoveredAt", m."content", m."status", a."upstreamId" FROM "Ask" a JOIN "Message" m ON m."id" = a."messageId"').all() as Array<{ outcome: string, quota: string, recoveredAt: string | null, content: string, status: string, upstreamId: string }>
      const web = asks.filter(a => a.upstreamId === 'web')
      const api = asks.filter(a => a.upstreamId === 'api')
      const full = generatedAnswer(ANSWER_CHARS)
      expect(web.map(a => [a.outcome, a.quota, a.status, a.recoveredAt !== null, a.content === full])).toEqual(web.map(() => ['done', 'committed', 'done', true, true]))
      // OpenAI answers cannot be read back: kept as interrupted, and refunded (§4).
      expect(api.map(a => [a.outcome, a.quota, a.status])).toEqual(api.map(() => ['interrupted', 'refunded', 'interrupted']))
      expect(db.prepare('SELECT "remaining" FROM "ModelQuota" mq JOIN "User" u ON u."id" = mq."userId" WHERE u."username" = \'soaker\' AND "model" = \'gpt\'').get()).toEqual({ remaining: QUOTA })
      expect(db.prepare('SELECT "remaining" FROM "ModelQuota" mq JOIN "User" u ON u."id" = mq."userId" WHERE u."username" = \'soaker\' AND "model" = \'web\'').get()).toEqual({ remaining: QUOTA - web.length })
      const stored = asks.reduce((n, a) => n + a.content.length, 0)
      console.log(`crash: kill -9 with 50 live streams, ${kept}/50 questions kept, 0 streaming after restart, integrity ok; members saw ${seen} characters, the checkpoints held ${checkpointed}; after the restart ${web.length}/${web.length} ChatGPT web answers recovered complete, ${api.length} OpenAI answers refunded; ${stored} characters stored`)
    }
    finally {
      db.close()
    }
  })
})
