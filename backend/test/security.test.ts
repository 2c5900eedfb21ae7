import type { TestApp, TestSession } from './helper.js'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, buildTestApp, injectAs, loginAs, tempDataDir } from './helper.js'

function directives(csp: string): Record<string, string> {
  return Object.fromEntries(csp.split(';').map(d => d.trim()).filter(Boolean).map((d) => {
    const [name, ...values] = d.split(/\s+/)
    return [name!, values.join(' ')]
  }))
}

describe('baseline protection', () => {
  let t: TestApp
  let admin: TestSession
  beforeAll(async () => {
    const web = tempDataDir('cws-web-')
    writeFileSync(path.join(web, 'index.html'), '<!doctype html><div id="app"></div><script type="module" src="/assets/index.js"></script>')
    t = await buildTestApp({ server: { trust_proxy: true, body_limit: 2048, allowed_origins: ['http://localhost:5173'] } }, { webDir: web })
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
  })
  afterAll(() => t.close())

  const login = (headers: Record<string, string>, payload: string | object = { username: 'admin', password: 'wrong-password-x' }) =>
    t.app.inject({ method: 'POST', url: '/api/auth/login', headers, payload })

  it('serves the SPA and the API with a strict CSP the SPA can run under', async () => {
    for (const url of ['/', '/c/some-conversation', '/api/health']) {
      const res = await t.app.inject({ method: 'GET', url })
      expect(res.statusCode, url).toBe(200)
      const csp = directives(String(res.headers['content-security-policy']))
      expect(csp).toEqual({
        'default-src': '\'self\'',
        'script-src': '\'self\'',
        'style-src': '\'self\' \'unsafe-inline\'',
        'img-src': '\'self\' data: blob:',
        'font-src': '\'self\' data:',
        'connect-src': '\'self\'',
        'object-src': '\'none\'',
        'frame-ancestors': '\'none\'',
        'base-uri': '\'self\'',
        'form-action': '\'self\'',
      })
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['x-frame-options']).toBe('DENY')
      expect(res.headers['referrer-policy']).toBe('no-referrer')
    }
  })

  it('sends HSTS only over HTTPS', async () => {
    const plain = await t.app.inject({ method: 'GET', url: '/api/health' })
    expect(plain.headers['strict-transport-security']).toBeUndefined()
    const tls = await t.app.inject({ method: 'GET', url: '/api/health', headers: { 'x-forwarded-proto': 'https' } })
    expect(tls.headers['strict-transport-security']).toMatch(/^max-age=\d+/)
  })

  it('refuses a cross-origin POST (403 CROSS_ORIGIN), before anything else happens', async () => {
    for (const origin of ['https://evil.example', 'http://localhost.evil.example', 'null']) {
      const res = await login({ origin })
      expect([res.statusCode, res.json().code], origin).toEqual([403, 'CROSS_ORIGIN'])
    }
    // A logged-in member's browser tricked into a cross-site PATCH changes nothing.
    const res = await injectAs(t.app, admin, { method: 'PATCH', url: '/api/me', headers: { origin: 'https://evil.example' }, payload: { nickname: 'pwned' } })
    expect(res.statusCode).toBe(403)
    const me = await injectAs(t.app, admin, { method: 'GET', url: '/api/me', headers: { origin: 'https://evil.example' } })
    expect(me.statusCode).toBe(200)
    expect(me.json().user.nickname).not.toBe('pwned')
  })

  it('accepts our own origin and the configured ones', async () => {
    // light-my-request's Host is localhost:80.
    expect((await login({ origin: 'http://localhost:80' })).json().code).toBe('INVALID_CREDENTIALS')
    expect((await login({ origin: 'http://localhost:5173' })).json().code).toBe('INVALID_CREDENTIALS')
    expect((await login({ 'origin': 'https://cws.example', 'host': 'cws.example', 'x-forwarded-proto': 'https' })).json().code).toBe('INVALID_CREDENTIALS')
  })

  it('accepts only JSON bodies on mutating API routes (415 otherwise)', async () => {
    const body = JSON.stringify({ username: 'admin', password: 'wrong-password-x' })
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp']) {
      const res = await login({ 'content-type': type }, body)
      expect([res.statusCode, res.json().code], type).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE'])
    }
    const noType = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: Buffer.from(body) })
    expect(noType.statusCode).toBe(415)
    const utf8 = await login({ 'content-type': 'application/json; charset=utf-8' }, body)
    expect(utf8.json().code).toBe('INVALID_CREDENTIALS')
  })

  it('answers prototype poisoning with a 400 JSON error', async () => {
    for (const payload of ['{"__proto__":{"role":"admin"},"username":"admin","password":"x"}', '{"constructor":{"prototype":{"role":"admin"}},"username":"admin","password":"x"}']) {
      const res = await login({ 'content-type': 'application/json' }, payload)
      expect(res.statusCode, payload).toBe(400)
      expect(res.json()).toMatchObject({ code: 'BAD_REQUEST', reqId: expect.any(String) })
    }
  })

  it('bounds request bodies (413)', async () => {
    const res = await login({ 'content-type': 'application/json' }, JSON.stringify({ username: 'admin', password: 'x'.repeat(4096) }))
    expect([res.statusCode, res.json().code]).toEqual([413, 'PAYLOAD_TOO_LARGE'])
  })
})
