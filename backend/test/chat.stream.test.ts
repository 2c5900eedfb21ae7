import type { ListeningApp } from './chat.helpers.js'
import type { TestSession } from './helper.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api, chat, members, open, startApp } from './chat.helpers.js'

function demo(extra: Record<string, unknown> = {}) {
  return {
    id: 'demo',
    type: 'demo',
    concurrency: 2,
    speed: 1_000_000,
    first_token_ms: 0,
    models: [{ key: 'demo', name: 'Demo', slug: 'demo' }],
    ...extra,
  }
}

describe('chat stream (demo upstream)', () => {
  let t: ListeningApp
  let alice: TestSession
  let bob: TestSession

  beforeAll(async () => {
    t = await startApp({ upstreams: [demo()], chat: { max_content_chars: 100, ping_seconds: 600 } })
    ;[alice, bob] = await members(t.app, ['alice', 'bob']) as [TestSession, TestSession]
  })
  afterAll(async () => {
    await t?.close()
  })

  it('streams accepted → started → delta… → title → done, and stores both messages and the ask', async () => {
    const s = await open(t.base, alice!, { model: 'demo', content: 'How do I sort a list in Python?' })
    const last = await s.last()
    const names = s.names
    expect(names[0]).toBe('accepted')
    expect(names[1]).toBe('started')
    expect(names).not.toContain('queued')
    expect(names.filter(n => n === 'delta').length).toBeGreaterThan(0)
    expect(names.filter(n => n === 'title')).toHaveLength(1)
    expect(names.filter(n => n === 'done' || n === 'error')).toEqual(['done'])
    expect(last).toMatchObject({ event: 'done', data: { finishReason: 'stop' } })
    const firstDelta = names.indexOf('delta')
    expect(names.slice(firstDelta, -1).every(n => n === 'delta' || n === 'title')).toBe(true)

    const { conversationId, userMessageId, assistantMessageId, requestId } = s.accepted
    const conv = await api(t.base, alice!, 'GET', `/api/conversations/${conversationId}`)
    expect(conv.status).toBe(200)
    const title = s.events.find(e => e.event === 'title')
    expect(title?.data).toEqual({ title: 'How do I sort a list' })
    // A new conversation is named from the start (the question's first words), before any answer.
    expect(s.accepted.title).toBe('How do I sort a list')
    expect(conv.json.title).toBe('How do I sort a list')
    expect(conv.json.messages).toMatchObject([
      { id: userMessageId, role: 'user', content: 'How do I sort a list in Python?', status: 'done', parentId: null },
      { id: assistantMessageId, role: 'assistant', content: s.text, status: 'done', finishReason: 'stop', parentId: userMessageId },
    ])
    const ask = await t.app.db.ask.findUniqueOrThrow({ where: { id: requestId } })
    expect(ask).toMatchObject({ outcome: 'done', quota: 'committed', model: 'demo', upstreamId: 'demo', charsIn: 31, charsOut: [...s.text].length, finishReason: 'stop' })
    expect(ask.ttftMs).not.toBeNull()
    expect(ask.durationMs).not.toBeNull()
    expect(ask.queueWaitMs).not.toBeNull()
    expect(ask.tokensOut).toBeGreaterThan(0)
  })

  it('answers the SSE with no-buffering headers', async () => {
    const res = await fetch(`${t.base}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'authorization': `Bearer ${alice!.token}` },
      body: JSON.stringify({ model: 'demo', content: 'headers?' }),
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    expect(res.headers.get('cache-control')).toContain('no-cache')
    expect(res.headers.get('content-encoding')).toBeNull()
    expect(res.headers.get('content-security-policy')).toBeTruthy()
    await res.text()
  })

  it('refuses before streaming, as JSON: content too long, unknown model, empty question, no session', async () => {
    const long = await chat(t.base, alice!, { model: 'demo', content: 'x'.repeat(101) })
    expect(long.status).toBe(413)
    expect(long.json).toMatchObject({ code: 'CONTENT_TOO_LONG' })
    const unknown = await chat(t.base, alice!, { model: 'gpt-9', content: 'hi' })
    expect(unknown.status).toBe(400)
    expect(unknown.json).toMatchObject({ code: 'UNKNOWN_MODEL' })
    const empty = await chat(t.base, alice!, { model: 'demo', content: '   ' })
    expect(empty.status).toBe(400)
    const anon = await fetch(`${t.base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'demo', content: 'hi' }) })
    expect(anon.status).toBe(401)
  })

  it('keeps conversations private: another member gets 404 for read, rename, delete, follow-up and stop', async () => {
    const s = await open(t.base, alice!, { model: 'demo', content: 'private question' })
    await s.last()
    const { conversationId, requestId } = s.accepted
    for (const [method, body] of [['GET', undefined], ['PATCH', { title: 'mine now' }], ['DELETE', undefined]] as const)
      expect((await api(t.base, bob!, method, `/api/conversations/${conversationId}`, body)).status).toBe(404)
    const follow = await chat(t.base, bob!, { model: 'demo', content: 'hi', conversationId })
    expect(follow.status).toBe(404)
    expect((await api(t.base, bob!, 'POST', `/api/chat/${requestId}/stop`)).status).toBe(404)
    // the owner's stop of a finished ask is fine
    expect((await api(t.base, alice!, 'POST', `/api/chat/${requestId}/stop`)).json).toEqual({ stopped: false })
    const list = await api(t.base, bob!, 'GET', '/api/conversations')
    expect(list.json.items.map((c: any) => c.id)).not.toContain(conversationId)
  })

  it('lists own conversations newest first with cursor and page paging; renames; deletes', async () => {
    const [carol] = await members(t.app, ['carol'])
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const s = await open(t.base, carol!, { model: 'demo', content: `question ${i}` })
      await s.last()
      ids.push(s.accepted.conversationId)
    }
    const p1 = await api(t.base, carol!, 'GET', '/api/conversations?limit=2')
    expect(p1.json.total).toBe(5)
    expect(p1.json.items.map((c: any) => c.id)).toEqual([ids[4], ids[3]])
    expect(p1.json.items[0]).toEqual({ id: ids[4], title: 'Question 4', model: 'demo', createdAt: expect.any(String), updatedAt: expect.any(String), activeRequestId: null })
    const p2 = await api(t.base, carol!, 'GET', `/api/conversations?limit=2&cursor=${p1.json.nextCursor}`)
    expect(p2.json.items.map((c: any) => c.id)).toEqual([ids[2], ids[1]])
    const p3 = await api(t.base, carol!, 'GET', `/api/conversations?limit=2&cursor=${p2.json.nextCursor}`)
    expect(p3.json.items.map((c: any) => c.id)).toEqual([ids[0]])
    expect(p3.json.nextCursor).toBeNull()
    const page2 = await api(t.base, carol!, 'GET', '/api/conversations?limit=2&page=2')
    expect(page2.json.items.map((c: any) => c.id)).toEqual([ids[2], ids[1]])
    expect((await api(t.base, carol!, 'GET', '/api/conversations?cursor=garbage')).status).toBe(400)

    const renamed = await api(t.base, carol!, 'PATCH', `/api/conversations/${ids[0]}`, { title: 'Renamed' })
    expect(renamed.status).toBe(200)
    expect(renamed.json.title).toBe('Renamed')
    expect((await api(t.base, carol!, 'DELETE', `/api/conversations/${ids[1]}`)).status).toBe(204)
    expect((await api(t.base, carol!, 'GET', `/api/conversations/${ids[1]}`)).status).toBe(404)
    expect(await t.app.db.message.count({ where: { conversationId: ids[1] } })).toBe(0)
  })

  it('follow-ups send our own history (demo/API upstreams), bounded, and regenerate branches the last answer', async () => {
    const s1 = await open(t.base, alice!, { model: 'demo', content: 'first question' })
    await s1.last()
    const { conversationId } = s1.accepted
    const s2 = await open(t.base, alice!, { model: 'demo', content: 'second question', conversationId })
    await s2.last()
    expect(s2.names).not.toContain('title') // not a new conversation
    const conv = await api(t.base, alice!, 'GET', `/api/conversations/${conversationId}`)
    const msgs = conv.json.messages
    expect(msgs.map((m: any) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant'])
    expect(msgs[2].parentId).toBe(msgs[1].id)
    const ask2 = await t.app.db.ask.findUniqueOrThrow({ where: { id: s2.accepted.requestId } })
    // history (question 1 + answer 1) + question 2 went upstream
    expect(ask2.charsIn).toBe('first question'.length + [...msgs[1].content].length + 'second question'.length)

    const r = await open(t.base, alice!, { model: 'demo', content: '', conversationId, action: 'regenerate' })
    await r.last()
    expect(r.accepted.userMessageId).toBe(msgs[2].id)
    const after = await api(t.base, alice!, 'GET', `/api/conversations/${conversationId}`)
    const answers = after.json.messages.filter((m: any) => m.parentId === msgs[2].id)
    expect(answers).toHaveLength(2)
    expect(answers.every((m: any) => m.status === 'done')).toBe(true)

    // continue needs an answer cut by length
    const c = await chat(t.base, alice!, { model: 'demo', content: '', conversationId, action: 'continue' })
    expect(c.status).toBe(400)
  })

  it('the status route reports queues, in-flight, active members and health (no secrets)', async () => {
    const st = await api(t.base, alice!, 'GET', '/api/status')
    expect(st.status).toBe(200)
    expect(st.json).toMatchObject({ queueLength: 0, inFlight: 0, upstreams: [{ id: 'demo', type: 'demo', concurrency: 2, queueLength: 0, inFlight: 0, healthy: true }] })
    expect(st.json.activeMembers.last5m).toBeGreaterThanOrEqual(2)
    expect(st.json.activeMembers.last1d).toBeGreaterThanOrEqual(st.json.activeMembers.last5m)
  })

  it('the admin ask log (GET /api/admin/asks) lists the ask log for admins only, filterable', async () => {
    const [admin] = await members(t.app, ['boss'])
    await t.app.db.user.update({ where: { username: 'boss' }, data: { role: 'admin' } })
    expect((await api(t.base, alice!, 'GET', '/api/admin/asks')).status).toBe(403)
    const all = await api(t.base, admin!, 'GET', '/api/admin/asks?pageSize=5')
    expect(all.status).toBe(200)
    expect(all.json.items).toHaveLength(5)
    expect(all.json.total).toBeGreaterThan(5)
    const aliceId = alice!.user.id
    const mine = await api(t.base, admin!, 'GET', `/api/admin/asks?userId=${aliceId}&outcome=done&model=demo`)
    expect(mine.json.items.length).toBeGreaterThan(0)
    expect(mine.json.items.every((a: any) => a.userId === aliceId && a.username === 'alice' && a.outcome === 'done')).toBe(true)

    // A date range: everything so far is before "now", nothing is in the future.
    const now = new Date(Date.now() + 1000).toISOString()
    const before = await api(t.base, admin!, 'GET', `/api/admin/asks?to=${encodeURIComponent(now)}`)
    expect(before.json.total).toBe(all.json.total)
    const after = await api(t.base, admin!, 'GET', `/api/admin/asks?from=${encodeURIComponent(now)}`)
    expect(after.json.total).toBe(0)
    expect((await api(t.base, admin!, 'GET', '/api/admin/asks?from=yesterday')).status).toBe(400)
  })
})
