/**
 * Fuzz (issue #15 §2): every JSON route the app registers — found as the app registers them, so a
 * new route is covered without editing this file — gets ≥ 1000 bodies generated from its own body
 * schema (valid, one thing wrong, anything), wrong content types, proto-poisoning, a body over the
 * limit, and huge headers over a real port. Nothing may answer 5xx; over the limit is 413.
 */
import type { RouteOptions } from 'fastify'
import type { TestApp, TestSession } from '../helper.js'
import { request } from 'node:http'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ADMIN, buildTestApp, createUser, injectAs, loginAs } from '../helper.js'
import { bodyArb, validArb } from './schema-arbitrary.js'

// Records every route as the app registers it (an onRoute hook on the real Fastify instance; nothing else changes).
const seen = vi.hoisted(() => ({ routes: [] as RouteOptions[] }))
vi.mock('fastify', async (importOriginal) => {
  const mod = await importOriginal<typeof import('fastify')>()
  const real = mod.default as unknown as (...args: unknown[]) => any
  const wrapped = Object.assign((...args: unknown[]) => {
    const app = real(...args)
    app.addHook('onRoute', (r: RouteOptions) => void seen.routes.push(r))
    return app
  }, real)
  return { ...mod, default: wrapped }
})

const BODIES = Number(process.env.FUZZ_BODIES ?? 1000)
const SEED = Number(process.env.FUZZ_SEED ?? 15_002)
const BODY_LIMIT = 64 * 1024
const WRONG_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx', 'text/json', '']

/**
 * Known values for some fields, as fuzzers' dictionaries do: a real model (asks reach the pipeline),
 * taken usernames and weak passwords (refused before the ~2 s password hash, so 1000 bodies per
 * route fit the CI budget; one body in a hundred keeps its generated values).
 */
const DICTIONARY: Record<string, unknown[]> = {
  model: ['demo'],
  username: [ADMIN.username, 'fuzz-victim'],
  password: ['password', '12345678', 'aaaaaaaaaaaa', 'short'],
}

function withDictionary(payload: string, i: number): string {
  const body = JSON.parse(payload) as unknown
  if (!body || typeof body !== 'object' || Array.isArray(body) || i % 100 === 0)
    return payload
  const out: Record<string, unknown> = { ...body }
  for (const key of Object.keys(out)) {
    const values = DICTIONARY[key]
    if (values)
      out[key] = values[i % values.length]
  }
  return JSON.stringify(out)
}

interface JsonRoute { method: string, url: string, body: Record<string, any>, params?: Record<string, any> }

let t: TestApp

/**
 * A new admin session through the real session service, signed as the login route signs it (the
 * fuzzed login route soon throttles this IP, as it should).
 */
async function adminSession(): Promise<TestSession> {
  const user = await t.app.db.user.findUniqueOrThrow({ where: { username: ADMIN.username } })
  const session = await t.app.sessions.start(user.id, { ip: '127.0.0.1', userAgent: 'fuzz' })
  const token = t.app.jwt.sign({ sub: String(user.id), sid: session.id, iat: Math.floor(session.createdAt.getTime() / 1000), exp: Math.floor(session.expiresAt.getTime() / 1000) })
  return { cookie: `cws_session=${token}`, token, user: { id: user.id, username: user.username } as TestSession['user'] }
}

let admin: TestSession
let relogins = 0
/** Known ids, so that some requests reach a real row (a member to change, a conversation). */
const known: Record<string, unknown[]> = {}
const fiveXx: string[] = []

async function send(r: JsonRoute, url: string, payload: string, contentType = 'application/json'): Promise<number> {
  const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {}
  let res = await injectAs(t.app, admin, { method: r.method as 'POST', url, payload, headers })
  // A generated body may end the admin's sessions (a password reset, …): log in again and go on.
  if (res.statusCode === 401 && r.url !== '/api/auth/login') {
    relogins++
    admin = await adminSession()
    res = await injectAs(t.app, admin, { method: r.method as 'POST', url, payload, headers })
  }
  if (res.statusCode >= 500 && process.env.FUZZ_VERBOSE)
    console.log(`5xx body: ${r.method} ${url} ${payload}`)
  if (res.statusCode >= 500)
    fiveXx.push(`${r.method} ${url} ${contentType} ${payload.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 200)}`)
  return res.statusCode
}

function urlFor(r: JsonRoute, i: number): string {
  return r.url.replace(/:(\w+)/g, (_, name: string) => {
    const values = known[name] ?? []
    const generated = fc.sample(validArb(r.params?.properties?.[name] ?? { type: 'string' }), { numRuns: 1, seed: SEED + i })[0]
    return encodeURIComponent(String(i % 3 && values.length ? values[i % values.length] : generated))
  })
}

function jsonRoutes(): JsonRoute[] {
  const out: JsonRoute[] = []
  for (const r of seen.routes) {
    const body = r.schema?.body as Record<string, any> | undefined
    if (!body || !r.url.startsWith('/api/'))
      continue
    for (const method of ([] as string[]).concat(r.method))
      out.push({ method, url: r.url, body, params: r.schema?.params as Record<string, any> | undefined })
  }
  // The upstream settings last: what they save changes where later asks go.
  return out.sort((a, b) => Number(a.url.includes('/settings/')) - Number(b.url.includes('/settings/')))
}

beforeAll(async () => {
  t = await buildTestApp({
    server: { body_limit: BODY_LIMIT },
    upstreams: [{ id: 'demo', type: 'demo', speed: 1_000_000, first_token_ms: 0, models: [{ key: 'demo', name: 'Demo', slug: 'demo' }] }],
  })
  admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
  const victim = await createUser(t.app, { username: 'fuzz-victim' })
  const ask = await injectAs(t.app, admin, { method: 'POST', url: '/api/chat', payload: { model: 'demo', content: 'hello' } })
  const conversationId = /"conversationId":"([^"]+)"/.exec(ask.body)?.[1]
  known.id = [victim.user.id, conversationId]
  known.upstreamId = ['demo']
  known.accountId = ['default']
})
afterAll(() => t?.close())

describe('fuzz', () => {
  it('finds the JSON routes as the app registers them', () => {
    const routes = jsonRoutes()
    const keys = routes.map(r => `${r.method} ${r.url}`)
    expect(keys).toContain('POST /api/chat')
    expect(keys).toContain('POST /api/auth/login')
    expect(keys).toContain('PUT /api/admin/settings/upstreams')
    expect(routes.length).toBeGreaterThanOrEqual(10)
  })

  it(`≥ ${BODIES} generated bodies per JSON route from its own schema → 0 × 5xx`, async () => {
    const routes = jsonRoutes().filter(r => !process.env.FUZZ_ROUTE || r.url === process.env.FUZZ_ROUTE)
    const statuses = new Map<number, number>()
    let sent = 0
    for (const r of routes) {
      const bodies = fc.sample(bodyArb(r.body), { numRuns: BODIES, seed: SEED }).map(withDictionary)
      const t0 = performance.now()
      const mine = new Map<number, number>()
      for (const [i, payload] of bodies.entries()) {
        const t1 = performance.now()
        const status = await send(r, urlFor(r, i), payload)
        if (process.env.FUZZ_VERBOSE && performance.now() - t1 > 100)
          console.log(`slow ${status} ${Math.round(performance.now() - t1)} ms ${payload.slice(0, 100)}`)
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
        mine.set(status, (mine.get(status) ?? 0) + 1)
        sent++
      }
      if (process.env.FUZZ_VERBOSE)
        console.log(`${r.method} ${r.url}: ${Math.round(performance.now() - t0)} ms, ${[...mine].map(([s, n]) => `${s}×${n}`).join(' ')}`)
    }
    const byStatus = [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')
    console.log(`fuzz: ${routes.length} routes × ${BODIES} bodies (seed ${SEED}), ${fiveXx.length} × 5xx; statuses ${byStatus}; ${relogins} re-logins`)
    expect(sent).toBe(routes.length * BODIES)
    expect(fiveXx.slice(0, 5)).toEqual([])
    // Some bodies got through validation (the schemas were really used), most were refused.
    expect([...statuses.keys()].some(s => s < 300)).toBe(true)
  })

  it('wrong content types → 415 (or another 4xx), never 5xx', async () => {
    let n = 0
    for (const r of jsonRoutes()) {
      const payload = JSON.stringify(fc.sample(validArb(r.body), { numRuns: 1, seed: SEED })[0])
      for (const type of WRONG_TYPES) {
        const status = await send(r, urlFor(r, 1), payload, type)
        expect(status, `${r.method} ${r.url} as ${type || '(none)'}`).toBeGreaterThanOrEqual(400)
        expect(status).toBeLessThan(500)
        n++
      }
    }
    console.log(`fuzz: ${n} requests with a wrong content type, ${fiveXx.length} × 5xx`)
    expect(fiveXx).toEqual([])
  })

  it('proto-poisoning (__proto__, constructor.prototype), at the top or inside a valid body → 400, nothing polluted', async () => {
    let n = 0
    for (const r of jsonRoutes()) {
      const valid = JSON.stringify(fc.sample(validArb(r.body), { numRuns: 1, seed: SEED })[0])
      const poisoned = [
        '{"__proto__":{"polluted":"yes","role":"admin"}}',
        '{"constructor":{"prototype":{"polluted":"yes"}}}',
        valid.startsWith('{') && valid !== '{}' ? `{"__proto__":{"polluted":"yes"},${valid.slice(1)}` : '{"a":{"__proto__":{"polluted":"yes"}}}',
        valid.startsWith('{') && valid !== '{}' ? `{"x":{"constructor":{"prototype":{"polluted":"yes"}}},${valid.slice(1)}` : '[{"constructor":{"prototype":{"polluted":"yes"}}}]',
      ]
      for (const payload of poisoned) {
        expect(await send(r, urlFor(r, 1), payload), `${r.method} ${r.url} ${payload}`).toBe(400)
        n++
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    console.log(`fuzz: ${n} proto-poisoning bodies, all 400, nothing polluted`)
  })

  it(`bodies over the limit (${BODY_LIMIT} bytes) → 413`, async () => {
    const big = JSON.stringify({ content: 'x'.repeat(BODY_LIMIT) })
    let n = 0
    for (const r of jsonRoutes()) {
      expect(await send(r, urlFor(r, 1), big), `${r.method} ${r.url}`).toBe(413)
      n++
    }
    console.log(`fuzz: ${n} routes refuse a body over the limit with 413`)
  })

  it('huge headers over a real port → 431 or a 4xx, never 5xx; the server keeps answering', async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = t.app.server.address() as { port: number }
    const raw = (headers: Record<string, string>, method = 'POST', path = '/api/chat'): Promise<number> => new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers: { ...(method === 'GET' ? {} : { 'content-type': 'application/json' }), ...headers } }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      // Refusing a request by closing the connection is fine too (Node does, for headers over its limit).
      req.on('error', err => (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(0) : reject(err))
      req.end(method === 'GET' ? undefined : '{}')
    })
    const many = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`x-h${i}`, 'v'.repeat(20)]))
    const results = {
      'one 64 KB header': await raw({ 'x-big': 'a'.repeat(64 * 1024) }),
      'a 15 KB cookie': await raw({ cookie: `cws_session=${'b'.repeat(15 * 1024)}` }),
      'a 15 KB bearer token': await raw({ authorization: `Bearer ${'c'.repeat(15 * 1024)}` }),
      '400 headers': await raw(many),
      'a 15 KB Origin': await raw({ origin: `http://${'d'.repeat(15 * 1024)}.example` }),
    }
    expect([431, 0]).toContain(results['one 64 KB header'])
    for (const [what, status] of Object.entries(results))
      expect(status, what).toBeLessThan(500)
    expect(await raw({}, 'GET', '/api/health')).toBe(200)
    console.log(`fuzz: huge headers → ${Object.entries(results).map(([k, v]) => `${k} ${v || 'connection closed'}`).join(', ')}`)
  })
})
