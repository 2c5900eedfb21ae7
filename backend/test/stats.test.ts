/**
 * Admin statistics through HTTP (`/api/admin/stats*`): seeded Ask rows on a real SQLite file,
 * bucketed in the configured time zone, aggregated per model and member; the members-table summary.
 */
import type { TestApp, TestSession } from './helper.js'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, buildTestApp, createUser, injectAs, loginAs } from './helper.js'

/** Session tokens expire by the real clock: keep the injected one on today's date (UTC). */
const DAY_MS = 86_400_000
const TODAY = new Date(new Date().toISOString().slice(0, 10)).getTime()
/** An instant `days` days before today (UTC), at `hm` UTC. */
const utc = (days: number, hm: string): Date => new Date(TODAY - days * DAY_MS + (Number(hm.slice(0, 2)) * 60 + Number(hm.slice(3, 5))) * 60_000)
/** Local (Asia/Shanghai, UTC+8) calendar date `days` days before today's local date at NOW. */
const shanghaiDate = (days: number): string => new Date(TODAY - days * DAY_MS).toISOString().slice(0, 10)

const NOW = utc(0, '04:00') // 12:00 in Shanghai

const CONFIG = {
  limits: { timezone: 'Asia/Shanghai' },
  upstreams: [{
    id: 'demo',
    type: 'demo',
    models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o' }, { key: 'mini', name: 'Mini', slug: 'mini' }],
  }],
}

interface Seed { userId: number, model: string, outcome: string, at: Date, queueWaitMs?: number | null, ttftMs?: number | null, charsIn?: number, charsOut?: number, tokensOut?: number | null, errorCode?: string }

describe('admin stats', () => {
  let t: TestApp
  let admin: TestSession
  let member: TestSession
  let alice: number
  let bob: number
  const get = (s: TestSession, url: string) => injectAs(t.app, s, { method: 'GET', url })

  async function seed(rows: Seed[]): Promise<void> {
    for (const r of rows) {
      await t.app.db.ask.create({
        data: {
          id: randomUUID(),
          userId: r.userId,
          model: r.model,
          upstreamId: 'demo',
          outcome: r.outcome,
          quota: r.outcome === 'done' ? 'committed' : 'refunded',
          errorCode: r.errorCode ?? null,
          queueWaitMs: r.queueWaitMs ?? null,
          ttftMs: r.ttftMs ?? null,
          charsIn: r.charsIn ?? 0,
          charsOut: r.charsOut ?? 0,
          tokensOut: r.tokensOut ?? null,
          createdAt: r.at,
        },
      })
    }
  }

  beforeAll(async () => {
    t = await buildTestApp(CONFIG, { now: () => NOW })
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    const a = await createUser(t.app, { username: 'alice', nickname: 'Alice' })
    const b = await createUser(t.app, { username: 'bob' })
    alice = a.user.id
    bob = b.user.id
    member = await loginAs(t.app, 'bob', b.password)
    await seed([
      // Today in Shanghai: 01:00 local is still yesterday in UTC.
      { userId: alice, model: 'gpt-4o', outcome: 'done', at: utc(1, '17:00'), queueWaitMs: 100, ttftMs: 300, charsIn: 10, charsOut: 400, tokensOut: 90 },
      { userId: alice, model: 'gpt-4o', outcome: 'done', at: utc(0, '01:00'), queueWaitMs: 300, ttftMs: 500, charsIn: 20, charsOut: 600, tokensOut: 110 },
      { userId: alice, model: 'gpt-4o', outcome: 'error', at: utc(0, '02:00'), queueWaitMs: 200, errorCode: 'UPSTREAM_ERROR', charsIn: 5 },
      { userId: bob, model: 'mini', outcome: 'stopped', at: utc(0, '03:00'), queueWaitMs: 0, ttftMs: 100, charsIn: 7, charsOut: 30 },
      // Yesterday in Shanghai (23:00 local).
      { userId: bob, model: 'mini', outcome: 'done', at: utc(1, '15:00'), queueWaitMs: 50, ttftMs: 200, charsIn: 3, charsOut: 70 },
      // Three days ago, and one far outside the default 14 days.
      { userId: alice, model: 'mini', outcome: 'interrupted', at: utc(3, '06:00'), charsIn: 1, charsOut: 5 },
      { userId: alice, model: 'gpt-4o', outcome: 'done', at: utc(30, '06:00'), queueWaitMs: 9999, ttftMs: 9999, charsOut: 9999 },
    ])
  })
  afterAll(() => t.close())

  it('is for admins only', async () => {
    expect((await get(member, '/api/admin/stats')).json()).toMatchObject({ code: 'FORBIDDEN' })
    expect((await t.app.inject({ method: 'GET', url: '/api/admin/stats' })).statusCode).toBe(401)
    expect((await get(member, '/api/admin/stats/meta')).statusCode).toBe(403)
    expect((await get(member, `/api/admin/stats/members?ids=${bob}`)).statusCode).toBe(403)
  })

  it('buckets asks per day in the configured zone, per model, over the last 14 days by default', async () => {
    const res = await get(admin, '/api/admin/stats')
    expect(res.statusCode).toBe(200)
    const s = res.json()
    expect(s).toMatchObject({ bucket: 'day', timezone: 'Asia/Shanghai', to: NOW.toISOString(), from: new Date(NOW.getTime() - 14 * DAY_MS).toISOString() })
    // 14 days back from 12:00 local touches 15 local dates, empty ones included, oldest first.
    expect(s.series).toHaveLength(15)
    expect(s.series.at(-1)).toEqual({ key: shanghaiDate(0), start: new Date(TODAY - 8 * 3_600_000).toISOString(), asks: 4, byModel: { 'gpt-4o': 3, 'mini': 1 }, errors: 1 })
    expect(s.series.at(-2)).toMatchObject({ key: shanghaiDate(1), asks: 1, byModel: { mini: 1 }, errors: 0 })
    expect(s.series.at(-4)).toMatchObject({ key: shanghaiDate(3), asks: 1, byModel: { mini: 1 } })
    expect(s.series.at(-3)).toMatchObject({ asks: 0, byModel: {} })
    expect(s.series.reduce((n: number, p: { asks: number }) => n + p.asks, 0)).toBe(6)
  })

  it('aggregates outcomes, average wait and time to first token, characters and tokens, per model and member', async () => {
    const s = (await get(admin, '/api/admin/stats')).json()
    expect(s.summary).toEqual({ asks: 6, done: 3, stopped: 1, error: 1, other: 1, avgQueueWaitMs: 130, avgTtftMs: 275, charsIn: 46, charsOut: 1105, tokensOut: 200 })
    expect(s.perModel).toEqual([
      { model: 'gpt-4o', name: 'GPT-4o', asks: 3, done: 2, stopped: 0, error: 1, other: 0, avgQueueWaitMs: 200, avgTtftMs: 400, charsIn: 35, charsOut: 1000, tokensOut: 200 },
      { model: 'mini', name: 'Mini', asks: 3, done: 1, stopped: 1, error: 0, other: 1, avgQueueWaitMs: 25, avgTtftMs: 150, charsIn: 11, charsOut: 105, tokensOut: null },
    ])
    expect(s.perUser.map((u: { username: string, asks: number }) => [u.username, u.asks])).toEqual([['alice', 4], ['bob', 2]])
    expect(s.perUser[0]).toMatchObject({ userId: alice, nickname: 'Alice', lastAskAt: utc(0, '02:00').toISOString(), error: 1 })
  })

  it('counts users, active users, conversations, messages and asks since local midnight', async () => {
    const s = (await get(admin, '/api/admin/stats')).json()
    // admin + alice + bob; all three logged in (or asked) within a day by the injected clock.
    expect(s.totals).toMatchObject({ users: 3, enabledUsers: 3, conversations: 0, messages: 0, asksToday: 4 })
    expect(s.totals.active7d).toBeGreaterThanOrEqual(s.totals.active1d)
    expect(s.totals.active7d).toBe(3)
  })

  it('buckets by hour in the zone, inside an explicit range', async () => {
    const from = utc(0, '00:00').toISOString()
    const to = utc(0, '04:00').toISOString()
    const s = (await get(admin, `/api/admin/stats?bucket=hour&from=${from}&to=${to}`)).json()
    const d = shanghaiDate(0)
    expect(s.series.map((p: { key: string, asks: number }) => [p.key, p.asks])).toEqual([
      [`${d} 08:00`, 0],
      [`${d} 09:00`, 1],
      [`${d} 10:00`, 1],
      [`${d} 11:00`, 1],
    ])
    expect(s.summary.asks).toBe(3)
  })

  it('refuses bad ranges with a 400 the dashboard can show', async () => {
    const bad = [
      `/api/admin/stats?from=${NOW.toISOString()}&to=${utc(1, '00:00').toISOString()}`,
      `/api/admin/stats?bucket=hour&from=${utc(60, '00:00').toISOString()}&to=${NOW.toISOString()}`,
      '/api/admin/stats?bucket=week',
      '/api/admin/stats?from=yesterday',
      '/api/admin/stats?extra=1',
    ]
    for (const url of bad) {
      const res = await get(admin, url)
      expect(res.statusCode, url).toBe(400)
      expect(res.json().code, url).toMatch(/^(VALIDATION_FAILED|BAD_REQUEST)$/)
    }
    // 60 days of days is fine.
    expect((await get(admin, `/api/admin/stats?from=${utc(60, '00:00').toISOString()}&to=${NOW.toISOString()}`)).statusCode).toBe(200)
  })

  it('meta lists the configured models and the time zone', async () => {
    const res = await get(admin, '/api/admin/stats/meta')
    expect(res.json()).toEqual({
      timezone: 'Asia/Shanghai',
      models: [{ key: 'gpt-4o', name: 'GPT-4o', upstreamId: 'demo', isDemo: true }, { key: 'mini', name: 'Mini', upstreamId: 'demo', isDemo: true }],
    })
  })

  it('summarises members for the table: remaining asks per allowed model, expiry, recent asks', async () => {
    const patch = await injectAs(t.app, admin, {
      method: 'PATCH',
      url: `/api/admin/users/${bob}/limits`,
      payload: { allowedModels: ['mini'], totalAsks: 12, modelAsks: { mini: 5 }, validUntil: utc(1, '00:00').toISOString() },
    })
    expect(patch.statusCode).toBe(200)
    const res = await get(admin, `/api/admin/stats/members?ids=${alice},${bob},999999`)
    expect(res.statusCode).toBe(200)
    const items = res.json().items
    expect(items).toHaveLength(2)
    expect(items[0]).toEqual({
      userId: alice,
      limitsEnabled: true,
      validUntil: null,
      expired: false,
      totalAsks: -1,
      models: [{ model: 'gpt-4o', name: 'GPT-4o', remaining: -1 }, { model: 'mini', name: 'Mini', remaining: -1 }],
      asks7d: 4,
      lastAskAt: utc(0, '02:00').toISOString(),
    })
    expect(items[1]).toMatchObject({ userId: bob, expired: true, totalAsks: 12, models: [{ model: 'mini', name: 'Mini', remaining: 5 }], asks7d: 2 })

    for (const url of ['/api/admin/stats/members', '/api/admin/stats/members?ids=1,,2', '/api/admin/stats/members?ids=abc'])
      expect((await get(admin, url)).statusCode, url).toBe(400)
  })

  it('forgets a deleted member\'s asks', async () => {
    const c = await createUser(t.app, { username: 'carol' })
    await seed([{ userId: c.user.id, model: 'mini', outcome: 'done', at: utc(0, '03:30') }])
    expect((await get(admin, '/api/admin/stats')).json().summary.asks).toBe(7)
    expect((await injectAs(t.app, admin, { method: 'DELETE', url: `/api/admin/users/${c.user.id}` })).statusCode).toBe(204)
    const s = (await get(admin, '/api/admin/stats')).json()
    expect(s.summary.asks).toBe(6)
    expect(s.totals.users).toBe(3)
  })
})
