/**
 * Shared accounts that stay up: pools of accounts behind one upstream, cool-downs instead of raw
 * 429s, pinned ChatGPT web conversations, token refresh with a session token (single-flight, kept
 * across restarts), caps and pacing. Real HTTP on a port, a real SQLite file, the fake upstream on
 * 127.0.0.1 telling accounts apart by their token.
 */
import type { ListeningApp } from './chat.helpers.js'
import type { FakeUpstream } from './fake-upstream/server.js'
import type { TestSession } from './helper.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api, eventually, members, open, startApp } from './chat.helpers.js'
import { fakeJwt, startFakeUpstream } from './fake-upstream/server.js'
import { tempDataDir } from './helper.js'

const KEY_A = 'sk-pool-account-a-0001'
const KEY_B = 'sk-pool-account-b-0002'

function byToken(fake: FakeUpstream, from: number) {
  return fake.requests.slice(from)
    .filter(r => r.path.endsWith('/chat/completions') || r.path.endsWith('/conversation'))
    .map(r => String(r.headers.authorization).slice(7))
}

describe('a pool of two API keys', () => {
  let fake: FakeUpstream
  let t: ListeningApp
  let alice: TestSession
  let bob: TestSession

  beforeAll(async () => {
    fake = await startFakeUpstream()
    fake.accepted.add(KEY_A)
    fake.accepted.add(KEY_B)
    t = await startApp({
      chat: { ping_seconds: 600, detached_grace_seconds: 0 },
      upstreams: [{
        id: 'api',
        type: 'openai',
        base_url: fake.openaiBaseUrl,
        models: [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }],
        accounts: [{ id: 'a', api_key: KEY_A, concurrency: 1 }, { id: 'b', api_key: KEY_B, concurrency: 1 }],
      }],
    })
    ;[alice, bob] = await members(t.app, ['alice', 'bob']) as [TestSession, TestSession]
    await t.app.limits.patch(alice.user.id, { maxInFlight: 4 })
  })
  afterAll(async () => {
    await t?.close()
    await fake?.close()
  })

  it('spreads asks over both accounts (least busy first); the ask log names the account', async () => {
    const from = fake.requests.length
    const [s1, s2] = await Promise.all([
      open(t.base, alice, { model: 'gpt', content: '[[fake: chunks=10, gapMs=20]] one' }),
      open(t.base, bob, { model: 'gpt', content: '[[fake: chunks=10, gapMs=20]] two' }),
    ])
    await Promise.all([s1.last(), s2.last()])
    expect(byToken(fake, from).sort()).toEqual([KEY_A, KEY_B].sort())
    const rows = await t.app.db.ask.findMany({ where: { id: { in: [s1.accepted.requestId, s2.accepted.requestId] } } })
    expect(rows.map(r => r.accountId).sort()).toEqual(['a', 'b'])
  })

  it('an account answering 429 with clears_in rests; asks go on on the other, and the rested one is used again after its time', async () => {
    fake.knobsFor.set(KEY_A, { status: 429, clearsIn: 2 })
    const from = fake.requests.length
    // Both asks at once: one lands on A, gets 429, and goes to B after the other one finished there.
    const asks = await Promise.all([0, 1, 2].map(i => open(t.base, alice, { model: 'gpt', content: `[[fake: chunks=4, gapMs=20]] q${i}` })))
    const ends = await Promise.all(asks.map(s => s.last()))
    expect(ends.map(e => e.event)).toEqual(['done', 'done', 'done'])
    expect(asks.every(s => !s.names.includes('error'))).toBe(true)
    const used = byToken(fake, from)
    expect(used.filter(k => k === KEY_A)).toHaveLength(1) // tried once, then rested
    expect(used.filter(k => k === KEY_B)).toHaveLength(3)
    const status = await api(t.base, alice, 'GET', '/api/status')
    expect(status.json.upstreams[0]).toMatchObject({ id: 'api', healthy: true })
    // After the cool-down, A takes asks again.
    fake.knobsFor.delete(KEY_A)
    await new Promise(r => setTimeout(r, 2100))
    const later = fake.requests.length
    const again = await Promise.all([0, 1].map(i => open(t.base, alice, { model: 'gpt', content: `[[fake: chunks=6, gapMs=20]] later ${i}` })))
    await Promise.all(again.map(s => s.last()))
    expect(byToken(fake, later).sort()).toEqual([KEY_A, KEY_B].sort())
  })

  it('when every key is cooling down, the waiting ask is told why and its ETA includes the cool-down; it is answered after', async () => {
    fake.knobsFor.set(KEY_A, { status: 429, clearsIn: 3 })
    fake.knobsFor.set(KEY_B, { status: 429, clearsIn: 3 })
    const first = await open(t.base, alice, { model: 'gpt', content: '[[fake: chunks=2]] meets both limits' })
    await eventually(() => first.events.some(e => e.event === 'queued' && (e.data as { waitingFor?: string }).waitingFor === 'cooling'))
    fake.knobsFor.delete(KEY_A)
    fake.knobsFor.delete(KEY_B)
    // A second member's ask behind it waits for the same reason, its ETA at least the rest of the cool-down.
    const second = await open(t.base, bob, { model: 'gpt', content: '[[fake: chunks=2]] behind' })
    await eventually(() => second.events.some(e => e.event === 'queued'))
    const queued = second.events.find(e => e.event === 'queued')!.data as { position: number, etaSeconds: number, waitingFor?: string }
    expect(queued.waitingFor).toBe('cooling')
    expect(queued.etaSeconds).toBeGreaterThanOrEqual(2)
    const ends = await Promise.all([first.last(), second.last()])
    expect(ends.map(e => e.event)).toEqual(['done', 'done'])
    expect([...first.names, ...second.names]).not.toContain('error')
  })

  it('a refused key is left aside while the other works; the ask that met it is answered by the other', async () => {
    fake.accepted.delete(KEY_A)
    try {
      const from = fake.requests.length
      const asks = await Promise.all([0, 1].map(i => open(t.base, alice, { model: 'gpt', content: `[[fake: chunks=4, gapMs=10]] refused ${i}` })))
      const ends = await Promise.all(asks.map(s => s.last()))
      expect(ends.map(e => e.event)).toEqual(['done', 'done'])
      const used = byToken(fake, from)
      expect(used.filter(k => k === KEY_A).length).toBeLessThanOrEqual(1)
      expect(t.app.upstreams.pool('api')!.account('a')!.refused).toBe(true)
    }
    finally {
      fake.accepted.add(KEY_A)
    }
  })

  it('an ask back in line after every key answered 429 stops at once, and the conversation takes the next ask', async () => {
    // Last of this suite: both keys stay cooling down afterwards.
    fake.knobsFor.set(KEY_A, { status: 429, clearsIn: 600 })
    fake.knobsFor.set(KEY_B, { status: 429, clearsIn: 600 })
    try {
      const waiting = await open(t.base, alice, { model: 'gpt', content: '[[fake: chunks=2]] meets both limits, then is stopped' })
      await eventually(() => waiting.events.some(e => e.event === 'queued' && (e.data as { waitingFor?: string }).waitingFor === 'cooling'))
      const stopped = Date.now()
      expect((await api(t.base, alice, 'POST', `/api/chat/${waiting.accepted.requestId}/stop`)).status).toBeLessThan(300)
      const end = await waiting.last()
      expect(end).toMatchObject({ event: 'done', data: { finishReason: 'aborted' } })
      expect(Date.now() - stopped).toBeLessThan(2000)
      // The conversation is free again: the question asked again there is admitted (it waits for the keys, and is stopped too).
      const next = await open(t.base, alice, { model: 'gpt', action: 'regenerate', content: '', conversationId: waiting.accepted.conversationId, parentMessageId: waiting.accepted.userMessageId })
      await next.waitFor('accepted')
      expect(next.accepted.conversationId).toBe(waiting.accepted.conversationId)
      await api(t.base, alice, 'POST', `/api/chat/${next.accepted.requestId}/stop`)
      expect((await next.last()).event).toBe('done')
    }
    finally {
      fake.knobsFor.delete(KEY_A)
      fake.knobsFor.delete(KEY_B)
    }
  })
})

describe('chatGPT web accounts', () => {
  let fake: FakeUpstream
  let t: ListeningApp
  let carol: TestSession
  const tokenB = 'web-account-b-token-4567'

  beforeAll(async () => {
    fake = await startFakeUpstream()
    fake.accepted.add(tokenB)
    t = await startApp({
      chat: { ping_seconds: 600 },
      upstreams: [{
        id: 'web',
        type: 'chatgpt-web',
        base_url: fake.chatgptBaseUrl,
        models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o' }],
        accounts: [{ id: 'a', access_token: fake.accessToken }, { id: 'b', access_token: tokenB }],
      }],
    })
    ;[carol] = await members(t.app, ['carol']) as [TestSession]
  })
  afterAll(async () => {
    await t?.close()
    await fake?.close()
  })

  it('a conversation stays on the account that holds it upstream, even when the other is free', async () => {
    const first = await open(t.base, carol, { model: 'gpt-4o', content: 'start here' })
    await first.last()
    const conv = await t.app.db.conversation.findUniqueOrThrow({ where: { id: first.accepted.conversationId } })
    expect(conv.accountId).toMatch(/^[ab]$/)
    const token = conv.accountId === 'a' ? fake.accessToken : tokenB
    for (let i = 0; i < 3; i++) {
      const from = fake.requests.length
      const s = await open(t.base, carol, { model: 'gpt-4o', conversationId: conv.id, content: `follow-up ${i}` })
      expect((await s.last()).event).toBe('done')
      expect(byToken(fake, from)).toEqual([token])
    }
  })

  it('when the account holding a conversation is refused, the member is told and asked to start a new one', async () => {
    const first = await open(t.base, carol, { model: 'gpt-4o', content: 'will lose its account' })
    await first.last()
    const conv = await t.app.db.conversation.findUniqueOrThrow({ where: { id: first.accepted.conversationId } })
    const token = conv.accountId === 'a' ? fake.accessToken : tokenB
    fake.accepted.delete(token)
    try {
      // The first follow-up meets the 401; after that the account is known to be refused.
      const s = await open(t.base, carol, { model: 'gpt-4o', conversationId: conv.id, content: 'still there?' })
      expect(await s.last()).toMatchObject({ event: 'error', data: { code: 'UPSTREAM_UNAUTHORIZED' } })
      const refused = await api(t.base, carol, 'POST', '/api/chat', { model: 'gpt-4o', conversationId: conv.id, content: 'and now?' })
      expect(refused.status).toBe(503)
      expect(refused.json).toMatchObject({ code: 'ACCOUNT_UNAVAILABLE', reason: 'unauthorized' })
      // A new conversation goes to the account that still works.
      const fresh = await open(t.base, carol, { model: 'gpt-4o', content: 'new conversation' })
      expect((await fresh.last()).event).toBe('done')
    }
    finally {
      fake.accepted.add(token)
    }
  })

  it('"continue in a new conversation": the earlier turns are copied into it and go to the other account as a marked preface', async () => {
    const first = await open(t.base, carol, { model: 'gpt-4o', content: 'my cat is called Miso' })
    await first.last()
    const old = await t.app.db.conversation.findUniqueOrThrow({ where: { id: first.accepted.conversationId }, include: { messages: true } })
    const token = old.accountId === 'a' ? fake.accessToken : tokenB
    fake.accepted.delete(token)
    try {
      const s = await open(t.base, carol, { model: 'gpt-4o', conversationId: old.id, content: 'meets the 401' })
      await s.last()
      const from = fake.requests.length
      const next = await open(t.base, carol, { model: 'gpt-4o', content: 'what is my cat called?', continueFrom: old.id })
      expect((await next.last()).event).toBe('done')
      expect(next.accepted.conversationId).not.toBe(old.id)
      const sent = fake.requests.slice(from).find(r => r.path.endsWith('/conversation'))!
      expect(String(sent.headers.authorization).slice(7)).not.toBe(token)
      const prompt = String(sent.body.messages[0].content.parts[0])
      expect(prompt).toContain('[Earlier turns of this conversation, for context]')
      expect(prompt).toContain('User: my cat is called Miso')
      expect(prompt.endsWith('what is my cat called?')).toBe(true)
      const fresh = await t.app.db.conversation.findUniqueOrThrow({ where: { id: next.accepted.conversationId }, include: { messages: { orderBy: { createdAt: 'asc' } } } })
      expect(fresh.title).toBe(old.title)
      // The whole earlier branch (the failed follow-up too: nothing the member wrote is lost), then the new
      // question (as the member typed it) and its answer.
      const before = await api(t.base, carol, 'GET', `/api/conversations/${old.id}`)
      const earlier = (before.json.messages as { content: string, status: string }[]).map(m => [m.content, m.status])
      expect(earlier.map(([c]) => c)).toContain('meets the 401')
      const n = earlier.length
      expect(fresh.messages.slice(0, n).map(m => [m.content, m.status])).toEqual(earlier)
      expect(fresh.messages[n]).toMatchObject({ role: 'user', content: 'what is my cat called?', parentId: fresh.messages[n - 1]!.id })
      expect(fresh.messages.slice(0, n).every(m => m.upstreamMessageId === null)).toBe(true)
      // The old conversation is untouched and still readable.
      const after = await api(t.base, carol, 'GET', `/api/conversations/${old.id}`)
      expect(after.status).toBe(200)
      expect(await t.app.db.message.count({ where: { conversationId: old.id } })).toBe(old.messages.length + 2)
      // Somebody else's conversation cannot be continued.
      const [dave] = await members(t.app, ['dave']) as [TestSession]
      const foreign = await api(t.base, dave, 'POST', '/api/chat', { model: 'gpt-4o', content: 'x', continueFrom: old.id })
      expect(foreign.status).toBe(404)
      const both = await api(t.base, carol, 'POST', '/api/chat', { model: 'gpt-4o', content: 'x', continueFrom: old.id, conversationId: old.id })
      expect(both.status).toBe(400)
    }
    finally {
      fake.accepted.add(token)
    }
  })
})

describe('token refresh with a session token', () => {
  it('an expired access token: exactly one exchange for 20 asks at once, all answered; the new token (and a rotated session token) kept across a restart', async () => {
    const fake = await startFakeUpstream()
    fake.sessions.set('session-token-xyz', { ttlSeconds: 10 * 86_400, rotate: true })
    const expired = fakeJwt({ exp: Math.floor(Date.now() / 1000) - 60 })
    const dataDir = tempDataDir()
    const config = {
      chat: { ping_seconds: 600 },
      upstreams: [{ id: 'web', type: 'chatgpt-web', base_url: fake.chatgptBaseUrl, access_token: expired, session_token: 'session-token-xyz', concurrency: 20, models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o' }] }],
    }
    let t = await startApp(config, { dataDir })
    try {
      const ms = await members(t.app, ['m1', 'm2', 'm3', 'm4'])
      for (const m of ms) await t.app.limits.patch(m.user.id, { maxInFlight: 5 })
      const asks = await Promise.all(Array.from({ length: 20 }, (_, i) => open(t.base, ms[i % 4]!, { model: 'gpt-4o', content: `ask ${i}` })))
      const ends = await Promise.all(asks.map(s => s.last()))
      expect(ends.every(e => e.event === 'done')).toBe(true)
      expect(fake.refreshes).toBe(1)
      const used = new Set(byToken(fake, 0))
      expect(used.has(expired)).toBe(false)
      expect(used.size).toBe(1)
      const stored = await t.app.db.setting.findUniqueOrThrow({ where: { key: 'account-tokens' } })
      expect(JSON.parse(stored.value)['web/default']).toMatchObject({ sessionToken: 'session-token-xyz-r1' })

      await t.close()
      t = await startApp(config, { dataDir })
      const [again] = await members(t.app, ['m5'])
      const s = await open(t.base, again!, { model: 'gpt-4o', content: 'after the restart' })
      expect((await s.last()).event).toBe('done')
      expect(fake.refreshes).toBe(1) // the kept token is still good: no new exchange
    }
    finally {
      await t.close()
      await fake.close()
    }
  })

  it('the token is refreshed in the background before it expires, with nobody asking', async () => {
    const fake = await startFakeUpstream()
    fake.sessions.set('st-bg', { ttlSeconds: 10 * 86_400 })
    // Due for refresh (an hour ahead of exp) in about three seconds.
    const soon = fakeJwt({ exp: Math.floor(Date.now() / 1000) + 3600 + 3 })
    const t = await startApp({ chat: { ping_seconds: 600 }, upstreams: [{ id: 'web', type: 'chatgpt-web', base_url: fake.chatgptBaseUrl, access_token: soon, session_token: 'st-bg', models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o' }] }] })
    try {
      const keeper = t.app.upstreams.pool('web')!.account('default')!.keeper!
      expect(fake.refreshes).toBe(0)
      await eventually(() => fake.refreshes === 1, 8000)
      expect(keeper.current()).not.toBe(soon)
      expect(keeper.expiresAt()!.getTime()).toBeGreaterThan(Date.now() + 9 * 86_400_000)
      // The next one is scheduled days ahead, not now.
      await new Promise(r => setTimeout(r, 300))
      expect(fake.refreshes).toBe(1)
    }
    finally {
      await t.close()
      await fake.close()
    }
  })

  it('a 401 triggers an exchange at once and the ask is answered', async () => {
    const fake = await startFakeUpstream()
    fake.sessions.set('st-401', { ttlSeconds: 86_400 })
    const revoked = fakeJwt({ exp: Math.floor(Date.now() / 1000) + 86_400 * 5, n: 'revoked' })
    const t = await startApp({ chat: { ping_seconds: 600 }, upstreams: [{ id: 'web', type: 'chatgpt-web', base_url: fake.chatgptBaseUrl, access_token: revoked, session_token: 'st-401', models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o' }] }] })
    try {
      const [m] = await members(t.app, ['n1'])
      const s = await open(t.base, m!, { model: 'gpt-4o', content: 'hello' })
      expect((await s.last()).event).toBe('done')
      expect(fake.refreshes).toBe(1)
      await eventually(() => t.app.upstreams.pool('web')!.account('default')!.state.health().healthy)
    }
    finally {
      await t.close()
      await fake.close()
    }
  })
})
