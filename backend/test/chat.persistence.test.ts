import type { IncomingMessage } from 'node:http'
import type { ListeningApp } from './chat.helpers.js'
import type { FakeUpstream } from './fake-upstream/server.js'
import type { TestSession } from './helper.js'
import { rmSync } from 'node:fs'
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, manyMembers, members, open, startApp } from './chat.helpers.js'
import { startFakeUpstream } from './fake-upstream/server.js'
import { buildTestApp, createUser, tempDataDir } from './helper.js'

describe('nothing lost', () => {
  let fake: FakeUpstream
  let t: ListeningApp
  let ms: TestSession[]

  beforeAll(async () => {
    fake = await startFakeUpstream()
    t = await startApp({
      chat: { ping_seconds: 1 },
      upstreams: [{ id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, concurrency: 4, models: [{ key: 'gpt', name: 'GPT', slug: 'x' }] }],
    })
    ms = await manyMembers(t.app, Array.from({ length: 10 }, (_, i) => `m${i}`))
  })
  afterAll(async () => {
    await t?.close()
    await fake?.close()
  })

  it('100 parallel asks from 10 members all complete, every message stored exactly once', async () => {
    const streams = await Promise.all(ms.flatMap(m => Array.from({ length: 10 }, (_, i) => open(t.base, m, { model: 'gpt', content: `[[fake: chunks=5, gapMs=5]] ${m.user.username} q${i}` }))))
    const lasts = await Promise.all(streams.map(s => s.last()))
    expect(lasts.every(e => e.event === 'done')).toBe(true)
    const convIds = streams.map(s => s.accepted.conversationId)
    expect(new Set(convIds).size).toBe(100)
    const messages = await t.app.db.message.findMany({ where: { conversationId: { in: convIds } } })
    expect(messages).toHaveLength(200)
    for (const s of streams) {
      const mine = messages.filter(m => m.conversationId === s.accepted.conversationId)
      expect(mine.filter(m => m.role === 'user')).toHaveLength(1)
      const answers = mine.filter(m => m.role === 'assistant')
      expect(answers).toHaveLength(1)
      expect(answers[0]).toMatchObject({ id: s.accepted.assistantMessageId, status: 'done', content: s.text })
    }
    const asks = await t.app.db.ask.findMany({ where: { id: { in: streams.map(s => s.accepted.requestId) } } })
    expect(asks).toHaveLength(100)
    expect(asks.every(a => a.outcome === 'done' && a.quota === 'committed')).toBe(true)
    expect(t.app.upstreams.pool('api')!.stats()).toMatchObject({ waiting: 0, running: 0 })
  })

  it('checkpoints the answer while it streams, and pings while silent', async () => {
    const s = await open(t.base, ms[0]!, { model: 'gpt', content: '[[fake: firstTokenMs=1500, chunks=60, gapMs=50]] slow one' })
    await s.waitFor('delta')
    expect(s.comments).toBeGreaterThan(0) // ": ping" while the upstream was silent
    const id = s.accepted.assistantMessageId
    await eventually(async () => {
      const m = await t.app.db.message.findUniqueOrThrow({ where: { id } })
      return m.status === 'streaming' && m.content.length > 0 && s.text.startsWith(m.content)
    })
    expect((await s.last()).event).toBe('done')
    expect((await t.app.db.message.findUniqueOrThrow({ where: { id } })).content).toBe(s.text)
  })

  it('a reader that stops reading does not hold the upstream, nor other streams; it gets everything later, coalesced', async () => {
    const body = JSON.stringify({ model: 'gpt', content: '[[fake: answerChars=16000000, chunks=2000]] big' })
    const received: Buffer[] = []
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${t.base}/api/chat`, { method: 'POST', headers: { 'authorization': `Bearer ${ms[1]!.token}`, 'content-type': 'application/json' } }, resolve)
      req.on('error', reject)
      req.end(body)
    })
    res.on('data', (c: Buffer) => received.push(c))
    await eventually(() => Buffer.concat(received).includes('event: started'))
    res.pause() // stop reading
    // the upstream answer still completes at full speed and is stored
    await eventually(async () => (await t.app.db.ask.count({ where: { userId: ms[1]!.user.id, outcome: 'done', charsOut: 16_000_000 } })) === 1, 30_000)
    // another member streams normally meanwhile
    const other = await open(t.base, ms[2]!, { model: 'gpt', content: 'meanwhile' })
    expect((await other.last()).event).toBe('done')
    // now read everything
    const ended = new Promise(r => res.on('end', r))
    res.resume()
    await ended
    const text = Buffer.concat(received).toString('utf8')
    const frames = text.split('\n\n').filter(f => f.includes('event: delta\n'))
    const streamed = frames.map(f => JSON.parse(f.slice(f.indexOf('data: ') + 6)).text as string).join('')
    expect(streamed.length).toBe(16_000_000)
    expect(frames.length).toBeLessThan(2000) // what the reader missed while it did not read came in one piece when it read again
  })
})

describe('crash recovery', () => {
  it('answers left streaming become interrupted (partial text kept) when the server starts again', async () => {
    const dataDir = tempDataDir()
    try {
      const first = await buildTestApp({}, { dataDir })
      const { user } = await createUser(first.app, { username: 'crashy' })
      const db = first.app.db
      await db.conversation.create({ data: { id: 'c1', userId: user.id, model: 'demo', upstreamId: 'demo', title: 't' } })
      await db.message.create({ data: { id: 'q1', conversationId: 'c1', role: 'user', content: 'question', status: 'done', model: 'demo' } })
      await db.message.create({ data: { id: 'a1', conversationId: 'c1', parentId: 'q1', role: 'assistant', content: 'half an ans', status: 'streaming', model: 'demo' } })
      await db.ask.create({ data: { id: 'r1', userId: user.id, conversationId: 'c1', model: 'demo', upstreamId: 'demo', outcome: 'running', quota: 'reserved' } })
      await db.ask.create({ data: { id: 'r2', userId: user.id, conversationId: 'c1', model: 'demo', upstreamId: 'demo', outcome: 'queued', quota: 'reserved' } })
      await db.ask.create({ data: { id: 'r3', userId: user.id, conversationId: 'c1', model: 'demo', upstreamId: 'demo', outcome: 'done', quota: 'committed' } })
      // "crash": the rows stay as they were; the app is rebuilt on the same data dir
      await first.app.close()
      const second = await buildTestApp({}, { dataDir })
      try {
        const a1 = await second.app.db.message.findUniqueOrThrow({ where: { id: 'a1' } })
        expect(a1).toMatchObject({ status: 'interrupted', content: 'half an ans' })
        expect(await second.app.db.message.findUniqueOrThrow({ where: { id: 'q1' } })).toMatchObject({ status: 'done' })
        const asks = await second.app.db.ask.findMany({ orderBy: { id: 'asc' } })
        expect(asks.map(a => [a.id, a.outcome])).toEqual([['r1', 'interrupted'], ['r2', 'interrupted'], ['r3', 'done']])
        expect(asks[0]!.endedAt).not.toBeNull()
      }
      finally {
        await second.app.close()
      }
    }
    finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('a graceful shutdown mid-answer stores it as interrupted and tells the reader', async () => {
    const fake = await startFakeUpstream()
    const dataDir = tempDataDir()
    const t = await startApp({
      upstreams: [{ id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, models: [{ key: 'gpt', name: 'GPT', slug: 'x' }] }],
    }, { dataDir })
    try {
      const [m] = await members(t.app, ['leaver'])
      const s = await open(t.base, m!, { model: 'gpt', content: '[[fake: chunks=200, gapMs=50]] long' })
      await s.waitFor('delta')
      const closing = t.app.close()
      expect(await s.last()).toMatchObject({ event: 'error', data: { code: 'SERVICE_UNAVAILABLE' } })
      await closing
      await fake.waitFor(() => fake.aborts === 1, 3000)
    }
    finally {
      await t.close().catch(() => {})
      await fake.close()
    }
    // reopen the same data dir to read what was stored
    const again = await buildTestApp({}, { dataDir })
    try {
      const msgs = await again.app.db.message.findMany({ where: { role: 'assistant' } })
      expect(msgs).toHaveLength(1)
      expect(msgs[0]!.status).toBe('interrupted')
      expect(msgs[0]!.content.length).toBeGreaterThan(0)
    }
    finally {
      await again.app.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
