/**
 * The quota gate end to end: real server on 127.0.0.1, members asking through POST /api/chat, an
 * OpenAI-compatible fake upstream steered by `[[fake: …]]` knobs in the question, a real SQLite
 * file, and an injected (frozen, movable) clock for windows and slots.
 */
import type { FakeUpstream } from './fake-upstream/server.js'
import type { TestApp, TestSession } from './helper.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sqlOf } from '../src/db/client.js'
import { api, chat, eventually, open } from './chat.helpers.js'
import { startFakeUpstream } from './fake-upstream/server.js'
import { ADMIN, buildTestApp, createUser, loginAs, tempDataDir } from './helper.js'

/** Session tokens expire by the real clock: keep the injected clock on today's date. */
const T0 = new Date(`${new Date().toISOString().slice(0, 10)}T04:00:00.000Z`).getTime()
const MIN = 60_000

interface Server extends TestApp { base: string }

async function start(fake: FakeUpstream, now: () => Date, extra: Record<string, unknown> = {}, dataDir?: string): Promise<Server> {
  const t = await buildTestApp({
    chat: { ping_seconds: 600, queue_max_wait_seconds: 1 },
    limits: { timezone: 'Asia/Shanghai' },
    upstreams: [{
      id: 'api',
      type: 'openai',
      base_url: fake.openaiBaseUrl,
      api_key: fake.apiKey,
      concurrency: 16,
      models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o' }, { key: 'mini', name: 'Mini', slug: 'mini' }],
    }],
    ...extra,
  }, { now, dataDir })
  await t.app.listen({ port: 0, host: '127.0.0.1' })
  const addr = t.app.server.address()
  if (!addr || typeof addr === 'string')
    throw new Error('not listening')
  return { ...t, base: `http://127.0.0.1:${addr.port}` }
}

describe('quota gate through POST /api/chat', () => {
  let fake: FakeUpstream
  let t: Server
  let admin: TestSession
  let clock = T0
  const members: Record<string, { s: TestSession, id: number }> = {}

  const setLimits = async (who: string, limits: object): Promise<any> => {
    const res = await api(t.base, admin, 'PATCH', `/api/admin/users/${members[who]!.id}/limits`, limits)
    expect(res.status, JSON.stringify(res.json)).toBe(200)
    return res.json
  }
  const limitsOf = async (who: string): Promise<any> => (await api(t.base, admin, 'GET', `/api/admin/users/${members[who]!.id}/limits`)).json
  const askRow = (id: string) => t.app.db.ask.findUniqueOrThrow({ where: { id } })
  const stop = (who: string, requestId: string) => api(t.base, members[who]!.s, 'POST', `/api/chat/${requestId}/stop`)

  beforeAll(async () => {
    fake = await startFakeUpstream()
    t = await start(fake, () => new Date(clock))
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    await Promise.all(['ann', 'ben', 'cat', 'dan'].map(async (name) => {
      const { user, password } = await createUser(t.app, { username: name })
      members[name] = { s: await loginAs(t.app, name, password), id: user.id }
    }))
  })
  afterAll(async () => {
    await t?.close()
    await fake?.close()
  })

  it('runs the checks in the documented order, each refusing with its own code as a JSON error', async () => {
    clock = T0 // 12:00 in Shanghai
    const ann = members.ann!
    // A window already holding one ask of mini (made while nothing else was limited).
    await setLimits('ann', { rateWindows: [{ model: 'mini', max: 1, windowSeconds: 3600 }] })
    expect((await (await open(t.base, ann.s, { model: 'mini', content: 'first' })).last()).event).toBe('done')

    await setLimits('ann', {
      enabled: false,
      validUntil: new Date(T0 - MIN).toISOString(),
      allowedModels: ['gpt-4o'],
      timeSlots: [{ start: '22:00', end: '02:00' }],
      totalAsks: 0,
      modelAsks: { mini: 0 },
      maxConversations: 1,
    })
    const steps: Array<[string, object]> = [
      ['ACCOUNT_DISABLED', { enabled: true }],
      ['ACCOUNT_EXPIRED', { validUntil: null }],
      ['MODEL_NOT_ALLOWED', { allowedModels: null }],
      ['OUTSIDE_TIME_SLOT', { timeSlots: [{ start: '08:00', end: '23:30' }] }],
      ['TOTAL_ASKS_EXHAUSTED', { totalAsks: -1 }],
      ['MODEL_ASKS_EXHAUSTED', { modelAsks: { mini: -1 } }],
      ['RATE_WINDOW_FULL', { rateWindows: [] }],
      ['MAX_CONVERSATIONS', { maxConversations: -1 }],
    ]
    const statuses: Record<string, number> = { RATE_WINDOW_FULL: 429 }
    for (const [code, lift] of steps) {
      const res = await chat(t.base, ann.s, { model: 'mini', content: 'again' })
      expect(res.status, code).toBe(statuses[code] ?? 403)
      expect(res.json).toMatchObject({ code })
      expect(res.json.message.length).toBeGreaterThan(10)
      if (code === 'OUTSIDE_TIME_SLOT')
        expect(res.json.nextAllowedAt).toBe(new Date(T0 + 10 * 60 * MIN).toISOString()) // 22:00 Shanghai
      if (code === 'RATE_WINDOW_FULL')
        expect(res.json).toMatchObject({ retryAfterSeconds: 3600, nextAllowedAt: new Date(T0 + 60 * MIN).toISOString() })
      await setLimits('ann', lift)
    }
    expect((await (await open(t.base, ann.s, { model: 'mini', content: 'now it works' })).last()).event).toBe('done')
    // No refused ask left a trace in the ledger.
    expect(await t.app.db.quotaHold.count()).toBe(0)
    expect(await t.app.db.ask.count({ where: { userId: ann.id } })).toBe(2)
  })

  it('maxConversations counts only new conversations: follow-ups still work', async () => {
    const ben = members.ben!
    await setLimits('ben', { maxConversations: 1 })
    const first = await open(t.base, ben.s, { model: 'gpt-4o', content: 'one' })
    await first.last()
    const second = await chat(t.base, ben.s, { model: 'gpt-4o', content: 'two' })
    expect(second).toMatchObject({ status: 403, json: { code: 'MAX_CONVERSATIONS' } })
    const follow = await open(t.base, ben.s, { model: 'gpt-4o', content: 'more', conversationId: first.accepted.conversationId })
    expect((await follow.last()).event).toBe('done')
    await setLimits('ben', { maxConversations: -1 })
  })

  it('reserve at admission, commit at the first output, refund when no output came: every exit path', async () => {
    const cat = members.cat!
    await setLimits('cat', { totalAsks: 100, modelAsks: { 'gpt-4o': 50 }, maxInFlight: 4 })
    const remaining = async () => {
      const l = await limitsOf('cat')
      return [l.totalAsks, l.modelAsks['gpt-4o']]
    }

    // Reserved while waiting for output: the unit is taken before anything arrives.
    const slow = await open(t.base, cat.s, { model: 'gpt-4o', content: '[[fake: firstTokenMs=60000]] slow' })
    await slow.waitFor('started')
    expect(await remaining()).toEqual([99, 49])
    expect(await t.app.db.quotaHold.count({ where: { askId: slow.accepted.requestId } })).toBe(1)
    // Stopped before any output → refunded.
    expect((await stop('cat', slow.accepted.requestId)).json).toEqual({ stopped: true })
    await slow.done
    await eventually(async () => (await askRow(slow.accepted.requestId)).quota === 'refunded')
    expect(await remaining()).toEqual([100, 50])

    // Done → committed.
    const done = await open(t.base, cat.s, { model: 'gpt-4o', content: 'plain' })
    expect((await done.last()).event).toBe('done')
    expect((await askRow(done.accepted.requestId)).quota).toBe('committed')
    expect(await remaining()).toEqual([99, 49])

    // Stopped after the first output → committed.
    const long = await open(t.base, cat.s, { model: 'gpt-4o', content: '[[fake: chunks=200, gapMs=50]] long' })
    await long.waitFor('delta')
    await stop('cat', long.accepted.requestId)
    await long.done
    await eventually(async () => (await askRow(long.accepted.requestId)).quota === 'committed')
    expect(await remaining()).toEqual([98, 48])

    // Upstream error before output → refunded.
    const failed = await open(t.base, cat.s, { model: 'gpt-4o', content: '[[fake: status=500]] boom' })
    expect((await failed.last()).event).toBe('error')
    expect((await askRow(failed.accepted.requestId)).quota).toBe('refunded')
    expect(await remaining()).toEqual([98, 48])

    // Upstream error after some output → committed.
    const broken = await open(t.base, cat.s, { model: 'gpt-4o', content: '[[fake: errorAfter=2]] half' })
    expect((await broken.last()).event).toBe('error')
    expect((await askRow(broken.accepted.requestId)).quota).toBe('committed')
    expect(await remaining()).toEqual([97, 47])

    // Commit and refund happen once: repeating them changes nothing.
    await t.app.quotaGate.refund(done.accepted.requestId)
    await t.app.quotaGate.commit(done.accepted.requestId)
    expect(await remaining()).toEqual([97, 47])
    expect((await askRow(done.accepted.requestId)).quota).toBe('committed')
    expect(await t.app.db.quotaHold.count()).toBe(0)
  })

  it('queue timeout → refunded', async () => {
    const dan = members.dan!
    await setLimits('dan', { totalAsks: 10, maxInFlight: 1 })
    // Dan's first ask holds his only running slot; the second waits behind it and times out (1 s).
    const holder = await open(t.base, dan.s, { model: 'mini', content: '[[fake: firstTokenMs=60000]] hold' })
    await holder.waitFor('started')
    const waiter = await open(t.base, dan.s, { model: 'mini', content: 'wait' })
    expect((await waiter.last())).toMatchObject({ event: 'error', data: { code: 'QUEUE_TIMEOUT' } })
    expect((await askRow(waiter.accepted.requestId)).quota).toBe('refunded')
    expect((await limitsOf('dan')).totalAsks).toBe(9)
    await stop('dan', holder.accepted.requestId)
    await holder.done
    await eventually(async () => (await limitsOf('dan')).totalAsks === 10)
  })

  it('20 parallel asks with 1 unit left: exactly 1 is admitted', async () => {
    const ben = members.ben!
    await setLimits('ben', { totalAsks: 1, maxInFlight: 20 })
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => chat(t.base, ben.s, { model: 'mini', content: `race ${i}` })))
    const admitted = answers.filter(a => a.stream)
    expect(admitted).toHaveLength(1)
    expect(answers.filter(a => a.json?.code === 'TOTAL_ASKS_EXHAUSTED')).toHaveLength(19)
    await admitted[0]!.stream!.last()
    expect((await limitsOf('ben')).totalAsks).toBe(0)

    // The same for a per-model count and for a rolling window.
    await setLimits('ben', { totalAsks: -1, modelAsks: { mini: 1 } })
    let all = await Promise.all(Array.from({ length: 20 }, (_, i) => chat(t.base, ben.s, { model: 'mini', content: `race m${i}` })))
    expect(all.filter(a => a.stream)).toHaveLength(1)
    await Promise.all(all.map(a => a.stream?.last()))
    clock = T0 + 2 * 60 * MIN // ben's earlier gpt-4o asks are out of the hour window now
    await setLimits('ben', { modelAsks: { mini: -1 }, rateWindows: [{ model: 'gpt-4o', max: 3, windowSeconds: 3600 }] })
    all = await Promise.all(Array.from({ length: 20 }, (_, i) => chat(t.base, ben.s, { model: 'gpt-4o', content: `race w${i}` })))
    expect(all.filter(a => a.stream)).toHaveLength(3)
    expect(all.filter(a => a.json?.code === 'RATE_WINDOW_FULL')).toHaveLength(17)
    await Promise.all(all.map(a => a.stream?.last()))
    await setLimits('ben', { rateWindows: [], maxInFlight: 1 })
  })

  it('windows slide with the clock; refunded asks free their place; several windows per model', async () => {
    const dan = members.dan!
    clock = T0 + 24 * 60 * MIN // a fresh day for dan
    await setLimits('dan', { totalAsks: -1, rateWindows: [{ model: 'gpt-4o', max: 2, windowSeconds: 3600 }, { model: 'gpt-4o', max: 3, windowSeconds: 86_400 }] })
    const ask = async (content = 'q') => chat(t.base, dan.s, { model: 'gpt-4o', content })
    const finish = async (a: Awaited<ReturnType<typeof ask>>) => {
      expect(a.stream, JSON.stringify(a.json)).toBeTruthy()
      return a.stream!.last()
    }
    await finish(await ask())
    clock += 10 * MIN
    await finish(await ask('[[fake: status=500]] refunded'))
    await finish(await ask())
    clock += 10 * MIN // 20 min after the first
    let refused = await ask()
    expect(refused.status).toBe(429)
    expect(refused.json).toMatchObject({ code: 'RATE_WINDOW_FULL', retryAfterSeconds: 40 * 60, nextAllowedAt: new Date(clock + 40 * MIN).toISOString() })
    const models = await api(t.base, dan.s, 'GET', '/api/models')
    expect(models.json.models.find((m: any) => m.key === 'gpt-4o')).toMatchObject({ available: false, reason: 'RATE_WINDOW_FULL', windows: [{ used: 2, max: 2 }, { used: 2, max: 3 }] })

    clock += 40 * MIN - 1000 // one second early
    expect((await ask()).json?.code).toBe('RATE_WINDOW_FULL')
    clock += 1000 // the first ask leaves the hour window
    await finish(await ask())
    // Now the day window (3) is full: the next one fits 24 h after the first ask.
    clock += 60 * MIN
    refused = await ask()
    expect(refused.json).toMatchObject({ code: 'RATE_WINDOW_FULL', nextAllowedAt: new Date(T0 + 48 * 60 * MIN).toISOString() })
    clock = T0 + 48 * 60 * MIN
    await finish(await ask())
    await setLimits('dan', { rateWindows: [] })
  })

  it('an admin edit made during an ask is never overwritten by it (commit or refund)', async () => {
    const cat = members.cat!
    await setLimits('cat', { totalAsks: 5, modelAsks: { 'gpt-4o': 5 } })
    // Refund after the edit: the new counts stand, the unit does not come back on top of them.
    const a = await open(t.base, cat.s, { model: 'gpt-4o', content: '[[fake: firstTokenMs=60000]] a' })
    await a.waitFor('started')
    expect((await limitsOf('cat')).totalAsks).toBe(4)
    await setLimits('cat', { totalAsks: 10, modelAsks: { 'gpt-4o': 3 }, timeSlots: [{ start: '00:00', end: '23:59' }] })
    await stop('cat', a.accepted.requestId)
    await a.done
    await eventually(async () => (await askRow(a.accepted.requestId)).quota === 'refunded')
    expect(await limitsOf('cat')).toMatchObject({ totalAsks: 10, modelAsks: { 'gpt-4o': 3 }, timeSlots: [{ start: '00:00', end: '23:59' }] })

    // Commit after the edit: likewise.
    const b = await open(t.base, cat.s, { model: 'gpt-4o', content: '[[fake: firstTokenMs=300]] b' })
    await b.waitFor('started')
    await setLimits('cat', { totalAsks: 20, maxConversations: 50 })
    expect((await b.last()).event).toBe('done')
    expect((await askRow(b.accepted.requestId)).quota).toBe('committed')
    expect(await limitsOf('cat')).toMatchObject({ totalAsks: 20, modelAsks: { 'gpt-4o': 2 }, maxConversations: 50 })
    await setLimits('cat', { timeSlots: [] })
  })

  it('invariant after a mixed run: remaining = configured amount − asks committed under it', async () => {
    const cat = members.cat!
    const N = 30
    const M = 12
    await setLimits('cat', { totalAsks: N, modelAsks: { 'gpt-4o': M, 'mini': -1 }, maxInFlight: 10 })
    const committed = new Set<string>()
    const run = async (content: string, model = 'gpt-4o', stopWhen?: 'started' | 'delta') => {
      const s = await open(t.base, cat.s, { model, content })
      if (stopWhen) {
        await s.waitFor(stopWhen)
        await stop('cat', s.accepted.requestId)
      }
      await s.done
      await eventually(async () => ['committed', 'refunded'].includes((await askRow(s.accepted.requestId)).quota))
      if ((await askRow(s.accepted.requestId)).quota === 'committed')
        committed.add(s.accepted.requestId)
      return s
    }
    const mixed = async (tag: string) => Promise.all([
      run(`${tag} done 1`),
      run(`${tag} done mini`, 'mini'),
      run(`[[fake: firstTokenMs=60000]] ${tag} stopped before output`, 'gpt-4o', 'started'),
      run(`[[fake: chunks=200, gapMs=20]] ${tag} stopped after output`, 'gpt-4o', 'delta'),
      run(`[[fake: status=500]] ${tag} error before output`),
      run(`[[fake: errorAfter=2]] ${tag} error after output`),
      run(`[[fake: resetAfter=0]] ${tag} connection reset before output`, 'mini'),
    ])
    await mixed('one')
    // Refused asks take nothing either.
    await setLimits('cat', { allowedModels: ['mini'] })
    expect((await chat(t.base, cat.s, { model: 'gpt-4o', content: 'refused' })).json.code).toBe('MODEL_NOT_ALLOWED')
    await setLimits('cat', { allowedModels: null })
    await mixed('two')
    const count = async (model?: string) => t.app.db.ask.count({ where: { userId: cat.id, quota: 'committed', id: { in: [...committed] }, ...(model ? { model } : {}) } })
    let l = await limitsOf('cat')
    expect(l.totalAsks).toBe(N - await count())
    expect(l.modelAsks['gpt-4o']).toBe(M - await count('gpt-4o'))
    expect(l.modelAsks.mini).toBe(-1)
    expect(await count()).toBeGreaterThanOrEqual(8)

    // The admin sets new amounts while an ask is running; from then on only newer asks count.
    const running = await open(t.base, cat.s, { model: 'gpt-4o', content: '[[fake: firstTokenMs=400]] straddles the edit' })
    await running.waitFor('started')
    await setLimits('cat', { totalAsks: 7, modelAsks: { 'gpt-4o': 5 } })
    committed.clear()
    await running.done
    await mixed('three')
    l = await limitsOf('cat')
    expect(l.totalAsks).toBe(7 - await count())
    expect(l.modelAsks['gpt-4o']).toBe(5 - await count('gpt-4o'))
    expect(await t.app.db.quotaHold.count()).toBe(0)
  })
})

describe('quota reservations across a restart', () => {
  it('reservations left open by a crash are refunded at the next start', async () => {
    const fake = await startFakeUpstream()
    const dataDir = tempDataDir()
    const now = () => new Date(T0)
    let t = await start(fake, now, {}, dataDir)
    const { user } = await createUser(t.app, { username: 'eve' })
    await t.app.limits.patch(user.id, { totalAsks: 3, modelAsks: { mini: 2 } })
    // Admitted, then the process "dies" before any output (no commit, no refund).
    await sqlOf(t.app.db).write(tx => t.app.quotaGate.reserveIn(tx, { userId: user.id, model: 'mini', askId: 'crashed-ask', newConversation: true }))
    expect(await t.app.limits.get(user.id)).toMatchObject({ totalAsks: 2, modelAsks: { mini: 1 } })
    await t.close()

    t = await start(fake, now, {}, dataDir)
    expect(await t.app.limits.get(user.id)).toMatchObject({ totalAsks: 3, modelAsks: { mini: 2 } })
    expect(await t.app.db.quotaHold.count()).toBe(0)
    await t.close()
    await fake.close()
  })
})
