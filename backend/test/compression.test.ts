import type { ListeningApp } from './chat.helpers.js'
import type { TestSession } from './helper.js'
import { mkdirSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import path from 'node:path'
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { members, startApp } from './chat.helpers.js'
import { createUser, tempDataDir } from './helper.js'

interface Raw { status: number, headers: Record<string, string | string[] | undefined>, body: Buffer }

/** One HTTP request with exactly these headers (no client-side decompression), the body as bytes. */
function raw(base: string, method: string, url: string, headers: Record<string, string>, body?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${url}`, { method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('compression', () => {
  let t: ListeningApp
  let alice: TestSession
  let adminCookie: string
  const web = tempDataDir('cws-web-')
  const js = `export const words = ${JSON.stringify(Array.from({ length: 400 }, (_, i) => `word${i}`))}\n`

  beforeAll(async () => {
    mkdirSync(path.join(web, 'assets'))
    writeFileSync(path.join(web, 'index.html'), '<!doctype html><div id="app"></div>')
    writeFileSync(path.join(web, 'assets', 'app-abc123.js'), js)
    writeFileSync(path.join(web, 'assets', 'app-abc123.js.br'), brotliCompressSync(js))
    writeFileSync(path.join(web, 'assets', 'app-abc123.js.gz'), gzipSync(js))
    process.env.CWS_WEB_DIR = web
    t = await startApp({
      upstreams: [{ id: 'demo', type: 'demo', speed: 400, first_token_ms: 0, models: [{ key: 'demo', name: 'Demo', slug: 'demo' }] }],
    })
    delete process.env.CWS_WEB_DIR
    alice = (await members(t.app, ['alice']))[0]!
    for (let i = 0; i < 25; i++)
      await createUser(t.app, { username: `member-with-a-long-name-${i}`, nickname: `Someone with a nickname ${i}` })
    const login = await raw(t.base, 'POST', '/api/auth/login', { 'content-type': 'application/json' }, JSON.stringify({ username: 'admin', password: 'test-admin-pass-1' }))
    adminCookie = String((login.headers['set-cookie'] as string[])[0]).split(';')[0]!
  }, 120_000) // 26 members, each password hashed with scrypt: ~30 s on a loaded 2-CPU machine
  afterAll(() => t.close())

  it('sends the build\'s .br or .gz of an asset as it is, by what the client accepts, with Vary', async () => {
    const br = await raw(t.base, 'GET', '/assets/app-abc123.js', { 'accept-encoding': 'gzip, deflate, br' })
    expect(br.status).toBe(200)
    expect(br.headers['content-encoding']).toBe('br')
    expect(br.headers.vary).toMatch(/accept-encoding/i)
    expect(br.headers['content-type']).toMatch(/javascript/)
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(brotliDecompressSync(br.body).toString()).toBe(js)
    expect(br.body.length).toBeLessThan(js.length / 3)

    const gz = await raw(t.base, 'GET', '/assets/app-abc123.js', { 'accept-encoding': 'gzip' })
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(gz.body).toString()).toBe(js)

    const plain = await raw(t.base, 'GET', '/assets/app-abc123.js', {})
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.body.toString()).toBe(js)
  })

  it('compresses API JSON above 1 KiB, not below', async () => {
    const list = await raw(t.base, 'GET', '/api/admin/users', { 'cookie': adminCookie, 'accept-encoding': 'br, gzip' })
    expect(list.status).toBe(200)
    expect(list.headers['content-encoding']).toBe('br')
    const users = JSON.parse(brotliDecompressSync(list.body).toString())
    expect(JSON.stringify(users).length).toBeGreaterThan(1024)
    expect(list.body.length).toBeLessThan(JSON.stringify(users).length / 2)

    const gz = await raw(t.base, 'GET', '/api/admin/users', { 'cookie': adminCookie, 'accept-encoding': 'gzip' })
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(JSON.parse(gunzipSync(gz.body).toString())).toEqual(users)

    const health = await raw(t.base, 'GET', '/api/health', { 'accept-encoding': 'br, gzip' })
    expect(health.headers['content-encoding']).toBeUndefined()
    expect(JSON.parse(health.body.toString()).status).toBeDefined()
  })

  it('leaves the chat stream uncompressed, each event on the wire as soon as it happens', async () => {
    const chunks: { at: number, text: string }[] = []
    const res = await new Promise<{ headers: Record<string, unknown> }>((resolve, reject) => {
      const req = request(`${t.base}/api/chat`, {
        method: 'POST',
        headers: { 'cookie': alice.cookie, 'content-type': 'application/json', 'accept-encoding': 'br, gzip', 'origin': t.base },
      }, (r) => {
        r.on('data', (c: Buffer) => chunks.push({ at: Date.now(), text: c.toString() }))
        r.on('end', () => resolve({ headers: r.headers }))
      })
      req.on('error', reject)
      req.end(JSON.stringify({ model: 'demo', content: 'Tell me about binary search' }))
    })
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/)
    expect(res.headers['content-encoding']).toBeUndefined()
    const all = chunks.map(c => c.text).join('')
    expect(all).toContain('event: accepted')
    expect(all).toContain('event: done')
    // Plain text frames, arriving over time (400 characters a second): many writes, the first text
    // long before the end.
    const firstDelta = chunks.findIndex(c => c.text.includes('event: delta'))
    expect(firstDelta).toBeGreaterThanOrEqual(0)
    expect(chunks.length).toBeGreaterThan(3)
    expect(chunks.at(-1)!.at - chunks[firstDelta]!.at).toBeGreaterThan(500)
  }, 30_000)
})
