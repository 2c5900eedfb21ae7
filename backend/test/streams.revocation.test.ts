/**
 * Revocation reaches open streams: when a session ends or a role changes, the streams opened under
 * it close within 1 s with an `error` event saying why. Real HTTP on a port, a real SQLite file,
 * the fake OpenAI upstream on 127.0.0.1.
 */
import type { ChatStream, ListeningApp } from './chat.helpers.js'
import type { FakeUpstream } from './fake-upstream/server.js'
import type { TestSession } from './helper.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api, eventually, open, startApp, ChatStream as Stream } from './chat.helpers.js'
import { startFakeUpstream } from './fake-upstream/server.js'
import { ADMIN, createUser, loginAs } from './helper.js'

const SLOW = '[[fake: answerChars=20000, chunks=400, gapMs=40]] a long answer'

async function logStream(base: string, s: TestSession): Promise<ChatStream> {
  const ac = new AbortController()
  const res = await fetch(`${base}/api/admin/logs/stream`, { headers: { authorization: `Bearer ${s.token}` }, signal: ac.signal })
  expect(res.status).toBe(200)
  return new Stream(res.status, res.body, ac)
}

/** Waits for the stream's `error` event and its end; returns the error and how long it took. */
async function closedWith(s: ChatStream, since: number): Promise<{ code: string, ms: number }> {
  const e = await s.waitFor('error')
  await s.done
  return { code: (e.data as { code: string }).code, ms: Date.now() - since }
}

describe('revocation reaches open streams', () => {
  let fake: FakeUpstream
  let t: ListeningApp
  let admin: TestSession
  let n = 0

  beforeAll(async () => {
    fake = await startFakeUpstream()
    t = await startApp({
      chat: { ping_seconds: 600, detached_grace_seconds: 300 },
      upstreams: [{ id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, concurrency: 8, models: [{ key: 'gpt', name: 'GPT', slug: 'x' }] }],
    })
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
  })
  afterAll(async () => {
    await t?.close()
    await fake?.close()
  })

  async function member(role: 'member' | 'admin' = 'member') {
    const { user, password } = await createUser(t.app, { username: `m${++n}`, role })
    // Several answers at once, from several sessions of the same member.
    await t.app.limits.patch(user.id, { maxInFlight: 4 })
    return { user, password, s: await loginAs(t.app, user.username, password) }
  }
  const message = (id: string) => t.app.db.message.findUniqueOrThrow({ where: { id } })

  async function streaming(s: TestSession): Promise<ChatStream> {
    const c = await open(t.base, s, { model: 'gpt', content: SLOW })
    await c.waitFor('delta')
    return c
  }

  it('logout closes the chat stream with SESSION_ENDED; the ask goes on, detached', async () => {
    const m = await member()
    const c = await streaming(m.s)
    const t0 = Date.now()
    expect((await api(t.base, m.s, 'POST', '/api/auth/logout')).status).toBe(204)
    const end = await closedWith(c, t0)
    expect(end.code).toBe('SESSION_ENDED')
    expect(end.ms).toBeLessThan(1000)
    const row = await t.app.db.ask.findUniqueOrThrow({ where: { id: c.accepted.requestId } })
    expect(row.outcome).toBe('running')
    // Logged in again, the member attaches to it.
    const again = await loginAs(t.app, m.user.username, m.password)
    const stop = await api(t.base, again, 'POST', `/api/chat/${c.accepted.requestId}/stop`)
    expect(stop.json).toEqual({ stopped: true })
  })

  it('ending one session (the sessions list) closes only that session\'s streams', async () => {
    const m = await member()
    const other = await loginAs(t.app, m.user.username, m.password)
    const here = await streaming(m.s)
    const there = await streaming(other)
    const sessions = await api(t.base, m.s, 'GET', '/api/auth/sessions')
    const otherId = sessions.json.items.find((x: { current: boolean }) => !x.current).id
    const t0 = Date.now()
    expect((await api(t.base, m.s, 'DELETE', `/api/auth/sessions/${otherId}`)).status).toBe(204)
    expect((await closedWith(there, t0)).code).toBe('SESSION_ENDED')
    expect(here.ended).toBe(false)
    await api(t.base, m.s, 'POST', `/api/chat/${here.accepted.requestId}/stop`)
    await api(t.base, m.s, 'POST', `/api/chat/${there.accepted.requestId}/stop`)
    expect(await here.last()).toMatchObject({ event: 'done', data: { finishReason: 'aborted' } })
  })

  it('log out everywhere, and a password change (other sessions), close the streams within 1 s', async () => {
    const m = await member()
    const other = await loginAs(t.app, m.user.username, m.password)
    const a = await streaming(other)
    // Counted from the change's answer: the request itself hashes passwords (scrypt), slow on a loaded machine.
    await api(t.base, m.s, 'PATCH', '/api/me', { currentPassword: m.password, newPassword: 'a-brand-new-pass-42' })
    let t0 = Date.now()
    const byPassword = await closedWith(a, t0)
    expect(byPassword).toMatchObject({ code: 'SESSION_ENDED' })
    expect(byPassword.ms).toBeLessThan(1000)
    const b = await streaming(m.s)
    t0 = Date.now()
    expect((await api(t.base, m.s, 'POST', '/api/auth/logout-everywhere')).status).toBe(200)
    const everywhere = await closedWith(b, t0)
    expect(everywhere.code).toBe('SESSION_ENDED')
    expect(everywhere.ms).toBeLessThan(1000)
  })

  it('the admin resetting a password closes the member\'s streams; disabling stops their asks too', async () => {
    const m = await member()
    const a = await streaming(m.s)
    let t0 = Date.now()
    await api(t.base, admin, 'PATCH', `/api/admin/users/${m.user.id}`, { password: 'reset-by-admin-77' })
    expect((await closedWith(a, t0)).code).toBe('SESSION_ENDED')
    expect((await t.app.db.ask.findUniqueOrThrow({ where: { id: a.accepted.requestId } })).outcome).toBe('running')

    const s2 = await loginAs(t.app, m.user.username, 'reset-by-admin-77')
    const b = await streaming(s2)
    t0 = Date.now()
    await api(t.base, admin, 'PATCH', `/api/admin/users/${m.user.id}`, { enabled: false })
    const end = await closedWith(b, t0)
    expect(end.code).toBe('ACCOUNT_DISABLED')
    expect(end.ms).toBeLessThan(1000)
    // Every ask of a disabled member stops (the detached one from before too), partial answers kept.
    for (const c of [a, b]) {
      await eventually(async () => (await message(c.accepted.assistantMessageId)).status !== 'streaming')
      expect((await message(c.accepted.assistantMessageId)).status).toBe('stopped')
      expect((await message(c.accepted.assistantMessageId)).content.length).toBeGreaterThan(0)
    }
  })

  it('deleting a member closes their streams and stops their asks', async () => {
    const m = await member()
    const a = await streaming(m.s)
    const t0 = Date.now()
    expect((await api(t.base, admin, 'DELETE', `/api/admin/users/${m.user.id}`)).status).toBe(204)
    const end = await closedWith(a, t0)
    expect(end.code).toBe('ACCOUNT_DISABLED')
    await eventually(() => t.app.asks.registry.runOf(m.user.id, a.accepted.requestId) === undefined)
  })

  it('the admin\'s live log stream closes when that admin is demoted, disabled, or logged out', async () => {
    const other = await member('admin')
    let logs = await logStream(t.base, other.s)
    let t0 = Date.now()
    await api(t.base, admin, 'PATCH', `/api/admin/users/${other.user.id}`, { role: 'member' })
    const demoted = await closedWith(logs, t0)
    expect(demoted.code).toBe('FORBIDDEN')
    expect(demoted.ms).toBeLessThan(1000)
    // As a member now, the stream is refused outright.
    expect((await fetch(`${t.base}/api/admin/logs/stream`, { headers: { authorization: `Bearer ${other.s.token}` } })).status).toBe(403)

    await api(t.base, admin, 'PATCH', `/api/admin/users/${other.user.id}`, { role: 'admin' })
    logs = await logStream(t.base, other.s)
    t0 = Date.now()
    await api(t.base, other.s, 'POST', '/api/auth/logout')
    expect((await closedWith(logs, t0)).code).toBe('SESSION_ENDED')

    const s3 = await loginAs(t.app, other.user.username, other.password)
    logs = await logStream(t.base, s3)
    t0 = Date.now()
    await api(t.base, admin, 'PATCH', `/api/admin/users/${other.user.id}`, { enabled: false })
    const disabled = await closedWith(logs, t0)
    expect(disabled.code).toBe('ACCOUNT_DISABLED')
    expect(disabled.ms).toBeLessThan(1000)
  })
})
