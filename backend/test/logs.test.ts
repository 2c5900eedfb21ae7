import type { AddressInfo } from 'node:net'
import type { TestApp, TestSession } from './helper.js'
import { rmSync } from 'node:fs'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { parseConfig } from '../src/config/load.js'
import { createLogger, LogRing } from '../src/lib/logger.js'
import { ADMIN, buildTestApp, createUser, injectAs, loginAs, tempDataDir } from './helper.js'

/** A pino-shaped line, as the ring receives it. */
function pinoLine(fields: Record<string, unknown>): string {
  return JSON.stringify({ level: 30, time: Date.now(), pid: 1, hostname: 'h', msg: 'hello', ...fields })
}

/** Reads SSE frames from a fetch body until `until` is satisfied or the time runs out. */
async function readFrames(body: ReadableStream<Uint8Array>, until: (text: string) => boolean, ms = 5000): Promise<string> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const deadline = Date.now() + ms
  try {
    while (!until(text) && Date.now() < deadline) {
      const r = await Promise.race([reader.read(), new Promise<null>(r => setTimeout(r, deadline - Date.now(), null))])
      if (!r || r.done)
        break
      text += decoder.decode(r.value, { stream: true })
    }
  }
  finally {
    reader.releaseLock()
  }
  return text
}

function events(text: string, name: string): Array<Record<string, unknown>> {
  return text.split('\n\n')
    .filter(f => f.startsWith(`event: ${name}\n`))
    .map(f => JSON.parse(f.split('\n').find(l => l.startsWith('data: '))!.slice(6)) as Record<string, unknown>)
}

describe('admin server log', () => {
  let t: TestApp
  let base: string
  let admin: TestSession
  let member: TestSession

  beforeAll(async () => {
    t = await buildTestApp()
    await t.app.listen({ host: '127.0.0.1', port: 0 })
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`
    const m = await createUser(t.app, { username: 'logs-member' })
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    member = await loginAs(t.app, 'logs-member', m.password)
  }, 30_000)
  afterAll(() => t.close())

  it('refuses members (403) on both routes', async () => {
    for (const url of ['/api/admin/logs/recent', '/api/admin/logs/stream']) {
      const res = await injectAs(t.app, member, { method: 'GET', url })
      expect(res.statusCode, url).toBe(403)
      expect(res.json().code).toBe('FORBIDDEN')
    }
  })

  it('gives the admin the newest lines, oldest first, with level names and no credentials', async () => {
    for (let i = 0; i < 5; i++)
      t.app.logRing.write(pinoLine({ msg: `recent-${i}`, reqId: `r${i}`, req: { method: 'GET', headers: { cookie: 'cws_session=abc', host: 'x' } }, apiKey: 'sk-1' }))
    const res = await injectAs(t.app, admin, { method: 'GET', url: '/api/admin/logs/recent?limit=3' })
    expect(res.statusCode).toBe(200)
    const items = res.json().items as Array<Record<string, any>>
    expect(items.map(l => l.msg)).toEqual(['recent-2', 'recent-3', 'recent-4'])
    expect(items[2]).toMatchObject({ level: 'info', reqId: 'r4', req: { method: 'GET', headers: { host: 'x' } } })
    expect(typeof items[2]!.time).toBe('number')
    expect(res.body).not.toContain('cws_session=abc')
    expect(res.body).not.toContain('sk-1')
  })

  it('filters by minimum level and validates the query', async () => {
    t.app.logRing.write(pinoLine({ level: 40, msg: 'a-warning' }))
    t.app.logRing.write(pinoLine({ level: 50, msg: 'an-error' }))
    t.app.logRing.write(pinoLine({ level: 20, msg: 'a-debug' }))
    const res = await injectAs(t.app, admin, { method: 'GET', url: '/api/admin/logs/recent?level=warn&limit=1000' })
    expect(res.statusCode).toBe(200)
    const items = res.json().items as Array<{ level: string, msg: string }>
    expect(items.length).toBeGreaterThanOrEqual(2)
    expect(items.every(l => l.level === 'warn' || l.level === 'error' || l.level === 'fatal')).toBe(true)
    expect(items.map(l => l.msg)).toEqual(expect.arrayContaining(['a-warning', 'an-error']))
    expect((await injectAs(t.app, admin, { method: 'GET', url: '/api/admin/logs/recent?level=loud' })).statusCode).toBe(400)
    expect((await injectAs(t.app, admin, { method: 'GET', url: '/api/admin/logs/recent?limit=1001' })).statusCode).toBe(400)
  })

  it('streams a line written after connecting, without its password field, and stops listening on close', async () => {
    const ac = new AbortController()
    const res = await fetch(`${base}/api/admin/logs/stream`, { headers: { cookie: admin.cookie }, signal: ac.signal })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(res.headers.get('cache-control')).toMatch(/no-cache/)
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    const listeners = (): number => (t.app.logRing as unknown as { listeners: Set<unknown> }).listeners.size
    expect(listeners()).toBe(1)
    t.app.logRing.write(pinoLine({ msg: 'live-line', reqId: 'live-1', password: 'hunter2', user: { newPassword: 'hunter3', name: 'bob' } }))
    const text = await readFrames(res.body!, s => s.includes('live-line'))
    const live = events(text, 'log').find(e => e.msg === 'live-line')
    expect(live).toMatchObject({ level: 'info', reqId: 'live-1', user: { name: 'bob' } })
    expect(live).not.toHaveProperty('password')
    expect(text).not.toContain('hunter')
    ac.abort()
    await expect.poll(listeners).toBe(0)
  })

  it('only streams lines at the requested level or above', async () => {
    const ac = new AbortController()
    const res = await fetch(`${base}/api/admin/logs/stream?level=error`, { headers: { cookie: admin.cookie }, signal: ac.signal })
    expect(res.status).toBe(200)
    t.app.logRing.write(pinoLine({ level: 30, msg: 'quiet-info' }))
    t.app.logRing.write(pinoLine({ level: 50, msg: 'loud-error' }))
    const text = await readFrames(res.body!, s => s.includes('loud-error'))
    ac.abort()
    expect(events(text, 'log').map(e => e.msg)).toEqual(['loud-error'])
  })
})

describe('admin server log with the real logger', () => {
  it('shows what pino wrote, and a top-level password never reaches the admin', async () => {
    const ring = new LogRing()
    const discard = new Writable({ write: (_c, _e, cb) => cb() })
    const dataDir = tempDataDir()
    const config = parseConfig({ log: { level: 'info', file: false }, admin: { username: ADMIN.username, password: ADMIN.password } })
    const logger = createLogger({ level: 'info', dataDir, file: false, ring, destination: discard })
    const app = await buildApp({ config, dataDir, logger, logRing: ring })
    try {
      await app.ready()
      const admin = await loginAs(app, ADMIN.username, ADMIN.password)
      app.log.warn({ password: 'hunter2', body: { password: 'hunter4' }, note: 'kept' }, 'real-warning')
      const res = await injectAs(app, admin, { method: 'GET', url: '/api/admin/logs/recent?limit=1000' })
      expect(res.statusCode).toBe(200)
      const items = res.json().items as Array<Record<string, unknown>>
      expect(items.find(l => l.msg === 'real-warning')).toMatchObject({ level: 'warn', note: 'kept' })
      // One line per request, when it ends: the request id, method, url, status and time.
      const line = items.find(l => l.msg === 'request completed' && (l.req as { url?: string } | undefined)?.url === '/api/auth/login')
      expect(line).toMatchObject({ reqId: expect.any(String), req: { method: 'POST' }, res: { statusCode: 200 }, responseTime: expect.any(Number) })
      expect(items.some(l => l.msg === 'incoming request')).toBe(false)
      expect(res.body).not.toContain('hunter')
      expect(res.body).not.toContain(ADMIN.password)
    }
    finally {
      await app.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }, 30_000)
})
