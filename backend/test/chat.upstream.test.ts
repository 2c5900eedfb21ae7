import type { ListeningApp } from './chat.helpers.js'
import type { FakeUpstream } from './fake-upstream/server.js'
import type { TestSession } from './helper.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { api, chat, eventually, members, open, startApp } from './chat.helpers.js'
import { startFakeUpstream } from './fake-upstream/server.js'

/** End to end through our server to the fake upstream over loopback. */
describe('chat against the fake upstream', () => {
  let fake: FakeUpstream
  let t: ListeningApp
  let alice: TestSession
  let bob: TestSession
  let carol: TestSession

  beforeAll(async () => {
    fake = await startFakeUpstream()
    t = await startApp({
      // No detach grace here: a client that goes away stops its ask at once (the grace is tested in chat.detach.test.ts).
      chat: { ping_seconds: 600, queue_max_depth: 50, queue_max_wait_seconds: 60, detached_grace_seconds: 0 },
      upstreams: [
        { id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, concurrency: 1, idle_timeout_seconds: 1, models: [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }] },
        { id: 'web', type: 'chatgpt-web', base_url: fake.chatgptBaseUrl, access_token: fake.accessToken, concurrency: 1, models: [{ key: 'web', name: 'Web', slug: 'gpt-4o' }] },
        { id: 'slow', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, concurrency: 1, models: [{ key: 'slow', name: 'Slow', slug: 'gpt-4o-mini' }] },
      ],
    })
    ;[alice, bob, carol] = await members(t.app, ['alice', 'bob', 'carol']) as [TestSession, TestSession, TestSession]
  })
  beforeEach(() => {
    fake.reset()
  })
  afterAll(async () => {
    await t?.close()
    await fake?.close()
  })

  const message = (id: string) => t.app.db.message.findUniqueOrThrow({ where: { id } })
  const askRow = (id: string) => t.app.db.ask.findUniqueOrThrow({ where: { id } })
  const stats = (upstreamId: string) => t.app.upstreams.pool(upstreamId)?.stats() ?? { waiting: 0, running: 0 }
  /** The questions the fake upstream received, in arrival order. */
  const upstreamPrompts = () => fake.requests.filter(r => r.path.endsWith('/chat/completions')).map(r => String(r.body.messages.at(-1).content))

  describe('upstream failures end in a typed error event, the right message status and a freed slot', () => {
    const cases = [
      { name: '401', prompt: '[[fake: status=401]] hi', code: 'UPSTREAM_UNAUTHORIZED', partial: false },
      { name: '500', prompt: '[[fake: status=500]] hi', code: 'UPSTREAM_ERROR', partial: false },
      { name: 'reset mid-stream', prompt: '[[fake: resetAfter=2, chunks=6]] hi', code: undefined, partial: true },
      { name: 'stall mid-stream', prompt: '[[fake: stallAfter=2, chunks=6]] hi', code: 'UPSTREAM_TIMEOUT', partial: true },
    ]
    for (const c of cases) {
      it(c.name, async () => {
        const s = await open(t.base, alice, { model: 'gpt', content: c.prompt })
        const last = await s.last()
        expect(last.event).toBe('error')
        if (last.event !== 'error')
          return
        if (c.code)
          expect(last.data.code).toBe(c.code)
        else
          expect(last.data.code).toMatch(/^UPSTREAM_/)
        expect(last.data.message).not.toContain(fake.apiKey)
        expect(s.names.filter(n => n === 'done' || n === 'error')).toEqual(['error'])
        const m = await message(s.accepted.assistantMessageId)
        expect(m.status).toBe('error')
        expect(m.errorCode).toBe(last.data.code)
        const a = await askRow(s.accepted.requestId)
        expect(a).toMatchObject({ outcome: 'error', errorCode: last.data.code })
        if (c.partial) {
          expect(s.text.length).toBeGreaterThan(0)
          expect(m.content).toBe(s.text) // partial answer kept
          expect(a.quota).toBe('committed')
        }
        else {
          expect(m.content).toBe('')
          expect(a.quota).toBe('refunded')
        }
        expect(stats('api')).toMatchObject({ running: 0, waiting: 0 })
        // the slot is really free: the next ask goes through
        const next = await open(t.base, alice, { model: 'gpt', content: 'after the failure' })
        expect((await next.last()).event).toBe('done')
      })
    }

    it('401 marks the upstream unhealthy in /api/status, with a reason and no secret', async () => {
      const s = await open(t.base, bob, { model: 'slow', content: '[[fake: status=401]] hi' })
      await s.last()
      const st = await api(t.base, bob, 'GET', '/api/status')
      const slow = st.json.upstreams.find((u: any) => u.id === 'slow')
      expect(slow.healthy).toBe(false)
      expect(slow.reason).toBeTruthy()
      expect(JSON.stringify(st.json)).not.toContain(fake.apiKey)
      const ok = await open(t.base, bob, { model: 'slow', content: 'healthy again' })
      expect((await ok.last()).event).toBe('done')
    })

    it('429: the member never sees it — the ask waits in line through the cool-down (position and ETA shown), then goes through', async () => {
      const before = upstreamPrompts().length
      fake.set({ status: 429, retryAfter: 1 })
      const s = await open(t.base, alice, { model: 'slow', content: 'rate limited once' })
      await fake.waitFor(() => upstreamPrompts().length === before + 1, 3000)
      fake.set({ status: 0 })
      const queued = await s.waitFor(e => e.event === 'queued' && s.names.includes('started'))
      expect((queued.data as { etaSeconds: number }).etaSeconds).toBeGreaterThanOrEqual(1)
      const last = await s.last()
      expect(last).toMatchObject({ event: 'done', data: { finishReason: 'stop' } })
      expect(s.names).not.toContain('error')
      expect((await message(s.accepted.assistantMessageId)).status).toBe('done')
      // The second call came only after the cool-down: exactly 2 calls for this ask.
      expect(upstreamPrompts().slice(before)).toEqual(['rate limited once', 'rate limited once'])
      expect(stats('slow').running).toBe(0)
    })
  })

  describe('stop and disconnect', () => {
    const slow = '[[fake: chunks=200, gapMs=50]] long answer please'

    it('stop while streaming aborts the upstream, keeps the partial answer as stopped, ends with done aborted', async () => {
      const s = await open(t.base, alice, { model: 'gpt', content: slow })
      await s.waitFor('delta')
      const r = await api(t.base, alice, 'POST', `/api/chat/${s.accepted.requestId}/stop`)
      expect(r).toEqual({ status: 200, json: { stopped: true } })
      const last = await s.last()
      expect(last).toEqual({ event: 'done', data: { finishReason: 'aborted' } })
      await fake.waitFor(() => fake.aborts === 1, 3000)
      const m = await message(s.accepted.assistantMessageId)
      expect(m.status).toBe('stopped')
      expect(m.finishReason).toBe('aborted')
      expect(m.content).toBe(s.text)
      expect(m.content.length).toBeGreaterThan(0)
      expect(await askRow(s.accepted.requestId)).toMatchObject({ outcome: 'stopped', quota: 'committed' })
      expect(stats('api')).toMatchObject({ running: 0, waiting: 0 })
    })

    it('stop while queued leaves the queue without calling the upstream, refunds, and moves the others up', async () => {
      const first = await open(t.base, alice, { model: 'gpt', content: slow })
      await first.waitFor('started')
      const second = await open(t.base, bob, { model: 'gpt', content: 'bob waits' })
      const third = await open(t.base, carol, { model: 'gpt', content: 'carol waits' })
      await second.waitFor('queued')
      expect(await third.waitFor('queued')).toMatchObject({ data: { position: 2 } })
      expect((await api(t.base, bob, 'POST', `/api/chat/${second.accepted.requestId}/stop`)).json).toEqual({ stopped: true })
      expect(await second.last()).toEqual({ event: 'done', data: { finishReason: 'aborted' } })
      expect(second.names).not.toContain('started')
      await third.waitFor(e => e.event === 'queued' && e.data.position === 1)
      expect(await message(second.accepted.assistantMessageId)).toMatchObject({ status: 'stopped', content: '' })
      expect(await askRow(second.accepted.requestId)).toMatchObject({ outcome: 'stopped', quota: 'refunded', startedAt: null })
      // stopping the first lets the third start; bob's question never went upstream
      await api(t.base, alice, 'POST', `/api/chat/${first.accepted.requestId}/stop`)
      expect((await third.last()).event).toBe('done')
      expect(upstreamPrompts()).toEqual([slow, 'carol waits'])
    })

    it('with no detach grace, a client disconnect while streaming is a stop: upstream aborted, partial kept, slot freed', async () => {
      const s = await open(t.base, alice, { model: 'gpt', content: slow })
      await s.waitFor('delta')
      const { assistantMessageId, requestId } = s.accepted
      s.disconnect()
      await fake.waitFor(() => fake.aborts === 1, 3000)
      await eventually(async () => (await message(assistantMessageId)).status === 'stopped')
      expect((await message(assistantMessageId)).content.length).toBeGreaterThan(0)
      expect(await askRow(requestId)).toMatchObject({ outcome: 'stopped' })
      expect(stats('api')).toMatchObject({ running: 0, waiting: 0 })
      const next = await open(t.base, alice, { model: 'gpt', content: 'next one' })
      expect((await next.last()).event).toBe('done')
    })

    it('with no detach grace, a client disconnect while queued frees the place without an upstream call', async () => {
      const first = await open(t.base, alice, { model: 'gpt', content: slow })
      await first.waitFor('started')
      const waiting = await open(t.base, bob, { model: 'gpt', content: 'bob goes away' })
      await waiting.waitFor('queued')
      waiting.disconnect()
      await eventually(() => stats('api').waiting === 0)
      await eventually(async () => (await message(waiting.accepted.assistantMessageId)).status === 'stopped')
      await api(t.base, alice, 'POST', `/api/chat/${first.accepted.requestId}/stop`)
      await first.last()
      await eventually(() => stats('api').running === 0)
      expect(upstreamPrompts()).toEqual([slow])
    })
  })

  describe('queue', () => {
    it('fairness end to end: A enqueues 10, B and C one each → B and C start in the next two slots', async () => {
      const a = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(async (i) => {
        // A's first answer holds the slot until everyone is queued.
        const s = await open(t.base, alice, { model: 'gpt', content: i === 0 ? '[[fake: chunks=50, gapMs=40]] A0' : `A${i}` })
        return s
      }))
      await eventually(() => stats('api').waiting === 9)
      const b = await open(t.base, bob, { model: 'gpt', content: 'B0' })
      const c = await open(t.base, carol, { model: 'gpt', content: 'C0' })
      await Promise.all([...a, b, c].map(s => s.last()))
      const order = upstreamPrompts().map(p => p.replace(/^\[\[.*\]\] /, ''))
      expect(order[0]).toBe('A0')
      expect(order.slice(1, 3).sort()).toEqual(['B0', 'C0'])
      expect(order.slice(3)).toEqual(['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A7', 'A8', 'A9'].filter(x => order.includes(x)))
      expect(order).toHaveLength(12)
      // every waiter was told its position
      expect(b.names).toContain('queued')
      expect([...a, b, c].every(s => s.events.at(-1)!.event === 'done')).toBe(true)
    })

    it('a full queue answers QUEUE_FULL as JSON before any stream', async () => {
      const small = await startApp({
        chat: { ping_seconds: 600, queue_max_depth: 1 },
        upstreams: [{ id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, concurrency: 1, models: [{ key: 'gpt', name: 'GPT', slug: 'x' }] }],
      })
      try {
        const [x, y, z] = await members(small.app, ['x', 'y', 'z']) as [TestSession, TestSession, TestSession]
        const s1 = await open(small.base, x, { model: 'gpt', content: '[[fake: chunks=100, gapMs=30]] hold' })
        await s1.waitFor('started')
        const s2 = await open(small.base, y, { model: 'gpt', content: 'waits' })
        await s2.waitFor('queued')
        const full = await chat(small.base, z, { model: 'gpt', content: 'no room' })
        expect(full.status).toBe(503)
        expect(full.json).toMatchObject({ code: 'QUEUE_FULL' })
        expect(await small.app.db.message.count({ where: { content: 'no room' } })).toBe(0)
        s1.disconnect()
        expect((await s2.last()).event).toBe('done')
      }
      finally {
        await small.close()
      }
    })

    it('too long a wait ends a waiting ask with QUEUE_TIMEOUT, with a typed error', async () => {
      const small = await startApp({
        chat: { ping_seconds: 600, queue_max_wait_seconds: 1 },
        upstreams: [{ id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, concurrency: 1, models: [{ key: 'gpt', name: 'GPT', slug: 'x' }] }],
      })
      try {
        const [x, y] = await members(small.app, ['x', 'y']) as [TestSession, TestSession]
        const s1 = await open(small.base, x, { model: 'gpt', content: '[[fake: chunks=100, gapMs=40]] hold' })
        await s1.waitFor('started')
        const s2 = await open(small.base, y, { model: 'gpt', content: 'waits too long' })
        expect(await s2.last()).toMatchObject({ event: 'error', data: { code: 'QUEUE_TIMEOUT' } })
        expect(await small.app.db.message.findUniqueOrThrow({ where: { id: s2.accepted.assistantMessageId } })).toMatchObject({ status: 'error', errorCode: 'QUEUE_TIMEOUT' })
        expect(await small.app.db.ask.findUniqueOrThrow({ where: { id: s2.accepted.requestId } })).toMatchObject({ outcome: 'error', quota: 'refunded' })
        s1.disconnect()
      }
      finally {
        await small.close()
      }
    })
  })

  describe('follow-ups', () => {
    it('with ChatGPT web, the second ask sends the stored conversation_id and the last answer as parent; title from title_generation', async () => {
      const s1 = await open(t.base, alice, { model: 'web', content: 'first on the web' })
      expect((await s1.last()).event).toBe('done')
      expect(s1.events.find(e => e.event === 'title')?.data).toEqual({ title: 'Fake title' })
      const { conversationId } = s1.accepted
      const conv = await t.app.db.conversation.findUniqueOrThrow({ where: { id: conversationId } })
      expect(conv.title).toBe('Fake title')
      expect(conv.upstreamConversationId).toBeTruthy()
      const answer1 = await message(s1.accepted.assistantMessageId)
      expect(answer1.upstreamMessageId).toBeTruthy()

      const s2 = await open(t.base, alice, { model: 'web', content: 'second on the web', conversationId })
      expect((await s2.last()).event).toBe('done')
      const posts = fake.requests.filter(r => r.method === 'POST' && r.path.endsWith('/backend-api/conversation'))
      expect(posts).toHaveLength(2)
      expect(posts[0]!.body.conversation_id ?? null).toBeNull()
      expect(posts[1]!.body).toMatchObject({ action: 'next', conversation_id: conv.upstreamConversationId, parent_message_id: answer1.upstreamMessageId })
      expect(s2.names).not.toContain('title')
    })

    it('with ChatGPT web, deleting a conversation deletes it here and hides it upstream', async () => {
      const s = await open(t.base, carol, { model: 'web', content: 'to be deleted' })
      await s.last()
      const conv = await t.app.db.conversation.findUniqueOrThrow({ where: { id: s.accepted.conversationId } })
      expect(fake.conversations.get(conv.upstreamConversationId!)?.is_visible).toBe(true)
      expect((await api(t.base, carol, 'DELETE', `/api/conversations/${conv.id}`)).status).toBe(204)
      expect(await t.app.db.conversation.count({ where: { id: conv.id } })).toBe(0)
      await eventually(() => fake.conversations.get(conv.upstreamConversationId!)?.is_visible === false)
    })

    it('deleting a conversation while its answer streams stops the answer first', async () => {
      const s = await open(t.base, carol, { model: 'gpt', content: '[[fake: chunks=200, gapMs=50]] long' })
      await s.waitFor('delta')
      expect((await api(t.base, carol, 'DELETE', `/api/conversations/${s.accepted.conversationId}`)).status).toBe(204)
      expect(await s.last()).toEqual({ event: 'done', data: { finishReason: 'aborted' } })
      await fake.waitFor(() => fake.aborts === 1, 3000)
      expect(await t.app.db.message.count({ where: { conversationId: s.accepted.conversationId } })).toBe(0)
      expect(stats('api')).toMatchObject({ running: 0, waiting: 0 })
    })

    it('with OpenAI, the second ask sends the earlier turns from our own messages', async () => {
      const s1 = await open(t.base, alice, { model: 'gpt', content: 'what is 2+2?' })
      await s1.last()
      const s2 = await open(t.base, alice, { model: 'gpt', content: 'and 3+3?', conversationId: s1.accepted.conversationId })
      await s2.last()
      const calls = fake.requests.filter(r => r.path.endsWith('/chat/completions'))
      expect(calls[1]!.body.messages).toEqual([
        { role: 'user', content: 'what is 2+2?' },
        { role: 'assistant', content: s1.text },
        { role: 'user', content: 'and 3+3?' },
      ])
    })

    it('the OpenAI history is bounded by chat.history_max_chars, newest turns kept', async () => {
      const small = await startApp({
        chat: { ping_seconds: 600, history_max_chars: 60 },
        upstreams: [{ id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, models: [{ key: 'gpt', name: 'GPT', slug: 'x' }] }],
      })
      try {
        const [x] = await members(small.app, ['x']) as [TestSession]
        const a1 = '[[fake: answer=first answer]] q1'
        const s1 = await open(small.base, x, { model: 'gpt', content: a1 })
        await s1.last()
        const conversationId = s1.accepted.conversationId
        const s2 = await open(small.base, x, { model: 'gpt', content: '[[fake: answer=second answer]] q2', conversationId })
        await s2.last()
        fake.reset()
        const s3 = await open(small.base, x, { model: 'gpt', content: 'q3', conversationId })
        await s3.last()
        const sent = fake.requests[0]!.body.messages
        // 60 chars fit the second turn (34 + 13) but not the first as well
        expect(sent).toEqual([
          { role: 'user', content: '[[fake: answer=second answer]] q2' },
          { role: 'assistant', content: 'second answer' },
          { role: 'user', content: 'q3' },
        ])
      }
      finally {
        await small.close()
      }
    })

    it('sends answer text in fewer, merged deltas (chat.stream_coalesce_ms), the first piece at once; 0 sends every piece', async () => {
      // 30 pieces 5 ms apart: with the default 40 ms the member gets a handful of deltas, in order.
      const prompt = '[[fake: answerChars=300, chunks=30, gapMs=5]] coalesce'
      const s = await open(t.base, alice, { model: 'gpt', content: prompt })
      expect((await s.last()).event).toBe('done')
      const deltas = s.events.filter(e => e.event === 'delta').map(e => (e.event === 'delta' ? e.data.text : ''))
      expect(s.text).toHaveLength(300)
      expect(deltas[0]).toHaveLength(10) // the first piece, not held back
      expect(deltas.length).toBeGreaterThanOrEqual(2)
      expect(deltas.length).toBeLessThan(15)
      expect((await message(s.accepted.assistantMessageId)).content).toBe(s.text)

      const each = await startApp({ chat: { ping_seconds: 600, stream_coalesce_ms: 0 }, upstreams: [{ id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, models: [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }] }] })
      try {
        const [x] = await members(each.app, ['x']) as [TestSession]
        const s0 = await open(each.base, x, { model: 'gpt', content: prompt })
        expect((await s0.last()).event).toBe('done')
        expect(s0.events.filter(e => e.event === 'delta')).toHaveLength(30)
        expect(s0.text).toBe(s.text)
      }
      finally {
        await each.close()
      }
    })

    it('continue goes on with an answer cut by length, appending to the same message', async () => {
      const s1 = await open(t.base, bob, { model: 'gpt', content: '[[fake: finish=length, answer=The beginning]] tell me' })
      expect(await s1.last()).toMatchObject({ event: 'done', data: { finishReason: 'length' } })
      const s2 = await open(t.base, bob, { model: 'gpt', content: '', conversationId: s1.accepted.conversationId, action: 'continue' })
      expect((await s2.last()).event).toBe('done')
      expect(s2.accepted.assistantMessageId).toBe(s1.accepted.assistantMessageId)
      const m = await message(s1.accepted.assistantMessageId)
      expect(m.content).toBe(`The beginning${s2.text}`)
      expect(m.status).toBe('done')
      const calls = fake.requests.filter(r => r.path.endsWith('/chat/completions'))
      expect(calls[1]!.body.messages.slice(0, 2)).toEqual([
        { role: 'user', content: '[[fake: finish=length, answer=The beginning]] tell me' },
        { role: 'assistant', content: 'The beginning' },
      ])
    })
  })
})
