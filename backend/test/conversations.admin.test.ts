import type { ListeningApp } from './chat.helpers.js'
import type { FakeUpstream } from './fake-upstream/server.js'
import type { TestSession } from './helper.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api, eventually, members, open, startApp } from './chat.helpers.js'
import { startFakeUpstream } from './fake-upstream/server.js'
import { ADMIN, loginAs } from './helper.js'

/** The admin's view of every member's conversations, end to end over HTTP against the fake upstream. */
describe('admin conversations', () => {
  let fake: FakeUpstream
  let t: ListeningApp
  let admin: TestSession
  let alice: TestSession
  let bob: TestSession

  beforeAll(async () => {
    fake = await startFakeUpstream()
    t = await startApp({
      upstreams: [
        { id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, concurrency: 2, models: [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }] },
        { id: 'web', type: 'chatgpt-web', base_url: fake.chatgptBaseUrl, access_token: fake.accessToken, concurrency: 1, models: [{ key: 'web', name: 'Web', slug: 'gpt-4o' }] },
      ],
    })
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    ;[alice, bob] = await members(t.app, ['alice', 'bob']) as [TestSession, TestSession]
  })
  afterAll(async () => {
    await t?.close()
    await fake?.close()
  })

  async function ask(who: TestSession, content: string, model = 'gpt'): Promise<string> {
    const s = await open(t.base, who, { model, content })
    expect((await s.last()).event).toBe('done')
    return s.accepted.conversationId
  }

  it('lists every member\'s conversations newest first, with owner, upstream and size; by member, by title, by page', async () => {
    const a1 = await ask(alice, '[[fake: answer=Paris]] Capital of France?')
    const b1 = await ask(bob, '[[fake: answer=Rome]] Capital of Italy?')
    const a2 = await ask(alice, '[[fake: answer=Berlin]] Capital of Germany?')

    const all = await api(t.base, admin, 'GET', '/api/admin/conversations')
    expect(all.status).toBe(200)
    const ids = all.json.items.map((c: any) => c.id)
    expect(ids.slice(0, 3)).toEqual([a2, b1, a1])
    expect(all.json.items[1]).toEqual({
      id: b1,
      title: expect.stringContaining('Capital of Italy'),
      model: 'gpt',
      upstreamId: 'api',
      owner: { id: bob.user.id, username: 'bob', nickname: '' },
      messageCount: 2,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      activeRequestId: null,
    })

    const mine = await api(t.base, admin, 'GET', `/api/admin/conversations?userId=${alice.user.id}`)
    expect(mine.json.items.map((c: any) => c.id)).toEqual([a2, a1])
    expect(mine.json.total).toBe(2)

    const search = await api(t.base, admin, 'GET', `/api/admin/conversations?q=${encodeURIComponent('capital of ITALY')}`)
    expect(search.json.items.map((c: any) => c.id)).toEqual([b1])
    const none = await api(t.base, admin, 'GET', '/api/admin/conversations?q=nothing-like-this')
    expect(none.json).toEqual({ items: [], nextCursor: null, total: 0 })

    const p1 = await api(t.base, admin, 'GET', `/api/admin/conversations?userId=${alice.user.id}&limit=1`)
    expect(p1.json.items.map((c: any) => c.id)).toEqual([a2])
    const p2 = await api(t.base, admin, 'GET', `/api/admin/conversations?userId=${alice.user.id}&limit=1&cursor=${p1.json.nextCursor}`)
    expect(p2.json.items.map((c: any) => c.id)).toEqual([a1])
    expect(p2.json.nextCursor).toBeNull()
    expect((await api(t.base, admin, 'GET', '/api/admin/conversations?cursor=garbage')).status).toBe(400)
  })

  it('reads any conversation with its messages; an unknown id is 404', async () => {
    const id = await ask(bob, '[[fake: answer=Forty-two]] The answer?')
    const res = await api(t.base, admin, 'GET', `/api/admin/conversations/${id}`)
    expect(res.status).toBe(200)
    expect(res.json.owner).toMatchObject({ id: bob.user.id, username: 'bob' })
    expect(res.json.messages.map((m: any) => [m.role, m.content, m.status])).toEqual([
      ['user', '[[fake: answer=Forty-two]] The answer?', 'done'],
      ['assistant', 'Forty-two', 'done'],
    ])
    expect((await api(t.base, admin, 'GET', '/api/admin/conversations/no-such-id')).status).toBe(404)
  })

  it('gives a conversation to another member: the new owner reads and continues it, the old one gets 404', async () => {
    const id = await ask(alice, '[[fake: answer=one]] first question')
    const moved = await api(t.base, admin, 'PATCH', `/api/admin/conversations/${id}`, { ownerId: bob.user.id, title: '  Handed over  ' })
    expect(moved.status).toBe(200)
    expect(moved.json).toMatchObject({ id, title: 'Handed over', owner: { id: bob.user.id, username: 'bob' }, messageCount: 2 })

    expect((await api(t.base, alice, 'GET', `/api/conversations/${id}`)).status).toBe(404)
    const asBob = await api(t.base, bob, 'GET', `/api/conversations/${id}`)
    expect(asBob.status).toBe(200)
    expect(asBob.json.title).toBe('Handed over')
    // Bob goes on with it; the earlier turns go upstream as context.
    fake.reset()
    const s = await open(t.base, bob, { model: 'gpt', content: 'second question', conversationId: id })
    expect((await s.last()).event).toBe('done')
    expect(fake.requests[0]!.body.messages.map((m: any) => m.content)).toEqual(['[[fake: answer=one]] first question', 'one', 'second question'])
    expect((await api(t.base, alice, 'POST', '/api/chat', { model: 'gpt', content: 'mine?', conversationId: id })).status).toBe(404)
  })

  it('refuses an unknown new owner (404) and an empty change (400), changing nothing', async () => {
    const id = await ask(alice, '[[fake: answer=x]] stays with alice')
    const before = await api(t.base, admin, 'GET', `/api/admin/conversations/${id}`)
    const unknown = await api(t.base, admin, 'PATCH', `/api/admin/conversations/${id}`, { ownerId: 999_999, title: 'not applied' })
    expect(unknown.status).toBe(404)
    expect(unknown.json.code).toBe('NOT_FOUND')
    expect((await api(t.base, admin, 'PATCH', `/api/admin/conversations/${id}`, {})).status).toBe(400)
    expect((await api(t.base, admin, 'PATCH', `/api/admin/conversations/${id}`, { ownerId: 'bob' })).status).toBe(400)
    expect((await api(t.base, admin, 'PATCH', '/api/admin/conversations/no-such-id', { title: 'x' })).status).toBe(404)
    const after = await api(t.base, admin, 'GET', `/api/admin/conversations/${id}`)
    expect(after.json).toEqual(before.json)
  })

  it('deletes any conversation, stopping an answer being written; ChatGPT web ones are hidden upstream too', async () => {
    const s = await open(t.base, alice, { model: 'gpt', content: '[[fake: chunks=200, gapMs=50]] long answer' })
    await s.waitFor('delta')
    const running = s.accepted.conversationId
    expect((await api(t.base, admin, 'DELETE', `/api/admin/conversations/${running}`)).status).toBe(204)
    expect(await s.last()).toEqual({ event: 'done', data: { finishReason: 'aborted' } })
    expect(await t.app.db.message.count({ where: { conversationId: running } })).toBe(0)
    expect((await api(t.base, alice, 'GET', `/api/conversations/${running}`)).status).toBe(404)

    const web = await ask(bob, 'hello web', 'web')
    const conv = await t.app.db.conversation.findUniqueOrThrow({ where: { id: web } })
    expect((await api(t.base, admin, 'DELETE', `/api/admin/conversations/${web}`)).status).toBe(204)
    await eventually(() => fake.conversations.get(conv.upstreamConversationId!)?.is_visible === false)
    expect((await api(t.base, admin, 'DELETE', `/api/admin/conversations/${web}`)).status).toBe(404)
  })

  it('is for admins only: members get 403 and see nothing of others', async () => {
    const id = await ask(alice, '[[fake: answer=private]] mine')
    for (const [method, path, body] of [
      ['GET', '/api/admin/conversations', undefined],
      ['GET', `/api/admin/conversations/${id}`, undefined],
      ['PATCH', `/api/admin/conversations/${id}`, { ownerId: bob.user.id }],
      ['DELETE', `/api/admin/conversations/${id}`, undefined],
    ] as const) {
      const res = await api(t.base, bob, method, path, body)
      expect(res.status).toBe(403)
      expect(JSON.stringify(res.json)).not.toContain('private')
    }
    expect((await api(t.base, alice, 'GET', `/api/conversations/${id}`)).status).toBe(200)
  })
})
