import type { TestApp, TestSession } from './helper.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, createUser, injectAs, loginAs } from './helper.js'

describe('own profile: /api/me', () => {
  let t: TestApp
  let kim: TestSession
  let kimPassword: string

  const patch = (s: TestSession, payload: object) => injectAs(t.app, s, { method: 'PATCH', url: '/api/me', payload })

  beforeAll(async () => {
    t = await buildTestApp({ auth: { login_max_failures: 3 } })
    kimPassword = (await createUser(t.app, { username: 'kim', nickname: 'Kim' })).password
    kim = await loginAs(t.app, 'kim', kimPassword)
  })
  afterAll(() => t.close())

  it('shows the profile, role and preferences, with the limits of the member', async () => {
    const res = await injectAs(t.app, kim, { method: 'GET', url: '/api/me' })
    expect(res.statusCode).toBe(200)
    expect(res.json().user).toEqual({ id: expect.any(Number), username: 'kim', nickname: 'Kim', role: 'member', enabled: true, preferences: {}, createdAt: expect.any(String), lastActiveAt: expect.any(String) })
    expect(res.json()).toHaveProperty('limits')
  })

  it('updates the nickname and merges preferences key by key', async () => {
    expect((await patch(kim, { nickname: 'Kimmy', preferences: { language: 'zh-CN' } })).statusCode).toBe(200)
    const res = await patch(kim, { preferences: { theme: 'dark', sendKey: 'Ctrl+Enter' } })
    expect(res.json().user).toMatchObject({ nickname: 'Kimmy', preferences: { language: 'zh-CN', theme: 'dark', sendKey: 'Ctrl+Enter' } })
    const me = await injectAs(t.app, kim, { method: 'GET', url: '/api/me' })
    expect(me.json().user.preferences).toEqual({ language: 'zh-CN', theme: 'dark', sendKey: 'Ctrl+Enter' })
  })

  it('rejects role, limits and any unknown field with 400, changing nothing', async () => {
    for (const payload of [{ role: 'admin' }, { enabled: false }, { limits: { totalAsks: -1 } }, { nickname: 'x', username: 'root' }, { preferences: { theme: 'neon' } }, { preferences: { fontSize: 20 } }]) {
      const res = await patch(kim, payload)
      expect([res.statusCode, res.json().code], JSON.stringify(payload)).toEqual([400, 'VALIDATION_FAILED'])
    }
    const me = await injectAs(t.app, kim, { method: 'GET', url: '/api/me' })
    expect(me.json().user).toMatchObject({ role: 'member', username: 'kim', nickname: 'Kimmy', preferences: { theme: 'dark' } })
  })

  it('changes the password only with the right current one, ends the other sessions and keeps this one', async () => {
    const other = await loginAs(t.app, 'kim', kimPassword)

    const missing = await patch(kim, { newPassword: 'kims-new-passphrase' })
    expect([missing.statusCode, missing.json().code]).toEqual([400, 'WRONG_PASSWORD'])
    const wrong = await patch(kim, { currentPassword: 'not-the-password', newPassword: 'kims-new-passphrase' })
    expect([wrong.statusCode, wrong.json().code]).toEqual([400, 'WRONG_PASSWORD'])
    const weak = await patch(kim, { currentPassword: kimPassword, newPassword: 'iloveyou1' })
    expect([weak.statusCode, weak.json().code]).toEqual([400, 'WEAK_PASSWORD'])
    const short = await patch(kim, { currentPassword: kimPassword, newPassword: 'short' })
    expect(short.statusCode).toBe(400)
    // None of that changed anything.
    expect((await injectAs(t.app, other, { method: 'GET', url: '/api/me' })).statusCode).toBe(200)

    const ok = await patch(kim, { currentPassword: kimPassword, newPassword: 'kims-new-passphrase' })
    expect(ok.statusCode).toBe(200)
    expect(ok.body).not.toContain('kims-new-passphrase')
    expect((await injectAs(t.app, other, { method: 'GET', url: '/api/me' })).statusCode).toBe(401)
    expect((await injectAs(t.app, kim, { method: 'GET', url: '/api/me' })).statusCode).toBe(200)
    await expect(loginAs(t.app, 'kim', kimPassword)).rejects.toThrow(/401/)
    kim = await loginAs(t.app, 'kim', 'kims-new-passphrase')
  })

  it('counts wrong current passwords towards the login throttle', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await patch(kim, { currentPassword: `guess-${i}-guess`, newPassword: 'another-new-passphrase' })
      expect(res.json().code).toBe('WRONG_PASSWORD')
    }
    const blocked = await patch(kim, { currentPassword: 'kims-new-passphrase', newPassword: 'another-new-passphrase' })
    expect([blocked.statusCode, blocked.json().code]).toEqual([429, 'LOGIN_THROTTLED'])
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0)
    // Profile edits without a password change still work.
    expect((await patch(kim, { nickname: 'K' })).statusCode).toBe(200)
  })
})
