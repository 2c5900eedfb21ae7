import type { TestApp } from './helper.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp } from './helper.js'

let seq = 0
/**
 * A mutating API call: a login of an unknown name (401 once past the Origin check), each from its
 * own address so the login throttle's delays stay out of the way.
 */
function post(t: TestApp, headers: Record<string, string>) {
  const n = ++seq
  return t.app.inject({ method: 'POST', url: '/api/auth/login', headers, remoteAddress: `10.77.${n >> 8}.${n & 255}`, payload: { username: `nobody${n}`, password: 'wrong-password-x' } })
}

async function verdict(t: TestApp, headers: Record<string, string>): Promise<string> {
  const res = await post(t, headers)
  if (res.statusCode === 403)
    return res.json().code
  expect(res.json().code).toBe('INVALID_CREDENTIALS')
  return 'passed'
}

describe('origin check without server.public_url: the request\'s own scheme, host and port', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({})
  })
  afterAll(() => t.close())

  it('refuses a forged Origin on another port or scheme of the same host (403 CROSS_ORIGIN)', async () => {
    expect(await verdict(t, { host: 'chat.example.com:8080', origin: 'http://chat.example.com:9999' })).toBe('CROSS_ORIGIN')
    expect(await verdict(t, { host: 'chat.example.com:8080', origin: 'http://chat.example.com' })).toBe('CROSS_ORIGIN')
    expect(await verdict(t, { host: 'chat.example.com', origin: 'https://chat.example.com' })).toBe('CROSS_ORIGIN')
    expect(await verdict(t, { host: 'chat.example.com', origin: 'ftp://chat.example.com' })).toBe('CROSS_ORIGIN')
  })

  it('accepts the real origin (default ports and case do not matter)', async () => {
    expect(await verdict(t, { host: 'chat.example.com:8080', origin: 'http://chat.example.com:8080' })).toBe('passed')
    expect(await verdict(t, { host: 'Chat.Example.com:80', origin: 'http://chat.example.com' })).toBe('passed')
    expect(await verdict(t, { host: 'chat.example.com' })).toBe('passed') // no Origin: not a browser's cross-site call
  })

  it('ignores X-Forwarded-Proto/-Host without trust_proxy', async () => {
    expect(await verdict(t, { 'host': 'internal:8080', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', 'origin': 'https://evil.example' })).toBe('CROSS_ORIGIN')
  })
})

describe('origin check behind a proxy (trust_proxy, no public_url)', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ server: { trust_proxy: true } })
  })
  afterAll(() => t.close())

  it('takes the scheme and host from X-Forwarded-Proto/-Host', async () => {
    const proxied = { 'host': 'app:8080', 'x-forwarded-host': 'chat.example.com', 'x-forwarded-proto': 'https' }
    expect(await verdict(t, { ...proxied, origin: 'https://chat.example.com' })).toBe('passed')
    expect(await verdict(t, { ...proxied, origin: 'http://chat.example.com' })).toBe('CROSS_ORIGIN')
    expect(await verdict(t, { ...proxied, origin: 'https://chat.example.com:8443' })).toBe('CROSS_ORIGIN')
  })
})

describe('origin check with server.public_url', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ server: { public_url: 'https://chat.example.com', trust_proxy: true, allowed_origins: ['http://localhost:5173'] } })
  })
  afterAll(() => t.close())

  it('accepts exactly public_url\'s origin, whatever Host says', async () => {
    expect(await verdict(t, { host: 'app:8080', origin: 'https://chat.example.com' })).toBe('passed')
    expect(await verdict(t, { host: 'chat.example.com', origin: 'https://chat.example.com:443' })).toBe('passed')
  })

  it('refuses a request whose Host (or X-Forwarded-Host) was spoofed to match a forged Origin', async () => {
    expect(await verdict(t, { host: 'evil.example', origin: 'https://evil.example' })).toBe('CROSS_ORIGIN')
    expect(await verdict(t, { 'host': 'app:8080', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', 'origin': 'https://evil.example' })).toBe('CROSS_ORIGIN')
    expect(await verdict(t, { host: 'chat.example.com', origin: 'http://chat.example.com' })).toBe('CROSS_ORIGIN')
    expect(await verdict(t, { host: 'chat.example.com:8443', origin: 'https://chat.example.com:8443' })).toBe('CROSS_ORIGIN')
  })

  it('still accepts server.allowed_origins, and nothing else', async () => {
    expect(await verdict(t, { host: 'app:8080', origin: 'http://localhost:5173' })).toBe('passed')
    expect(await verdict(t, { host: 'localhost:5174', origin: 'http://localhost:5174' })).toBe('CROSS_ORIGIN')
  })

  it('refuses a public_url that is not an http(s) origin at start', async () => {
    await expect(buildTestApp({ server: { public_url: 'chat.example.com' } })).rejects.toThrow(/public_url/)
  })
})
