/**
 * Canary (issue #15 §2): the real built server runs with canary credentials — an access token, an
 * API key, a session token, an outbound proxy's password and a secret in the alert webhook's URL —
 * on fake upstreams that echo the credential they were sent in their error bodies. Every route
 * family is driven (auth, chat streams and their errors, re-attaching, the admin's settings,
 * upstreams, accounts and their test connection, the live log, conversations, stats, the ask log),
 * every response body and SSE frame is kept, and then those, the server's output and the built SPA
 * are searched: 0 hits. An API key typed into the dashboard is used and then reverted. In the data
 * dir, the credentials are only where they are meant to be: config.yaml (the operator's file) and the
 * session token in the `account-tokens` setting; checked cell by cell and in the raw database file
 * (no copy left in freed pages, none of the reverted key).
 */
import type { Server } from 'node:http'
import type { FakeUpstream } from '../fake-upstream/server.js'
import type { RealServer } from './real-server.js'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { createProxy } from 'proxy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeUpstream } from '../fake-upstream/server.js'
import { BACKEND, loginReal, SOAK_ADMIN, startRealServer } from './real-server.js'

const tag = randomBytes(6).toString('hex')
const CANARY = {
  accessToken: `canaryAT${tag}`,
  apiKey: `sk-canaryAK${tag}`,
  sessionToken: `canaryST${tag}`,
  proxyPassword: `canaryPW${tag}`,
  webhookSecret: `canaryWH${tag}`,
  /** Typed into the dashboard (an API key saved, used, then reverted): stored only while it is in use. */
  dashboardKey: `sk-canaryDK${tag}`,
}
/** The ones the operator put in config.yaml (the data dir's config file holds exactly these). */
const IN_CONFIG = ['accessToken', 'apiKey', 'sessionToken', 'proxyPassword', 'webhookSecret']
/** Any of them, also as they would look base64-encoded in a Basic header. */
const NEEDLES = Object.entries(CANARY).flatMap(([k, v]) => [[k, v], [`${k} (base64)`, Buffer.from(`u:${v}`).toString('base64').slice(4, 20)]])

function hits(text: string): string[] {
  return NEEDLES.filter(([, v]) => text.includes(v!)).map(([k]) => k!)
}

/** Every cell of every table of the database that holds a canary, as `Table.column[row key]: canary`. */
function dbCellHits(file: string): string[] {
  const db = new Database(file, { readonly: true })
  try {
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map(t => t.name)
    return tables.flatMap(table => (db.prepare(`SELECT * FROM "${table}"`).all() as Array<Record<string, unknown>>).flatMap((row) => {
      const key = row.key ?? row.id ?? '?'
      return Object.entries(row).flatMap(([col, v]) => hits(String(v)).map(h => `${table}.${col}[${String(key)}]: ${h}`))
    }))
  }
  finally {
    db.close()
  }
}

let fake: FakeUpstream
let proxy: Server
let hook: Server
let server: RealServer
let dataDir: string
const captured: Array<{ what: string, body: string }> = []
let webhooks = 0

function listen(s: Server): Promise<number> {
  return new Promise(resolve => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)))
}

beforeAll(async () => {
  fake = await startFakeUpstream({ accessToken: CANARY.accessToken, apiKey: CANARY.apiKey })
  fake.sessions.set(CANARY.sessionToken, { ttlSeconds: 3600 })
  proxy = createProxy(createServer())
  const proxyPort = await listen(proxy)
  hook = createServer((req, res) => {
    webhooks++
    req.resume()
    res.end('ok')
  })
  const hookPort = await listen(hook)
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'cws-soak-canary-'))
  const model = (key: string) => [{ key, name: key, slug: 'gpt-4o' }]
  server = await startRealServer(dataDir, {
    // The fakes listen on 127.0.0.1, and the dashboard saves an upstream there.
    network: { allow_private_upstreams: true },
    alerts: { webhook_url: `http://127.0.0.1:${hookPort}/hook?token=${CANARY.webhookSecret}` },
    upstreams: [
      { id: 'web', type: 'chatgpt-web', base_url: fake.chatgptBaseUrl, access_token: CANARY.accessToken, models: model('web') },
      { id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: CANARY.apiKey, proxy: `http://u:${CANARY.proxyPassword}@127.0.0.1:${proxyPort}`, models: model('api') },
      { id: 'sess', type: 'chatgpt-web', base_url: fake.chatgptBaseUrl, session_token: CANARY.sessionToken, session_url: `${fake.url}/api/auth/session`, models: model('sess') },
    ],
  }, { CWS_LOG__LEVEL: 'debug', CWS_LOG__FILE: 'true' })
})
afterAll(async () => {
  await server?.stop()
  await fake?.close()
  proxy?.close()
  hook?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

/** One request; its whole body (JSON or a stream read to its end, or for `ms`) is kept. */
async function call(cookie: string, method: string, url: string, body?: unknown, ms = 20_000): Promise<{ status: number, text: string }> {
  const res = await fetch(`${server.url}${url}`, {
    method,
    headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(ms),
  })
  let text = ''
  try {
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    while (true) {
      const { value, done } = await reader.read()
      if (done)
        break
      text += decoder.decode(value, { stream: true })
    }
  }
  catch {
    // the time given to a live stream ran out
  }
  captured.push({ what: `${method} ${url} → ${res.status}`, body: `${JSON.stringify(Object.fromEntries(res.headers))}\n${text}` })
  return { status: res.status, text }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f)
    return statSync(p).isDirectory() ? filesUnder(p) : [p]
  })
}

describe('canary', () => {
  it('no canary credential in any response, SSE frame, log line, database file or the bundle', async () => {
    const admin = (await loginReal(server.url, SOAK_ADMIN.username, SOAK_ADMIN.password)).cookie
    // The live log, open while everything else happens.
    const liveLog = call(admin, 'GET', '/api/admin/logs/stream', undefined, 15_000)

    // Chat on every upstream: answers, and every way an upstream fails (their bodies carry the credential).
    const prompts = ['hello', '[[fake: status=500]] x', '[[fake: status=401]] x', '[[fake: status=403]] x', '[[fake: errorAfter=2]] x', '[[fake: resetAfter=2]] x', '[[fake: json=true]] x', '[[fake: status=429, retryAfter=1]] x']
    const ids: string[] = []
    for (const model of ['web', 'api', 'sess']) {
      for (const content of prompts) {
        const { text } = await call(admin, 'POST', '/api/chat', { model, content })
        const id = /"requestId":"([^"]+)"/.exec(text)?.[1]
        if (id)
          ids.push(id)
      }
    }
    for (const id of ids.slice(0, 6))
      await call(admin, 'GET', `/api/chat/${id}/events`, undefined, 3000)
    // Bad input of every kind on the chat route.
    await call(admin, 'POST', '/api/chat', { model: 'nope', content: 'x' })
    await call(admin, 'POST', '/api/chat', { model: 'web', content: '' })

    // Admin: settings, upstreams, accounts, their test connection, alerts, stats, the ask log, conversations.
    const settings = await call(admin, 'GET', '/api/admin/settings/upstreams')
    // Saved back as the dashboard does: the write-only credentials omitted (kept as they are).
    const asInput = (u: { id: string, type: string, baseUrl: string, models: unknown[] }) => ({ id: u.id, type: u.type, baseUrl: u.baseUrl, models: u.models })
    const upstreams = JSON.parse(settings.text).upstreams.map(asInput) as Array<ReturnType<typeof asInput>>
    expect((await call(admin, 'PUT', '/api/admin/settings/upstreams', { upstreams })).status).toBe(200)
    await call(admin, 'PUT', '/api/admin/settings/upstreams', { upstreams: [{ id: 'web', type: 'chatgpt-web', baseUrl: 'not a url', models: [] }] })
    await call(admin, 'GET', '/api/admin/settings/upstreams')
    // An API key typed into the dashboard: used (the fake refuses it and echoes it), then reverted.
    const withKey = upstreams.map(u => u.id === 'api' ? { ...u, credential: CANARY.dashboardKey } : u)
    const saved = await call(admin, 'PUT', '/api/admin/settings/upstreams', { upstreams: withKey })
    expect(saved.status).toBe(200)
    await call(admin, 'POST', '/api/chat', { model: 'api', content: 'with the dashboard key' })
    await call(admin, 'GET', '/api/admin/settings/upstreams')
    const accounts = await call(admin, 'GET', '/api/admin/upstreams/accounts')
    for (const [upstream, account] of [['web', 'default'], ['api', 'default'], ['sess', 'default']])
      await call(admin, 'POST', `/api/admin/upstreams/${upstream}/accounts/${account}/test`, {})
    expect(accounts.status).toBe(200)
    for (const url of ['/api/admin/upstreams/alerts', '/api/admin/stats', '/api/admin/stats/members', '/api/admin/stats/meta', '/api/admin/asks', '/api/admin/conversations', '/api/admin/logs/recent', '/api/admin/users', '/api/status', '/api/models', '/api/me', '/api/auth/sessions'])
      await call(admin, 'GET', url)
    const conversations = JSON.parse((await call(admin, 'GET', '/api/conversations')).text)
    for (const c of (conversations.items ?? conversations.conversations ?? []).slice(0, 10)) {
      await call(admin, 'GET', `/api/conversations/${c.id}`)
      await call(admin, 'GET', `/api/admin/conversations/${c.id}`)
    }
    await liveLog
    expect((await call(admin, 'DELETE', '/api/admin/settings/upstreams')).status).toBeLessThan(300)
    await call(admin, 'POST', '/api/auth/logout', {})
    // Let the alert webhook fire (account states are compared every 2 s).
    await new Promise(r => setTimeout(r, 4500))
    await server.stop()

    const responseHits = captured.flatMap(c => hits(c.body).map(h => `${c.what}: ${h}`))
    const frames = captured.reduce((n, c) => n + (c.body.match(/^event: /gm)?.length ?? 0), 0)
    const logHits = hits(server.output())
    const dbFiles = filesUnder(dataDir)
    const fileHits = dbFiles.flatMap(f => hits(readFileSync(f).toString('latin1')).map(h => `${path.basename(f)}: ${h}`))
    const cellHits = dbCellHits(path.join(dataDir, 'cws.db'))
    const dist = path.join(BACKEND, '../frontend/dist')
    const bundle = filesUnder(dist)
    const bundleHits = bundle.flatMap(f => hits(readFileSync(f).toString('latin1')).map(h => `${path.relative(dist, f)}: ${h}`))
    // The fake did get the credentials (so they were in play), and did put them in its error bodies.
    const upstreamSaw = fake.requests.filter(r => String(r.headers.authorization ?? '').includes(tag)).length
    const dashboardKeySent = fake.requests.filter(r => String(r.headers.authorization ?? '').includes(CANARY.dashboardKey)).length

    console.log(`canary: ${captured.length} responses (${frames} SSE frames), ${server.output().length} bytes of server output, ${dbFiles.length} data-dir files (${dbFiles.map(f => path.basename(f)).join(', ')}), ${bundle.length} bundle files: ${responseHits.length + logHits.length + bundleHits.length} hits in responses, output and bundle; the upstream was sent a canary ${upstreamSaw} times, the webhook called ${webhooks} times; in the data dir: ${JSON.stringify(fileHits)}; database cells: ${JSON.stringify(cellHits)}`)
    expect(upstreamSaw).toBeGreaterThan(10)
    expect(dashboardKeySent).toBeGreaterThan(0)
    expect(webhooks).toBeGreaterThan(0)
    expect(responseHits).toEqual([])
    expect(logHits).toEqual([])
    expect(bundleHits).toEqual([])
    // Where credentials are meant to be: the operator's config.yaml (what it was given), and the
    // session token in the database's `account-tokens` setting (kept so a restart can refresh the
    // access token). Nothing else — not the dashboard's key after its revert (secure_delete + VACUUM).
    expect(fileHits.sort()).toEqual([...IN_CONFIG.map(k => `config.yaml: ${k}`), `cws.db: sessionToken`].sort())
    expect(cellHits).toEqual(['Setting.value[account-tokens]: sessionToken'])
    const db = new Database(path.join(dataDir, 'cws.db'), { readonly: true })
    const stored = JSON.parse((db.prepare(`SELECT value FROM "Setting" WHERE key = 'account-tokens'`).get() as { value: string }).value) as Record<string, { sessionToken?: string, accessToken: string }>
    db.close()
    expect(Object.entries(stored).filter(([, t]) => t.sessionToken === CANARY.sessionToken).map(([k]) => k)).toEqual(['sess/default'])
    expect(Object.values(stored).some(t => hits(t.accessToken).length > 0)).toBe(false)
  })
})
