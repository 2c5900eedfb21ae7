/**
 * The dashboard's accounts editor (`PUT /api/admin/settings/upstreams` with `accounts`, `proxy`,
 * `pacing`, caps, fallbacks, `capShare`): credentials write-only (never in a response or a log), a
 * stored credential never follows a base URL to another origin, and a saved account joins the pool
 * at once. Real HTTP on a port, a real SQLite file, the fake upstream telling accounts apart by token.
 */
import type { ListeningApp } from './chat.helpers.js'
import type { FakeUpstream } from './fake-upstream/server.js'
import type { TestSession } from './helper.js'
import { rmSync } from 'node:fs'
import { Writable } from 'node:stream'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { parseConfig } from '../src/config/load.js'
import { createLogger, LogRing } from '../src/lib/logger.js'
import { api, members, open, startApp } from './chat.helpers.js'
import { fakeJwt, startFakeUpstream } from './fake-upstream/server.js'
import { ADMIN, injectAs, loginAs, tempDataDir } from './helper.js'

const KEY_A = 'sk-settings-account-a-0001'
const KEY_B = 'sk-settings-account-b-0002'
const PROXY_SECRET = 'proxy-pass-0451'
const SESSION = 'session-token-never-shown-77'
const TEAM_ID = 'team-account-id-never-shown'

const models = [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini', fallback: 'gpt-small' }, { key: 'gpt-small', name: 'GPT small', slug: 'gpt-4o-mini' }]

function tokensUsed(fake: FakeUpstream, from: number): string[] {
  return fake.requests.slice(from).filter(r => r.path.endsWith('/chat/completions')).map(r => String(r.headers.authorization).slice(7))
}

describe('the accounts editor', () => {
  let fake: FakeUpstream
  let dataDir: string
  let t: ListeningApp
  let admin: TestSession
  let alice: TestSession
  const secrets = () => [KEY_A, KEY_B, PROXY_SECRET, SESSION, TEAM_ID, fake.accessToken]
  const leaked = (body: unknown) => secrets().filter(s => JSON.stringify(body).includes(s))
  const put = (upstreams: unknown[]) => api(t.base, admin, 'PUT', '/api/admin/settings/upstreams', { upstreams })
  const api0 = () => ({ id: 'api', type: 'openai', baseUrl: fake.openaiBaseUrl, concurrency: 1, models })
  const inEffect = (id: string) => t.app.upstreams.list().find(u => u.id === id)!

  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  beforeEach(async () => {
    fake.reset()
    fake.accepted.add(KEY_A)
    fake.accepted.add(KEY_B)
    dataDir = tempDataDir()
    // The fakes and proxies are on 127.0.0.1: allowed by the operator (egress.test.ts).
    t = await startApp({ network: { allow_private_upstreams: true }, upstreams: [{ id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, concurrency: 1, models, accounts: [{ id: 'a', api_key: KEY_A }] }] }, { dataDir })
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    ;[alice] = await members(t.app, ['alice']) as [TestSession]
  })
  afterEach(async () => {
    await t?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })
  afterAll(async () => {
    await fake?.close()
  })

  it('saves accounts, caps, pacing, proxies, fallbacks and cap sharing; shows them without any secret', async () => {
    const saved = await put([{
      ...api0(),
      proxy: `http://user:${PROXY_SECRET}@127.0.0.1:3128`,
      pacing: { minGapSeconds: 0 },
      capShare: { mode: 'weight', belowPercent: 40 },
      accounts: [
        { id: 'a', concurrency: 2, caps: { gpt: { asks: 80, hours: 3 } }, pacing: { perMinute: 30, jitterSeconds: 1.5 } },
        { id: 'b', credential: KEY_B, enabled: false, proxy: `socks5://u:${PROXY_SECRET}@127.0.0.1:1080` },
      ],
    }])
    expect(saved.status, JSON.stringify(saved.json)).toBe(200)
    expect(leaked(saved.json)).toEqual([])
    expect(saved.json.upstreams[0]).toMatchObject({
      id: 'api',
      credentialSet: false,
      proxy: 'http://127.0.0.1:3128',
      pacing: { minGapSeconds: 0 },
      capShare: { mode: 'weight', belowPercent: 40 },
      models: [{ key: 'gpt', fallback: 'gpt-small' }, { key: 'gpt-small' }],
      accounts: [
        { id: 'a', credentialSet: true, sessionTokenSet: false, accountIdSet: false, concurrency: 2, proxy: null, enabled: true, caps: { gpt: { asks: 80, hours: 3 } }, pacing: { perMinute: 30, jitterSeconds: 1.5 } },
        { id: 'b', credentialSet: true, concurrency: null, proxy: 'socks5://127.0.0.1:1080', enabled: false, caps: {}, pacing: null },
      ],
    })
    // What is in effect: the stored key of `a` kept (none was typed), the typed key of `b`, the real proxy URLs.
    expect(inEffect('api')).toMatchObject({
      proxy: `http://user:${PROXY_SECRET}@127.0.0.1:3128`,
      cap_share: { mode: 'weight', below_percent: 40 },
      accounts: [{ id: 'a', api_key: KEY_A, caps: { gpt: { asks: 80, hours: 3 } } }, { id: 'b', api_key: KEY_B, enabled: false, proxy: `socks5://u:${PROXY_SECRET}@127.0.0.1:1080` }],
    })
    const read = await api(t.base, admin, 'GET', '/api/admin/settings/upstreams')
    expect(read.json).toEqual(saved.json)
    // The account states come from the pool, which now has both accounts.
    const states = await api(t.base, admin, 'GET', '/api/admin/upstreams/accounts')
    expect(states.json.items.map((a: any) => [a.accountId, a.state])).toEqual([['a', 'ok'], ['b', 'disabled']])

    // Sent back as the dashboard sends it (proxy omitted: kept; `null` removes the account's own proxy and the pacing).
    const again = await put([{ ...api0(), capShare: null, pacing: null, accounts: [{ id: 'a', concurrency: 2 }, { id: 'b', enabled: false, proxy: null }] }])
    expect(again.status, JSON.stringify(again.json)).toBe(200)
    expect(again.json.upstreams[0]).toMatchObject({ proxy: 'http://127.0.0.1:3128', pacing: null, capShare: null, accounts: [{ id: 'a', caps: {} }, { id: 'b', credentialSet: true, proxy: null }] })
    expect(inEffect('api').accounts![1]).toMatchObject({ id: 'b', api_key: KEY_B, enabled: false, proxy: undefined })
  })

  it('a saved new account takes asks at once (hot reload), and disabling the other moves every ask to it', async () => {
    let from = fake.requests.length
    expect((await open(t.base, alice, { model: 'gpt', content: 'first' }).then(s => s.last())).event).toBe('done')
    expect(tokensUsed(fake, from)).toEqual([KEY_A])

    expect((await put([{ ...api0(), accounts: [{ id: 'a', enabled: false }, { id: 'b', credential: KEY_B }] }])).status).toBe(200)
    from = fake.requests.length
    const ends = await Promise.all([0, 1].map(async i => (await open(t.base, alice, { model: 'gpt', content: `after ${i}` })).last()))
    expect(ends.map(e => e.event)).toEqual(['done', 'done'])
    expect(tokensUsed(fake, from)).toEqual([KEY_B, KEY_B])
  })

  it('saving the list unchanged keeps each account as it is, with its state (a refused one stays refused)', async () => {
    await t.close()
    t = await startApp({ network: { allow_private_upstreams: true }, upstreams: [{ id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, concurrency: 1, models, accounts: [{ id: 'a', api_key: KEY_A }, { api_key: 'sk-refused-by-the-fake-9', id: 'r' }] }] }, { dataDir })
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    const tested = await api(t.base, admin, 'POST', '/api/admin/upstreams/api/accounts/r/test', {})
    expect(tested.json).toMatchObject({ ok: false, account: { state: 'unauthorized' } })
    // The first save from the dashboard: the config file's list in the dashboard's form (another key order, write-only values left out).
    expect((await put([{ ...api0(), accounts: [{ id: 'a', enabled: true }, { id: 'r', enabled: true }] }])).status).toBe(200)
    const states = await api(t.base, admin, 'GET', '/api/admin/upstreams/accounts')
    expect(states.json.items.map((a: any) => [a.accountId, a.state])).toEqual([['a', 'ok'], ['r', 'unauthorized']])
  })

  it('refuses a new account without its credential, naming it, and a cap on a model the upstream does not have', async () => {
    const before = await api(t.base, admin, 'GET', '/api/admin/settings/upstreams')
    const missing = await put([{ ...api0(), accounts: [{ id: 'a' }, { id: 'b2' }] }])
    expect(missing.status).toBe(400)
    expect(missing.json.details).toEqual(['upstreams[0] (api) account b2 (accounts[1]): an API key is required'])
    const badCap = await put([{ ...api0(), accounts: [{ id: 'a', caps: { nope: { asks: 1, hours: 1 } } }] }])
    expect(badCap.status).toBe(400)
    expect(JSON.stringify(badCap.json.details)).toContain('caps.nope: not a model key of this upstream')
    const twice = await put([{ ...api0(), accounts: [{ id: 'a' }, { id: 'a', credential: KEY_B }] }])
    expect(twice.json.details.some((d: string) => d.includes('"a" is used twice in this upstream'))).toBe(true)
    const badProxy = await put([{ ...api0(), accounts: [{ id: 'a', proxy: 'ftp://x' }] }])
    expect(badProxy.status).toBe(400)
    expect(leaked([missing.json, badCap.json, twice.json, badProxy.json])).toEqual([])
    expect(await api(t.base, admin, 'GET', '/api/admin/settings/upstreams')).toEqual(before)
  })

  it('a base URL moved to another origin keeps no stored credential: every one must be entered again', async () => {
    const web = { id: 'web', type: 'chatgpt-web', baseUrl: fake.chatgptBaseUrl, models: [{ key: 'web', name: 'Web', slug: 'gpt-4o' }] }
    const token = fakeJwt({ exp: Math.floor(Date.now() / 1000) + 86_400 })
    fake.accepted.add(token)
    const first = await put([api0(), { ...web, accounts: [{ id: 'w1', credential: token, sessionToken: SESSION, accountId: TEAM_ID }, { id: 'w2', credential: fake.accessToken }] }])
    expect(first.status).toBe(200)
    expect(first.json.upstreams[1].accounts[0]).toMatchObject({ credentialSet: true, sessionTokenSet: true, accountIdSet: true })
    expect(leaked(first.json)).toEqual([])

    // Same origin, another path: everything kept.
    const samePlace = await put([api0(), { ...web, baseUrl: `${fake.chatgptBaseUrl}/`, accounts: [{ id: 'w1' }, { id: 'w2' }] }])
    expect(samePlace.json.upstreams[1].accounts[0]).toMatchObject({ credentialSet: true, sessionTokenSet: true, accountIdSet: true })

    const elsewhere = 'http://127.0.0.2:9/backend-api'
    const refused = await put([api0(), { ...web, baseUrl: elsewhere, accounts: [{ id: 'w1' }, { id: 'w2' }] }])
    expect(refused.status).toBe(400)
    expect(refused.json.details).toEqual([
      'upstreams[1] (web) account w1 (accounts[0]): the base URL moved to another host, so enter this account\'s access token (or session token) again',
      'upstreams[1] (web) account w2 (accounts[1]): the base URL moved to another host, so enter this account\'s access token (or session token) again',
    ])
    // Accounts left out entirely are named too.
    const omitted = await put([api0(), { ...web, baseUrl: elsewhere }])
    expect(omitted.json.details).toEqual(['upstreams[1] (web): the base URL moved to another host, so enter the credential of every account again (w1, w2)'])
    // The API key of the other upstream does not follow a new host either.
    const apiMoved = await put([{ ...api0(), baseUrl: 'http://127.0.0.2:9/v1', accounts: [{ id: 'a' }] }])
    expect(apiMoved.json.details).toEqual(['upstreams[0] (api) account a (accounts[0]): the base URL moved to another host, so enter this account\'s API key again'])
    expect(leaked([refused.json, omitted.json, apiMoved.json])).toEqual([])

    // Entered again: accepted, and the session token and account id stored for the old host are gone.
    const moved = await put([api0(), { ...web, baseUrl: elsewhere, accounts: [{ id: 'w1', credential: 'new-token-1' }, { id: 'w2', credential: 'new-token-2' }] }])
    expect(moved.status).toBe(200)
    expect(moved.json.upstreams[1].accounts.map((a: any) => [a.credentialSet, a.sessionTokenSet, a.accountIdSet])).toEqual([[true, false, false], [true, false, false]])
    expect(inEffect('web').accounts).toMatchObject([{ id: 'w1', access_token: 'new-token-1', session_token: undefined, account_id: undefined }, { id: 'w2', access_token: 'new-token-2' }])
  })
})

describe('the accounts editor and the logs', () => {
  it('never writes an account\'s key, session token, account id or proxy password to the log', async () => {
    const ring = new LogRing()
    const lines: string[] = []
    const sink = new Writable({
      write: (c, _e, cb) => {
        lines.push(String(c))
        cb()
      },
    })
    const dataDir = tempDataDir()
    const config = parseConfig({ network: { allow_private_upstreams: true }, log: { level: 'trace', file: false }, admin: { username: ADMIN.username, password: ADMIN.password } })
    const app = await buildApp({ config, dataDir, logger: createLogger({ level: 'trace', dataDir, file: false, ring, destination: sink }), logRing: ring })
    try {
      await app.ready()
      const admin = await loginAs(app, ADMIN.username, ADMIN.password)
      const upstream = {
        id: 'web',
        type: 'chatgpt-web',
        baseUrl: 'http://127.0.0.1:9/backend-api',
        proxy: `http://u:${PROXY_SECRET}@127.0.0.1:9`,
        models: [{ key: 'web', name: 'Web', slug: 'gpt-4o' }],
        accounts: [{ id: 'w1', credential: KEY_A, sessionToken: SESSION, accountId: TEAM_ID }],
      }
      const saved = await injectAs(app, admin, { method: 'PUT', url: '/api/admin/settings/upstreams', payload: { upstreams: [upstream] } })
      expect(saved.statusCode).toBe(200)
      const refused = await injectAs(app, admin, { method: 'PUT', url: '/api/admin/settings/upstreams', payload: { upstreams: [upstream, upstream] } })
      expect(refused.statusCode).toBe(400)
      const view = await injectAs(app, admin, { method: 'GET', url: '/api/admin/upstreams/accounts' })
      for (const body of [saved.body, refused.body, view.body]) {
        for (const s of [KEY_A, SESSION, TEAM_ID, PROXY_SECRET])
          expect(body).not.toContain(s)
      }
      expect(lines.length).toBeGreaterThan(5)
      const all = [...lines, ...ring.recent(5000)]
      expect(all.filter(l => [KEY_A, SESSION, TEAM_ID, PROXY_SECRET].some(s => l.includes(s)))).toEqual([])
    }
    finally {
      await app.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }, 30_000)
})
