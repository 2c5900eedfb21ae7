import type { AddressInfo, Socket } from 'node:net'
import type { ListeningApp } from './chat.helpers.js'
import type { FakeUpstream } from './fake-upstream/server.js'
import { rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { request } from 'undici'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { privateRange } from '../src/modules/upstreams/egress-guard.js'
import { accountDispatcher } from '../src/modules/upstreams/proxy.js'
import { api, members, open, startApp } from './chat.helpers.js'
import { startFakeUpstream } from './fake-upstream/server.js'
import { ADMIN, loginAs, tempDataDir } from './helper.js'

/** SSRF: upstreams saved from the dashboard may not reach this machine or private networks (issue #15 §4). */
describe('egress guard of dashboard upstreams', () => {
  let fake: FakeUpstream
  let dataDir: string
  let t: ListeningApp | undefined

  const model = { key: 'gpt', name: 'GPT', slug: 'gpt-4o-mini' }
  const boot = (allow: boolean) => startApp({
    network: { allow_private_upstreams: allow },
    // The operator's own upstream on this machine: config-file upstreams are never restricted.
    upstreams: [{ id: 'local', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, models: [{ key: 'local', name: 'Local', slug: 'gpt-4o-mini' }] }],
  }, { dataDir })
  const saveDashboard = async (app: ListeningApp, baseUrl: string) => {
    const admin = await loginAs(app.app, ADMIN.username, ADMIN.password)
    return api(app.base, admin, 'PUT', '/api/admin/settings/upstreams', {
      upstreams: [{ id: 'dash', type: 'openai', baseUrl, credential: fake.apiKey, models: [model] }],
    })
  }
  const ask = async (app: ListeningApp, modelKey: string) => {
    const [alice] = await members(app.app, [`m${Math.random().toString(36).slice(2, 8)}`])
    const s = await open(app.base, alice!, { model: modelKey, content: 'hello' })
    await s.done
    return s.events.at(-1)!
  }
  const chatCalls = () => fake.requests.filter(r => r.path.includes('chat/completions')).length

  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  beforeEach(() => {
    fake.reset()
    dataDir = tempDataDir()
  })
  afterEach(async () => {
    await t?.close()
    t = undefined
    rmSync(dataDir, { recursive: true, force: true })
  })
  afterAll(async () => {
    await fake?.close()
  })

  it('lets config-file upstreams reach 127.0.0.1 (the operator\'s) while the dashboard may not', async () => {
    t = await boot(false)
    expect(await ask(t, 'local')).toMatchObject({ event: 'done' })
    expect(chatCalls()).toBe(1)
  })

  it('refuses at save time a dashboard upstream on 127.0.0.1, [::1], localhost or the metadata address, with the hint to allow it', async () => {
    t = await boot(false)
    const port = new URL(fake.openaiBaseUrl).port
    for (const host of ['127.0.0.1', '[::1]', 'localhost', '169.254.169.254', '10.1.2.3', '[::ffff:127.0.0.1]']) {
      const res = await saveDashboard(t, `http://${host}:${port}/v1`)
      expect(res.status, host).toBe(400)
      expect(res.json.code).toBe('UPSTREAM_ADDRESS_PRIVATE')
      expect(res.json.message).toContain('set network.allow_private_upstreams: true in config.yaml if this is your own reverse proxy')
    }
    // Nothing was saved: the config's upstream is still in effect.
    const admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    expect((await api(t.base, admin, 'GET', '/api/admin/settings/upstreams')).json.source).toBe('config')
  })

  it('refuses at save time an outbound proxy on this machine, without repeating its password', async () => {
    t = await boot(false)
    const admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    const res = await api(t.base, admin, 'PUT', '/api/admin/settings/upstreams', {
      upstreams: [{ id: 'dash', type: 'openai', baseUrl: 'http://93.184.216.34/v1', proxy: 'http://user:proxy-pass-0451@127.0.0.1:3128', credential: fake.apiKey, models: [model] }],
    })
    expect(res.status).toBe(400)
    expect(res.json.code).toBe('UPSTREAM_ADDRESS_PRIVATE')
    expect(res.json.message).toContain('its proxy host')
    expect(JSON.stringify(res.json)).not.toContain('proxy-pass-0451')
  })

  it('checks again at connect time: a saved list on 127.0.0.1 fails with a clear UPSTREAM error and never reaches it once private addresses are no longer allowed', async () => {
    // Saved while the operator allowed private upstreams: it answers.
    t = await boot(true)
    expect((await saveDashboard(t, fake.openaiBaseUrl)).status).toBe(200)
    expect(await ask(t, 'gpt')).toMatchObject({ event: 'done' })
    expect(chatCalls()).toBe(1)
    await t.close()
    // The same stored list after a restart without the permission: no save-time check ran, the connection is refused.
    fake.reset()
    t = await boot(false)
    const end = await ask(t, 'gpt')
    expect(end).toMatchObject({ event: 'error', data: { code: 'UPSTREAM_UNAVAILABLE' } })
    expect(chatCalls()).toBe(0)
    expect(fake.requests).toEqual([])
    // The admin's test-connection call goes through the same guard, and says why (members only see "cannot be reached").
    const admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    const test = await api(t.base, admin, 'POST', '/api/admin/upstreams/dash/accounts/default/test', {})
    expect(test.json.ok).toBe(false)
    expect(test.json.message).toMatch(/refused to connect to 127\.0\.0\.1, a loopback address .*set network\.allow_private_upstreams: true/)
    expect(fake.requests).toEqual([])
  })
})

describe('egress guard through an outbound proxy', () => {
  let proxy: ReturnType<typeof createServer>
  let connections = 0
  const sockets = new Set<Socket>()
  beforeAll(async () => {
    proxy = createServer((s) => {
      connections++
      sockets.add(s)
      s.destroy()
    })
    await new Promise<void>(r => proxy.listen(0, '127.0.0.1', r))
  })
  afterAll(async () => {
    await new Promise(r => proxy.close(r))
  })

  for (const scheme of ['http', 'socks5', 'socks5h']) {
    it(`refuses a ${scheme} proxy on 127.0.0.1 for a guarded upstream before connecting to it`, async () => {
      const { port } = proxy.address() as AddressInfo
      connections = 0
      const d = accountDispatcher(`${scheme}://127.0.0.1:${port}`, { timeout_seconds: 5 }, true)!
      const err = await request('http://93.184.216.34/', { dispatcher: d }).then(() => undefined, (e: unknown) => e as { code?: string, message: string })
      await d.close()
      expect(err?.code).toBe('ERR_EGRESS_REFUSED')
      expect(err?.message).toContain('127.0.0.1, a loopback address')
      expect(connections).toBe(0)
    })
  }
})

describe('privateRange', () => {
  it('classifies the ranges the issue names as private, public unicast as public', () => {
    const blocked = ['127.0.0.1', '::1', '0.0.0.0', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '169.254.169.254', 'fc00::1', 'fd12::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '64:ff9b::7f00:1']
    const open = ['8.8.8.8', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8']
    expect(blocked.filter(a => !privateRange(a))).toEqual([])
    expect(open.filter(a => privateRange(a))).toEqual([])
  })
})
