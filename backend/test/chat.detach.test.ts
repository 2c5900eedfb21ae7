/**
 * An ask is a job, not a request: a client that goes away detaches, the ask goes on, and any tab of
 * the member re-attaches (GET /api/chat/:requestId/events) with or without Last-Event-ID. Real
 * HTTP on a port, a real SQLite file, the fake OpenAI upstream on 127.0.0.1.
 */
import type { ListeningApp } from './chat.helpers.js'
import type { FakeUpstream } from './fake-upstream/server.js'
import type { TestSession } from './helper.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api, attach, eventually, members, open, startApp } from './chat.helpers.js'
import { startFakeUpstream } from './fake-upstream/server.js'
import { tempDataDir } from './helper.js'

const GRACE_SECONDS = 2

function upstreams(fake: FakeUpstream) {
  return [{ id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, concurrency: 1, models: [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }] }]
}

async function attached(base: string, s: TestSession, requestId: string, lastEventId?: string) {
  const a = await attach(base, s, requestId, lastEventId)
  if (!a.stream)
    throw new Error(`attach refused: ${a.status} ${JSON.stringify(a.json)}`)
  return a.stream
}

describe('detached asks', () => {
  let fake: FakeUpstream
  let t: ListeningApp
  let alice: TestSession
  let bob: TestSession

  beforeAll(async () => {
    fake = await startFakeUpstream()
    t = await startApp({ chat: { ping_seconds: 600, detached_grace_seconds: GRACE_SECONDS, stream_coalesce_ms: 0 }, upstreams: upstreams(fake) })
    ;[alice, bob] = await members(t.app, ['alice', 'bob']) as [TestSession, TestSession]
  })
  afterAll(async () => {
    await t?.close()
    await fake?.close()
  })

  const message = (id: string) => t.app.db.message.findUniqueOrThrow({ where: { id } })
  const askRow = (id: string) => t.app.db.ask.findUniqueOrThrow({ where: { id } })

  it('a disconnect mid-answer does not stop it; re-attaching with Last-Event-ID gives the exact rest, no duplicate, no gap', async () => {
    const s = await open(t.base, alice, { model: 'gpt', content: '[[fake: chunks=40, gapMs=25]] long one' })
    await eventually(() => s.events.filter(e => e.event === 'delta').length >= 5)
    s.disconnect()
    await s.done
    const before = s.text
    const lastId = s.lastId!
    expect(lastId).toMatch(/^\d+\.\d+$/)
    // Still running while nobody listens.
    await new Promise(r => setTimeout(r, 150))
    expect((await askRow(s.accepted.requestId)).outcome).toBe('running')
    const again = await attached(t.base, alice, s.accepted.requestId, lastId)
    const last = await again.last()
    expect(last).toMatchObject({ event: 'done', data: { finishReason: 'stop' } })
    expect(again.names[0]).not.toBe('accepted') // a resume, not a snapshot
    const stored = await message(s.accepted.assistantMessageId)
    expect(stored.status).toBe('done')
    expect(before + again.text).toBe(stored.content)
    expect(fake.aborts).toBe(0)
  })

  it('a second client attached while streaming gets every delta too; a snapshot carries the text so far', async () => {
    const s = await open(t.base, alice, { model: 'gpt', content: '[[fake: chunks=30, gapMs=20]] two tabs' })
    await eventually(() => s.events.filter(e => e.event === 'delta').length >= 3)
    const second = await attached(t.base, alice, s.accepted.requestId)
    await Promise.all([s.last(), second.last()])
    const stored = await message(s.accepted.assistantMessageId)
    expect(s.text).toBe(stored.content)
    // The snapshot: the events so far, then the text so far in one delta.
    expect(second.names.slice(0, 2)).toEqual(['accepted', 'started'])
    expect(second.names.slice(2, 4)).toContain('delta')
    expect(second.text).toBe(stored.content)
    expect(second.events.at(-1)).toEqual(s.events.at(-1))
    // Every frame has an id; ids never go backwards.
    expect(second.ids.every(Boolean)).toBe(true)
  })

  it('a finished ask can still be attached to: the stored answer, then its end', async () => {
    const s = await open(t.base, alice, { model: 'gpt', content: 'quick' })
    await s.last()
    const late = await attached(t.base, alice, s.accepted.requestId)
    await late.last()
    expect(late.names[0]).toBe('accepted')
    expect(late.text).toBe(s.text)
    expect(late.events.at(-1)).toMatchObject({ event: 'done', data: { finishReason: 'stop' } })
  })

  it('another member attaching, or an unknown id, answers 404', async () => {
    const s = await open(t.base, alice, { model: 'gpt', content: '[[fake: chunks=10, gapMs=20]] mine' })
    await s.waitFor('started')
    expect((await attach(t.base, bob, s.accepted.requestId)).status).toBe(404)
    expect((await attach(t.base, bob, 'no-such-ask')).status).toBe(404)
    await s.last()
    expect((await attach(t.base, bob, s.accepted.requestId)).status).toBe(404)
  })

  it('a queued ask survives a detach and keeps its position; the conversation list shows it in progress', async () => {
    const first = await open(t.base, alice, { model: 'gpt', content: '[[fake: chunks=40, gapMs=25]] holds the slot' })
    await first.waitFor('started')
    const waiting = await open(t.base, bob, { model: 'gpt', content: 'bob waits' })
    await waiting.waitFor('queued')
    waiting.disconnect()
    await waiting.done
    const list = await api(t.base, bob, 'GET', '/api/conversations')
    expect(list.json.items[0]).toMatchObject({ id: waiting.accepted.conversationId, activeRequestId: waiting.accepted.requestId })
    const back = await attached(t.base, bob, waiting.accepted.requestId)
    const queued = await back.waitFor('queued')
    expect(queued.data).toMatchObject({ position: 1 })
    expect(back.names).not.toContain('started')
    await back.last()
    expect(back.events.at(-1)).toMatchObject({ event: 'done' })
    expect(back.text).toBe((await message(waiting.accepted.assistantMessageId)).content)
    await first.last()
    const after = await api(t.base, bob, 'GET', `/api/conversations/${waiting.accepted.conversationId}`)
    expect(after.json.activeRequestId).toBeNull()
  })

  it('past the grace period with nobody listening, the ask is stopped as interrupted: upstream aborted within 1 s, partial answer kept, quota committed', async () => {
    const abortsBefore = fake.aborts
    const s = await open(t.base, alice, { model: 'gpt', content: '[[fake: chunks=400, gapMs=50]] nobody will watch' })
    await s.waitFor('delta')
    s.disconnect()
    const leftAt = Date.now()
    await fake.waitFor(() => fake.aborts === abortsBefore + 1, (GRACE_SECONDS + 3) * 1000)
    const lateBy = Date.now() - leftAt - GRACE_SECONDS * 1000
    expect(lateBy).toBeGreaterThanOrEqual(-50)
    expect(lateBy).toBeLessThan(1000)
    await eventually(async () => (await message(s.accepted.assistantMessageId)).status === 'interrupted')
    const m = await message(s.accepted.assistantMessageId)
    expect(m.content.length).toBeGreaterThan(0)
    expect(await askRow(s.accepted.requestId)).toMatchObject({ outcome: 'interrupted', quota: 'committed', errorCode: 'INTERRUPTED' })
    const late = await attached(t.base, alice, s.accepted.requestId)
    await late.last()
    expect(late.events.at(-1)).toMatchObject({ event: 'error', data: { code: 'INTERRUPTED' } })
    expect(late.text).toBe(m.content)
  })

  it('stop works from another tab that only attached', async () => {
    const s = await open(t.base, alice, { model: 'gpt', content: '[[fake: chunks=200, gapMs=30]] stop me elsewhere' })
    await s.waitFor('delta')
    s.disconnect()
    const other = await attached(t.base, alice, s.accepted.requestId)
    await other.waitFor('delta')
    expect((await api(t.base, alice, 'POST', `/api/chat/${s.accepted.requestId}/stop`)).json).toEqual({ stopped: true })
    expect(await other.last()).toEqual({ event: 'done', data: { finishReason: 'aborted' } })
    expect((await message(s.accepted.assistantMessageId)).status).toBe('stopped')
  })
})

describe('detached asks across a restart', () => {
  it('a restart while detached keeps the answer as interrupted; re-attaching afterwards gets the stored state', async () => {
    const fake = await startFakeUpstream()
    const dataDir = tempDataDir()
    let t = await startApp({ chat: { ping_seconds: 600, detached_grace_seconds: 300 }, upstreams: upstreams(fake) }, { dataDir })
    try {
      const [carol] = await members(t.app, ['carol']) as [TestSession]
      const s = await open(t.base, carol, { model: 'gpt', content: '[[fake: chunks=400, gapMs=30]] restart me' })
      await eventually(() => s.events.filter(e => e.event === 'delta').length >= 3)
      s.disconnect()
      await s.done
      await t.close()
      t = await startApp({ chat: { ping_seconds: 600 }, upstreams: upstreams(fake) }, { dataDir })
      const m = await t.app.db.message.findUniqueOrThrow({ where: { id: s.accepted.assistantMessageId } })
      expect(m.status).toBe('interrupted')
      expect(m.content.length).toBeGreaterThanOrEqual(s.text.length)
      const again = await attach(t.base, { ...carol, token: carol.token }, s.accepted.requestId)
      // Sessions survive the restart (same data dir, same secret): the stored state comes back.
      expect(again.status).toBe(200)
      await again.stream!.last()
      expect(again.stream!.text).toBe(m.content)
      expect(again.stream!.events.at(-1)).toMatchObject({ event: 'error' })
    }
    finally {
      await t.close()
      await fake.close()
    }
  })
})
