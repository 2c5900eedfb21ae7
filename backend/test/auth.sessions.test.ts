import type { TestApp, TestSession } from './helper.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, buildTestApp, createUser, injectAs, loginAs } from './helper.js'

const HOUR = 3600_000
const MIN = 60_000

/**
 * Server-side sessions: revocation is effective on the very next request; idle and absolute
 * lifetimes are enforced on the server clock (moved here through `now`).
 */
describe('sessions: revocation and expiry', () => {
  let t: TestApp
  let offset = 0
  let admin: TestSession
  let alice: { id: number, password: string }
  let bob: { id: number, password: string }

  const me = (s: TestSession) => injectAs(t.app, s, { method: 'GET', url: '/api/me' })
  const status = async (s: TestSession) => (await me(s)).statusCode

  beforeAll(async () => {
    t = await buildTestApp({ auth: { session_idle_hours: 2, session_max_days: 1 } }, { now: () => new Date(Date.now() + offset) })
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    const a = await createUser(t.app, { username: 'alice' })
    const b = await createUser(t.app, { username: 'bob' })
    alice = { id: a.user.id, password: a.password }
    bob = { id: b.user.id, password: b.password }
  })
  afterAll(() => t.close())

  it('logout ends this session only, on the very next request, and clears the cookie', async () => {
    const s1 = await loginAs(t.app, 'alice', alice.password)
    const s2 = await loginAs(t.app, 'alice', alice.password)
    const out = await injectAs(t.app, s1, { method: 'POST', url: '/api/auth/logout' })
    expect(out.statusCode).toBe(204)
    expect(String(out.headers['set-cookie'])).toMatch(/^cws_session=;.*Max-Age=0/)
    expect(await status(s1)).toBe(401)
    expect((await me(s1)).json().code).toBe('SESSION_EXPIRED')
    expect(await status(s2)).toBe(200)

    // Own sessions: the live one is listed as current; ending it by id works, another user's id is 404.
    const list = await injectAs(t.app, s2, { method: 'GET', url: '/api/auth/sessions' })
    expect(list.statusCode).toBe(200)
    const items = list.json().items as { id: string, current: boolean }[]
    expect(items.filter(i => i.current)).toHaveLength(1)
    expect(items.map(i => i.id)).not.toContain(JSON.parse(Buffer.from(s1.token.split('.')[1]!, 'base64url').toString()).sid)
    const adminSid = JSON.parse(Buffer.from(admin.token.split('.')[1]!, 'base64url').toString()).sid
    const foreign = await injectAs(t.app, s2, { method: 'DELETE', url: `/api/auth/sessions/${adminSid}` })
    expect(foreign.statusCode).toBe(404)
    expect(await status(admin)).toBe(200)
    const own = await injectAs(t.app, s2, { method: 'DELETE', url: `/api/auth/sessions/${items[0]!.id}` })
    expect(own.statusCode).toBe(204)
    expect(await status(s2)).toBe(401)
  })

  it('admin "log out everywhere" ends every session of the member on the next request', async () => {
    const s1 = await loginAs(t.app, 'bob', bob.password)
    const s2 = await loginAs(t.app, 'bob', bob.password)
    const res = await injectAs(t.app, admin, { method: 'POST', url: `/api/admin/users/${bob.id}/logout-everywhere` })
    expect(res.statusCode).toBe(200)
    expect(res.json().revoked).toBe(2)
    expect(await status(s1)).toBe(401)
    expect(await status(s2)).toBe(401)
    expect(await status(admin)).toBe(200)
  })

  it('disabling a member ends their session at once and refuses their login until re-enabled', async () => {
    const s = await loginAs(t.app, 'bob', bob.password)
    const off = await injectAs(t.app, admin, { method: 'PATCH', url: `/api/admin/users/${bob.id}`, payload: { enabled: false } })
    expect(off.statusCode).toBe(200)
    expect(off.json().enabled).toBe(false)
    expect(await status(s)).toBe(401)
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'bob', password: bob.password } })
    expect(login.statusCode).toBe(403)
    expect(login.json().code).toBe('ACCOUNT_DISABLED')
    expect(login.headers['set-cookie']).toBeUndefined()
    // A wrong password on a disabled account does not reveal that it is disabled.
    const wrong = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'bob', password: 'not-his-password' } })
    expect(wrong.json().code).toBe('INVALID_CREDENTIALS')
    // Re-enabling does not bring the old session back.
    await injectAs(t.app, admin, { method: 'PATCH', url: `/api/admin/users/${bob.id}`, payload: { enabled: true } })
    expect(await status(s)).toBe(401)
    expect(await status(await loginAs(t.app, 'bob', bob.password))).toBe(200)
  })

  it('deleting a member ends their session on the next request', async () => {
    const c = await createUser(t.app, { username: 'carol' })
    const s = await loginAs(t.app, 'carol', c.password)
    expect(await status(s)).toBe(200)
    const del = await injectAs(t.app, admin, { method: 'DELETE', url: `/api/admin/users/${c.user.id}` })
    expect(del.statusCode).toBe(204)
    expect(await status(s)).toBe(401)
    expect(await t.app.db.session.count({ where: { userId: c.user.id } })).toBe(0)
  })

  it('ends a session left idle longer than auth.session_idle_hours; use keeps it alive', async () => {
    offset = 0
    const s = await loginAs(t.app, 'alice', alice.password)
    offset += 1.5 * HOUR
    expect(await status(s)).toBe(200)
    offset += 1.5 * HOUR // 3 h after login, but only 1.5 h idle
    expect(await status(s)).toBe(200)
    offset += 2 * HOUR + MIN
    expect(await status(s)).toBe(401)
    expect((await me(s)).json().code).toBe('SESSION_EXPIRED')
  })

  it('ends a session auth.session_max_days after login even when it is in use', async () => {
    offset = 0
    const s = await loginAs(t.app, 'alice', alice.password)
    for (let h = 1.5; h < 24; h += 1.5) {
      offset = h * HOUR
      expect(await status(s), `after ${h} h`).toBe(200)
    }
    offset = 24 * HOUR + MIN
    expect(await status(s)).toBe(401)
    offset = 0
  })

  it('records activity at login and then at most once a minute', async () => {
    offset = 0
    const s = await loginAs(t.app, 'alice', alice.password)
    const at = async () => (await me(s)).json().user.lastActiveAt as string
    const first = await at()
    expect(Date.parse(first)).toBeGreaterThan(Date.now() - MIN)
    offset = 30_000
    expect(await at()).toBe(first)
    offset = 61_000
    const later = await at()
    expect(Date.parse(later) - Date.parse(first)).toBeGreaterThanOrEqual(61_000)
    offset = 0
  })
})
