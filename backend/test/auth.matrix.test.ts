import type { AddressInfo } from 'node:net'
import type { TestApp, TestSession } from './helper.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, buildTestApp, createUser, loginAs } from './helper.js'

/**
 * The auth matrix, generated from the live route table: every /api route of the whole app (later
 * modules are covered automatically) is called anonymously, as a member and as an admin over a
 * real port. Public routes are listed here on purpose: adding one is a decision a test must record.
 */
const PUBLIC = new Set(['GET /api/health', 'POST /api/auth/login'])

interface RouteEntry { method: string, url: string }

/** Parses `printRoutes({ commonPrefix: false })`: each line is a path piece below its parent. */
function routeTable(tree: string): RouteEntry[] {
  const out: RouteEntry[] = []
  const stack: string[] = []
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line)
    if (!m)
      continue
    const depth = m[1]!.length / 4
    const full = (depth > 0 ? stack[depth - 1] ?? '' : '') + m[2]!
    stack.length = depth
    stack[depth] = full
    for (const method of (m[3] ?? '').split(',').map(s => s.trim()).filter(Boolean)) {
      if (method !== 'HEAD' && method !== 'OPTIONS' && (full === '/api' || full.startsWith('/api/')))
        out.push({ method, url: full })
    }
  }
  return out
}

/** A concrete URL: every parameter becomes an id nobody owns. */
function concrete(url: string): string {
  return url.replace(/:[A-Z_]\w*/gi, '999999').replace(/\*/g, 'x')
}

interface Answer { status: number, code?: string }

describe('auth matrix over the route table', () => {
  let t: TestApp
  let base: string
  let routes: RouteEntry[]
  let admin: TestSession
  let member: TestSession
  let memberPassword: string

  /** One request over real HTTP; streams (SSE) are cut once the status is known. */
  async function call(route: RouteEntry, auth?: TestSession): Promise<Answer> {
    const ac = new AbortController()
    const timer = setTimeout(() => ac.abort(), 8000)
    try {
      const headers: Record<string, string> = {}
      if (auth)
        headers.cookie = auth.cookie
      const withBody = route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH'
      if (withBody)
        headers['content-type'] = 'application/json'
      const res = await fetch(base + concrete(route.url), { method: route.method, headers, body: withBody ? '{}' : undefined, signal: ac.signal })
      let code: string | undefined
      if ((res.headers.get('content-type') ?? '').includes('application/json'))
        code = ((await res.json()) as { code?: string }).code
      else
        await res.body?.cancel()
      return { status: res.status, code }
    }
    finally {
      clearTimeout(timer)
      ac.abort()
    }
  }

  /** After a route that ends the caller's own sessions, log in again so later calls still count. */
  const endsSession = (r: RouteEntry): boolean => r.url.startsWith('/api/auth/logout')

  beforeAll(async () => {
    t = await buildTestApp()
    await t.app.listen({ host: '127.0.0.1', port: 0 })
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`
    routes = routeTable(t.app.printRoutes({ commonPrefix: false }))
    const m = await createUser(t.app, { username: 'matrix-member' })
    memberPassword = m.password
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    member = await loginAs(t.app, 'matrix-member', memberPassword)
  })
  afterAll(() => t.close())

  it('finds the routes of this issue in the table', () => {
    const keys = routes.map(r => `${r.method} ${r.url}`)
    for (const k of ['GET /api/health', 'POST /api/auth/login', 'POST /api/auth/logout', 'GET /api/me', 'PATCH /api/me', 'GET /api/admin/users', 'POST /api/admin/users', 'GET /api/admin/users/:id', 'PATCH /api/admin/users/:id', 'DELETE /api/admin/users/:id'])
      expect(keys).toContain(k)
  })

  it('answers 401 to anonymous callers on every non-public route, and only the public ones are open', async () => {
    const open: string[] = []
    for (const r of routes) {
      const key = `${r.method} ${r.url}`
      const a = await call(r)
      if (a.status !== 401)
        open.push(`${key} → ${a.status}`)
      else
        expect(a.code, key).toMatch(/^(UNAUTHORIZED|SESSION_EXPIRED)$/)
    }
    expect(open.map(o => o.split(' → ')[0])).toEqual([...PUBLIC].filter(p => routes.some(r => `${r.method} ${r.url}` === p)))
  })

  it('answers 403 FORBIDDEN to a member on every /api/admin route, and lets them through elsewhere', async () => {
    for (const r of routes) {
      const key = `${r.method} ${r.url}`
      if (PUBLIC.has(key))
        continue
      const a = await call(r, member)
      if (endsSession(r))
        member = await loginAs(t.app, 'matrix-member', memberPassword)
      if (r.url.startsWith('/api/admin')) {
        expect(a, key).toEqual({ status: 403, code: 'FORBIDDEN' })
      }
      else {
        expect(a.status, key).not.toBe(401)
        expect(a.code ?? '', key).not.toMatch(/^(FORBIDDEN|CROSS_ORIGIN)$/)
        expect(a.status, key).toBeLessThan(500)
      }
    }
  })

  it('lets an admin through every route (never 401/403, never a 5xx)', async () => {
    for (const r of routes) {
      const key = `${r.method} ${r.url}`
      if (PUBLIC.has(key))
        continue
      const a = await call(r, admin)
      if (endsSession(r))
        admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
      expect(a.status, key).not.toBe(401)
      expect(a.status, key).not.toBe(403)
      expect(a.status, key).toBeLessThan(500)
    }
  })
})
