/**
 * Findings of the backend security review, each proven over real HTTP (app.inject) against the whole app.
 */
import type { TestApp, TestSession } from './helper.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, createUser, injectAs, loginAs } from './helper.js'

describe('security review', () => {
  let t: TestApp
  let member: TestSession
  let memberPassword: string
  beforeAll(async () => {
    t = await buildTestApp()
    const { user, password } = await createUser(t.app, { username: 'reviewed' })
    memberPassword = password
    member = await loginAs(t.app, user.username, password)
  })
  afterAll(() => t.close())

  it('the same-origin guard cannot be skipped by percent-encoding the /api prefix', async () => {
    const victim = await loginAs(t.app, 'reviewed', memberPassword)
    for (const url of ['/%61pi/auth/logout', '/%61%70%69/auth/logout-everywhere']) {
      const res = await injectAs(t.app, victim, { method: 'POST', url, headers: { origin: 'https://evil.example' } })
      expect(res.statusCode, url).not.toBe(204)
      expect(res.statusCode, url).not.toBe(200)
    }
    const refused = await injectAs(t.app, victim, { method: 'POST', url: '/%61pi/auth/logout', headers: { origin: 'https://evil.example' } })
    expect(refused.statusCode).toBe(403)
    expect(refused.json().code).toBe('CROSS_ORIGIN')
    // The session survived every attempt.
    expect((await injectAs(t.app, victim, { method: 'GET', url: '/api/me' })).statusCode).toBe(200)
    // …and the JSON-only rule holds on the encoded path too.
    const form = await injectAs(t.app, victim, { method: 'POST', url: '/%61pi/auth/logout', headers: { 'content-type': 'text/plain' }, payload: 'x=1' })
    expect(form.statusCode).toBe(415)
  })

  it('authenticated JSON answers (and API errors) are never stored by a cache', async () => {
    for (const url of ['/api/me', '/api/conversations', '/api/models', '/api/status', '/api/auth/sessions']) {
      const res = await injectAs(t.app, member, { method: 'GET', url })
      expect(res.statusCode, url).toBe(200)
      expect(res.headers['cache-control'], url).toBe('no-store')
    }
    const patched = await injectAs(t.app, member, { method: 'PATCH', url: '/api/me', payload: { nickname: 'R' } })
    expect(patched.headers['cache-control']).toBe('no-store')
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'reviewed', password: 'wrong-password-1' } })
    expect(login.headers['cache-control']).toBe('no-store')
    const unknown = await injectAs(t.app, member, { method: 'GET', url: '/api/conversations/nope' })
    expect(unknown.statusCode).toBe(404)
    expect(unknown.headers['cache-control']).toBe('no-store')
    const noRoute = await t.app.inject({ method: 'GET', url: '/api/no-such-route' })
    expect(noRoute.headers['cache-control']).toBe('no-store')
  })

  it('a crafted conversation cursor is a 400, not a 500', async () => {
    for (const payload of [[1e20, 'x'], [-1e20, 'x'], [8.64e15 + 1, 'x']]) {
      const cursor = Buffer.from(JSON.stringify(payload)).toString('base64url')
      const res = await injectAs(t.app, member, { method: 'GET', url: `/api/conversations?cursor=${cursor}` })
      expect(res.statusCode, JSON.stringify(payload)).toBe(400)
      expect(res.json().code).toBe('BAD_REQUEST')
    }
  })
})
