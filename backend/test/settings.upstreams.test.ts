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
import { startFakeUpstream } from './fake-upstream/server.js'
import { ADMIN, injectAs, loginAs, tempDataDir } from './helper.js'

/** Upstreams edited from the dashboard: hot-reloaded, kept across restarts, credentials write-only. */
describe('upstream settings', () => {
  let fake: FakeUpstream
  let dataDir: string
  let t: ListeningApp
  let admin: TestSession
  let alice: TestSession
  let bob: TestSession

  const configured = () => [
    { id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, concurrency: 1, models: [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }] },
    { id: 'web', type: 'chatgpt-web', base_url: fake.chatgptBaseUrl, access_token: fake.accessToken, models: [{ key: 'web', name: 'Web', slug: 'gpt-4o' }] },
  ]
  // The fakes are on 127.0.0.1: dashboard upstreams may reach them only with the operator's consent (egress.test.ts).
  const network = { allow_private_upstreams: true }
  const boot = () => startApp({ network, upstreams: configured() }, { dataDir })
  /** The configured list as the dashboard sends it back (no credentials: kept). */
  const asInput = () => [
    { id: 'api', type: 'openai', baseUrl: fake.openaiBaseUrl, concurrency: 1, models: [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }] },
    { id: 'web', type: 'chatgpt-web', baseUrl: fake.chatgptBaseUrl, models: [{ key: 'web', name: 'Web', slug: 'gpt-4o' }] },
  ]
  const put = (upstreams: unknown[]) => api(t.base, admin, 'PUT', '/api/admin/settings/upstreams', { upstreams })
  const secretsIn = (body: unknown) => [fake.apiKey, fake.accessToken, 'sk-rotated-by-admin'].filter(s => JSON.stringify(body).includes(s))

  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  beforeEach(async () => {
    fake.reset()
    dataDir = tempDataDir()
    t = await boot()
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    ;[alice, bob] = await members(t.app, ['alice', 'bob']) as [TestSession, TestSession]
  })
  afterEach(async () => {
    await t?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })
  afterAll(async () => {
    await fake?.close()
  })

  it('shows the configured upstreams without their credentials, only that one is set', async () => {
    const res = await api(t.base, admin, 'GET', '/api/admin/settings/upstreams')
    expect(res.status).toBe(200)
    expect(res.json).toEqual({
      source: 'config',
      updatedAt: null,
      upstreams: [
        { id: 'api', type: 'openai', baseUrl: fake.openaiBaseUrl, concurrency: 1, timeoutSeconds: 30, idleTimeoutSeconds: 120, models: [{ key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }], credentialSet: true, accountIdSet: false, sessionTokenSet: false, accounts: [], proxy: null, pacing: null, capShare: null },
        { id: 'web', type: 'chatgpt-web', baseUrl: fake.chatgptBaseUrl, concurrency: 1, timeoutSeconds: 30, idleTimeoutSeconds: 120, models: [{ key: 'web', name: 'Web', slug: 'gpt-4o' }], credentialSet: true, accountIdSet: false, sessionTokenSet: false, accounts: [], proxy: null, pacing: null, capShare: null },
      ],
    })
    expect(secretsIn(res.json)).toEqual([])
    expect((await api(t.base, alice, 'GET', '/api/admin/settings/upstreams')).status).toBe(403)
    expect((await api(t.base, alice, 'PUT', '/api/admin/settings/upstreams', { upstreams: [] })).status).toBe(403)
  })

  it('applies a saved list at once (new model usable, credentials kept when left out) and keeps it across a restart', async () => {
    const saved = await put([
      ...asInput(),
      { id: 'api2', type: 'openai', baseUrl: fake.openaiBaseUrl, credential: fake.apiKey, models: [{ key: 'gpt-fast', name: 'GPT fast', slug: 'gpt-4o-mini' }] },
    ])
    expect(saved.status).toBe(200)
    expect(saved.json.source).toBe('dashboard')
    expect(saved.json.updatedAt).toEqual(expect.any(String))
    expect(saved.json.upstreams.map((u: any) => [u.id, u.credentialSet])).toEqual([['api', true], ['web', true], ['api2', true]])
    expect(secretsIn(saved.json)).toEqual([])

    const models = await api(t.base, alice, 'GET', '/api/models')
    expect(models.json.models.map((m: any) => m.key)).toEqual(['gpt', 'web', 'gpt-fast'])
    for (const model of ['gpt-fast', 'gpt', 'web']) {
      const s = await open(t.base, alice, { model, content: `[[fake: answer=via ${model}]] hi` })
      expect(await s.last()).toMatchObject({ event: 'done' })
      expect(s.text).toBe(`via ${model}`)
    }

    await t.close()
    t = await boot()
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    const after = await api(t.base, admin, 'GET', '/api/admin/settings/upstreams')
    expect(after.json.source).toBe('dashboard')
    expect(after.json.upstreams.map((u: any) => u.id)).toEqual(['api', 'web', 'api2'])
    const [carol] = await members(t.app, ['carol'])
    const s = await open(t.base, carol!, { model: 'gpt-fast', content: '[[fake: answer=still here]] hi' })
    await s.last()
    expect(s.text).toBe('still here')
  })

  it('rotates a credential without a restart, and reverts to the config file', async () => {
    const [api0, web0] = asInput()
    expect((await put([{ ...api0, credential: 'sk-rotated-by-admin' }, web0])).status).toBe(200)
    const refused = await open(t.base, alice, { model: 'gpt', content: 'hi' })
    expect(await refused.last()).toMatchObject({ event: 'error', data: { code: 'UPSTREAM_UNAUTHORIZED' } })
    expect(fake.requests.at(-1)!.headers.authorization).toBe('Bearer sk-rotated-by-admin')

    expect((await put([{ ...api0, credential: fake.apiKey }, web0])).status).toBe(200)
    const ok = await open(t.base, alice, { model: 'gpt', content: '[[fake: answer=back]] hi' })
    expect(await ok.last()).toMatchObject({ event: 'done' })

    expect((await put([{ ...api0, credential: 'sk-rotated-by-admin' }, web0])).status).toBe(200)
    const reverted = await api(t.base, admin, 'DELETE', '/api/admin/settings/upstreams')
    expect(reverted.json).toMatchObject({ source: 'config', updatedAt: null })
    const again = await open(t.base, alice, { model: 'gpt', content: '[[fake: answer=config key]] hi' })
    expect(await again.last()).toMatchObject({ event: 'done' })
    expect(fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${fake.apiKey}`)
  })

  it('a stored credential never follows a changed base URL host: the save is refused until it is entered again', async () => {
    const [api0, web0] = asInput()
    const elsewhere = 'http://127.0.0.2:9/v1'
    const refused = await put([{ ...api0, baseUrl: elsewhere }, web0])
    expect(refused.status).toBe(400)
    expect(JSON.stringify(refused.json)).toContain('enter the API key again')
    expect(secretsIn(refused.json)).toEqual([])
    // The same host with another path keeps the key; a new host with the key entered is accepted.
    expect((await put([{ ...api0, baseUrl: `${fake.openaiBaseUrl}/` }, web0])).status).toBe(200)
    expect((await put([{ ...api0, baseUrl: elsewhere, credential: 'sk-for-the-new-host' }, web0])).status).toBe(200)
  })

  it('keeps what the dashboard does not edit (accounts, proxy, pacing) when an upstream is saved', async () => {
    await t.close()
    t = await startApp({ network, upstreams: [{ ...configured()[0], api_key: undefined, accounts: [{ id: 'k1', api_key: fake.apiKey }], pacing: { min_gap_seconds: 0 } }, configured()[1]] }, { dataDir })
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    const [api0, web0] = asInput()
    const saved = await put([{ ...api0, concurrency: 2 }, web0])
    expect(saved.status).toBe(200)
    expect(saved.json.upstreams[0]).toMatchObject({ credentialSet: false, concurrency: 2, accounts: [{ id: 'k1', credentialSet: true }], pacing: { minGapSeconds: 0 } })
    const inEffect = t.app.upstreams.list()[0]!
    expect(inEffect.accounts).toMatchObject([{ id: 'k1', api_key: fake.apiKey }])
    expect(inEffect.pacing).toEqual({ min_gap_seconds: 0 })
  })

  it('refuses an invalid list with every problem named, and changes nothing', async () => {
    const before = await api(t.base, admin, 'GET', '/api/admin/settings/upstreams')
    const [api0, web0] = asInput()
    const dupId = await put([api0, { ...web0, id: 'api' }])
    expect(dupId.status).toBe(400)
    expect(dupId.json.code).toBe('VALIDATION_FAILED')
    expect(dupId.json.message).toContain('"api" is used twice')
    const dupKey = await put([api0, { ...web0, models: [{ key: 'gpt', name: 'Again', slug: 'x' }] }])
    expect(dupKey.json.message).toContain('"gpt" is used by another model')
    const noKey = await put([api0, web0, { id: 'new', type: 'openai', models: [{ key: 'n', name: 'N', slug: 'n' }] }])
    expect(noKey.status).toBe(400)
    expect(noKey.json.details).toEqual(['upstreams[2] (new): an API key is required'])
    // Changing the type of an upstream does not carry the other type's credential over.
    const retyped = await put([{ ...api0, type: 'chatgpt-web' }, web0])
    expect(retyped.json.details).toContain('upstreams[0] (api): an access token is required')
    expect((await put([{ ...api0, models: [] }, web0])).status).toBe(400)
    expect((await put([{ ...api0, baseUrl: 'ftp://x' }, web0])).status).toBe(400)
    expect(secretsIn([dupId.json, dupKey.json, noKey.json, retyped.json])).toEqual([])
    expect(await api(t.base, admin, 'GET', '/api/admin/settings/upstreams')).toEqual(before)
  })

  it('starts on the config file\'s upstreams when the saved list is no longer valid', async () => {
    await t.app.db.setting.create({ data: { key: 'upstreams', value: JSON.stringify([{ id: 'x', type: 'openai', models: [] }]) } })
    await t.close()
    t = await boot()
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    const res = await api(t.base, admin, 'GET', '/api/admin/settings/upstreams')
    expect(res.json).toMatchObject({ source: 'config', updatedAt: null })
    expect(res.json.upstreams.map((u: any) => u.id)).toEqual(['api', 'web'])
  })

  it('removing an upstream ends the asks waiting for it (the running one finishes); more slots start waiting asks at once', async () => {
    const [carol] = await members(t.app, ['carol'])
    const running = await open(t.base, alice, { model: 'gpt', content: '[[fake: chunks=40, gapMs=50]] long one' })
    await running.waitFor('delta')
    const waiting = await open(t.base, bob, { model: 'gpt', content: 'waits' })
    await waiting.waitFor('queued')
    const [api0, web0] = asInput()
    // One more slot: the waiting ask starts now, while the first still streams.
    expect((await put([{ ...api0, concurrency: 2 }, web0])).status).toBe(200)
    await waiting.waitFor('started')
    expect(running.ended).toBe(false)
    await Promise.all([running.last(), waiting.last()])

    expect((await put([api0, web0])).status).toBe(200) // back to one slot
    const longer = await open(t.base, alice, { model: 'gpt', content: '[[fake: chunks=40, gapMs=50]] long two' })
    await longer.waitFor('delta')
    const third = await open(t.base, carol!, { model: 'gpt', content: 'third' })
    await third.waitFor('queued')
    expect((await put([web0])).status).toBe(200)
    expect(await third.last()).toMatchObject({ event: 'error', data: { code: 'UPSTREAM_UNAVAILABLE' } })
    expect(await longer.last()).toMatchObject({ event: 'done' })
    const gone = await api(t.base, alice, 'POST', '/api/chat', { model: 'gpt', content: 'gone?' })
    expect(gone).toMatchObject({ status: 400, json: { code: 'UNKNOWN_MODEL' } })
  })
})

describe('upstream settings and the logs', () => {
  it('never writes a credential to the log, on save, on a refused save, at start-up or on revert', async () => {
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
    const secret = 'sk-never-in-a-log-0123456789'
    let app = await buildApp({ config, dataDir, logger: createLogger({ level: 'trace', dataDir, file: false, ring, destination: sink }), logRing: ring })
    try {
      await app.ready()
      const admin = await loginAs(app, ADMIN.username, ADMIN.password)
      const upstream = { id: 'api', type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', models: [{ key: 'gpt', name: 'GPT', slug: 'gpt' }] }
      const saved = await injectAs(app, admin, { method: 'PUT', url: '/api/admin/settings/upstreams', payload: { upstreams: [{ ...upstream, credential: secret }] } })
      expect(saved.statusCode).toBe(200)
      const refused = await injectAs(app, admin, { method: 'PUT', url: '/api/admin/settings/upstreams', payload: { upstreams: [{ ...upstream, credential: secret }, { ...upstream, credential: secret }] } })
      expect(refused.statusCode).toBe(400)
      expect(refused.body).not.toContain(secret)
      await app.close()
      app = await buildApp({ config, dataDir, logger: createLogger({ level: 'trace', dataDir, file: false, ring, destination: sink }), logRing: ring })
      await app.ready()
      const again = await loginAs(app, ADMIN.username, ADMIN.password)
      const view = await injectAs(app, again, { method: 'GET', url: '/api/admin/settings/upstreams' })
      expect(view.json()).toMatchObject({ source: 'dashboard', upstreams: [{ id: 'api', credentialSet: true }] })
      expect(view.body).not.toContain(secret)
      expect((await injectAs(app, again, { method: 'DELETE', url: '/api/admin/settings/upstreams' })).statusCode).toBe(200)
      expect(lines.some(l => l.includes('upstreams saved from the admin dashboard'))).toBe(true)
      expect(lines.length).toBeGreaterThan(10)
      expect(lines.filter(l => l.includes(secret))).toEqual([])
      expect(ring.recent(5000).filter(l => l.includes(secret))).toEqual([])
    }
    finally {
      await app.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }, 30_000)
})
