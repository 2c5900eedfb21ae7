/**
 * Soak (issue #15 §2): 10 000 asks over a real port — a third complete, a third stopped by the
 * member, a third failed by the upstream — from 20 members at once. Afterwards the heap and the
 * active handles are back within 10 % of the baseline, the ask log adds up
 * (started == done + stopped + error) and the quotas are consistent (every reservation committed or
 * refunded, none left open, each member's remaining count = configured − committed).
 */
import type { ListeningApp } from '../chat.helpers.js'
import type { FakeUpstream } from '../fake-upstream/server.js'
import type { TestSession } from '../helper.js'
import process from 'node:process'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api, manyMembers, open, startApp } from '../chat.helpers.js'
import { startFakeUpstream } from '../fake-upstream/server.js'
import { ADMIN, loginAs } from '../helper.js'

const ASKS = Number(process.env.SOAK_ASKS ?? 10_000)
const MEMBERS = 20
const QUOTA = 1_000_000
/** Asks per member before the baseline is taken. */
const WARM_ROUNDS = 10
/** How long a finished ask stays attachable (run-registry.ts). */
const LINGER_MS = 60_000

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/**
 * The heap after full collections, MB. Between them the event loop turns, so finalizers (undici's
 * fetch registers one per request) run and what they held can go too.
 */
async function heapMb(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc()
    await new Promise(r => setTimeout(r, 50))
  }
  return process.memoryUsage().heapUsed / 1024 / 1024
}

let fake: FakeUpstream
let t: ListeningApp
let members: TestSession[]
beforeAll(async () => {
  fake = await startFakeUpstream({ knobs: { chunks: 3, extras: false } })
  t = await startApp({
    upstreams: [{ id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, concurrency: 64, models: [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }] }],
  })
  members = await manyMembers(t.app, Array.from({ length: MEMBERS }, (_, i) => `soak${i}`))
  const admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
  for (const m of members) {
    const res = await api(t.base, admin, 'PATCH', `/api/admin/users/${m.user.id}/limits`, { totalAsks: QUOTA, modelAsks: { gpt: QUOTA } })
    expect(res.status).toBe(200)
  }
})
afterAll(async () => {
  await t?.close()
  await fake?.close()
})

type Kind = 'done' | 'stopped' | 'error'
const KINDS: Kind[] = ['done', 'stopped', 'error']
const PROMPT: Record<Kind, string> = {
  done: 'answer me',
  // Slow enough that the stop lands while it runs.
  stopped: '[[fake: firstTokenMs=20, chunks=40, gapMs=5]] stop me',
  error: '[[fake: status=500]] fail me',
}

async function oneAsk(member: TestSession, kind: Kind): Promise<string> {
  const s = await open(t.base, member, { model: 'gpt', content: PROMPT[kind] })
  if (kind === 'stopped') {
    await s.waitFor('accepted')
    const { requestId } = s.accepted
    const res = await api(t.base, member, 'POST', `/api/chat/${requestId}/stop`)
    expect(res.status).toBeLessThan(300)
  }
  const last = await s.last()
  return last.event === 'done' ? 'done' : last.event === 'error' ? `error:${last.data.code}` : last.event
}

describe('soak', () => {
  it(`${ASKS} asks (⅓ complete, ⅓ stopped, ⅓ upstream error): heap and handles back to the baseline, the ask log and the quotas add up`, async () => {
    // Warm every path, every connection and the JIT (each member asks WARM_ROUNDS times, all at
    // once), then take the baseline.
    const warmed = { done: 0, stopped: 0, error: 0 }
    for (let round = 0; round < WARM_ROUNDS; round++) {
      await Promise.all(members.map((m, i) => {
        const kind = KINDS[(round * MEMBERS + i) % 3]!
        warmed[kind]++
        return oneAsk(m, kind)
      }))
    }
    await new Promise(r => setTimeout(r, 200))
    // The fake upstream keeps every request it served (in this process): forget them before each measure.
    fake.reset()
    const heap0 = await heapMb()
    const handles0 = process.getActiveResourcesInfo().length

    const ends = new Map<string, number>()
    let next = 0
    const t0 = performance.now()
    await Promise.all(members.map(async (m) => {
      while (next < ASKS) {
        const i = next++
        const kind = KINDS[i % 3]!
        const end = await oneAsk(m, kind)
        ends.set(`${kind}→${end}`, (ends.get(`${kind}→${end}`) ?? 0) + 1)
      }
    }))
    const seconds = (performance.now() - t0) / 1000

    // Finished asks stay attachable for a minute (run-registry.ts): after that, everything must be back.
    await new Promise(r => setTimeout(r, LINGER_MS + 1000))
    const served = fake.requests.length
    fake.reset()
    const heap1 = await heapMb()
    const handles1 = process.getActiveResourcesInfo().length

    const outcomes = Object.fromEntries((await t.app.db.ask.groupBy({ by: ['outcome'], _count: true })).map(g => [g.outcome, g._count]))
    const quotas = Object.fromEntries((await t.app.db.ask.groupBy({ by: ['quota'], _count: true })).map(g => [g.quota, g._count]))
    const started = await t.app.db.ask.count()
    const holds = await t.app.db.quotaHold.count()
    const committedBy = new Map((await t.app.db.ask.groupBy({ by: ['userId'], where: { quota: 'committed' }, _count: true })).map(g => [g.userId, g._count]))
    const limits = await t.app.db.userLimits.findMany({ where: { userId: { in: members.map(m => m.user.id) } } })
    const models = await t.app.db.modelQuota.findMany({ where: { userId: { in: members.map(m => m.user.id) }, model: 'gpt' } })

    console.log(`soak: ${ASKS} asks in ${seconds.toFixed(1)} s (${(ASKS / seconds).toFixed(0)}/s) from ${MEMBERS} members (${served} upstream requests); ends ${JSON.stringify(Object.fromEntries(ends))}; ask log ${JSON.stringify(outcomes)} of ${started} started; quota ${JSON.stringify(quotas)}, ${holds} open holds; heap ${heap0.toFixed(1)} → ${heap1.toFixed(1)} MB, active handles ${handles0} → ${handles1}`)

    // What each member saw: an answer, a stop (done, aborted), the upstream's failure.
    expect(Object.fromEntries(ends)).toEqual({ 'done→done': Math.ceil(ASKS / 3), 'stopped→done': Math.round(ASKS / 3), 'error→error:UPSTREAM_ERROR': Math.floor(ASKS / 3) })
    expect(started).toBe(ASKS + MEMBERS * WARM_ROUNDS)
    expect(started).toBe((outcomes.done ?? 0) + (outcomes.stopped ?? 0) + (outcomes.error ?? 0))
    expect(outcomes.done).toBe(Math.ceil(ASKS / 3) + warmed.done)
    expect(outcomes.stopped).toBe(Math.round(ASKS / 3) + warmed.stopped)
    expect(outcomes.error).toBe(Math.floor(ASKS / 3) + warmed.error)
    expect(holds).toBe(0)
    expect(quotas.reserved ?? 0).toBe(0)
    expect((quotas.committed ?? 0) + (quotas.refunded ?? 0)).toBe(started)
    for (const m of members) {
      const used = committedBy.get(m.user.id) ?? 0
      expect(limits.find(l => l.userId === m.user.id)!.totalAsks).toBe(QUOTA - used)
      expect(models.find(q => q.userId === m.user.id)!.remaining).toBe(QUOTA - used)
    }
    expect(heap1).toBeLessThanOrEqual(heap0 * 1.1)
    expect(handles1).toBeLessThanOrEqual(Math.ceil(handles0 * 1.1))
  })
})
