/**
 * Health and alerts of shared accounts, the accounts' caps as the group sees them, and pacing:
 * real HTTP, a real SQLite file, the fake upstream on 127.0.0.1, and a real webhook receiver.
 */
import type { IncomingMessage } from 'node:http'
import type { ListeningApp } from './chat.helpers.js'
import type { FakeUpstream } from './fake-upstream/server.js'
import type { TestSession } from './helper.js'
import { createServer } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api, eventually, members, open, startApp } from './chat.helpers.js'
import { startFakeUpstream } from './fake-upstream/server.js'
import { ADMIN, loginAs, tempDataDir } from './helper.js'

async function webhookReceiver() {
  const received: any[] = []
  let failFirst = 1
  const server = createServer((req: IncomingMessage, res) => {
    let body = ''
    req.on('data', (c) => {
      body += c
    })
    req.on('end', () => {
      // The first delivery fails: the alert is retried, and still arrives once.
      if (failFirst-- > 0) {
        res.writeHead(503).end()
        return
      }
      received.push(JSON.parse(body))
      res.writeHead(204).end()
    })
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port
  return { url: `http://127.0.0.1:${port}/hook`, received, close: () => new Promise<void>(r => server.close(() => r())) }
}

describe('account health, alerts and the test call', () => {
  let fake: FakeUpstream
  let hook: Awaited<ReturnType<typeof webhookReceiver>>
  let t: ListeningApp
  let admin: TestSession
  let member: TestSession
  const KEY_B = 'sk-health-account-b-77'

  beforeAll(async () => {
    fake = await startFakeUpstream()
    fake.accepted.add(KEY_B)
    hook = await webhookReceiver()
    t = await startApp({
      chat: { ping_seconds: 600, detached_grace_seconds: 0 },
      alerts: { webhook_url: hook.url },
      upstreams: [
        { id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, models: [{ key: 'gpt', name: 'GPT', slug: 'x' }], accounts: [{ id: 'a', api_key: fake.apiKey }, { id: 'b', api_key: KEY_B }] },
        { id: 'web', type: 'chatgpt-web', base_url: fake.chatgptBaseUrl, access_token: fake.accessToken, models: [{ key: 'web', name: 'Web', slug: 'gpt-4o' }] },
      ],
    })
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    ;[member] = await members(t.app, ['mia']) as [TestSession]
  })
  afterAll(async () => {
    await t?.close()
    await fake?.close()
    await hook?.close()
  })

  it('lists every account with its state and no credential; the test call reports the plan', async () => {
    const list = await api(t.base, admin, 'GET', '/api/admin/upstreams/accounts')
    expect(list.status).toBe(200)
    expect(list.json.items.map((a: any) => [a.upstreamId, a.accountId, a.state])).toEqual([['api', 'a', 'ok'], ['api', 'b', 'ok'], ['web', 'default', 'ok']])
    expect(JSON.stringify(list.json)).not.toContain(fake.apiKey)
    expect(JSON.stringify(list.json)).not.toContain(KEY_B)
    const test = await api(t.base, admin, 'POST', '/api/admin/upstreams/web/accounts/default/test', {})
    expect(test.json).toMatchObject({ ok: true, plan: 'plus', account: { state: 'ok' } })
    expect((await api(t.base, member, 'GET', '/api/admin/upstreams/accounts')).status).toBe(403)
    expect((await api(t.base, admin, 'POST', '/api/admin/upstreams/web/accounts/nope/test', {})).status).toBe(404)
  })

  it('a 401 makes the account unauthorized: one alert in the banner list, one webhook delivery (after a retry), no secret', async () => {
    fake.accepted.delete(KEY_B)
    // Asks go on on account a; the one that meets b's 401 is answered by a.
    const asks = await Promise.all([0, 1, 2].map(i => open(t.base, member, { model: 'gpt', content: `[[fake: chunks=3, gapMs=10]] q${i}` })))
    for (const s of asks) expect((await s.last()).event).toBe('done')
    const test = await api(t.base, admin, 'POST', '/api/admin/upstreams/api/accounts/b/test', {})
    expect(test.json).toMatchObject({ ok: false, account: { state: 'unauthorized' } })
    expect(test.json.message).not.toContain(KEY_B)
    await eventually(() => hook.received.length >= 1, 15_000)
    const alerts = await api(t.base, admin, 'GET', '/api/admin/upstreams/alerts')
    expect(alerts.json.items.filter((a: any) => a.accountId === 'b')).toHaveLength(1)
    expect(alerts.json.items[0]).toMatchObject({ upstreamId: 'api', accountId: 'b', state: 'unauthorized', previous: 'ok' })
    await new Promise(r => setTimeout(r, 2500)) // another check round: nothing new
    expect(hook.received).toHaveLength(1)
    expect(hook.received[0]).toMatchObject({ event: 'account.state', upstreamId: 'api', accountId: 'b', state: 'unauthorized' })
    expect(JSON.stringify(hook.received)).not.toContain(KEY_B)
    // Back: the key works again, the test call heals it and tells the webhook.
    fake.accepted.add(KEY_B)
    expect((await api(t.base, admin, 'POST', '/api/admin/upstreams/api/accounts/b/test', {})).json).toMatchObject({ ok: true, account: { state: 'ok' } })
    await eventually(() => hook.received.length === 2, 15_000)
    expect(hook.received[1]).toMatchObject({ state: 'ok', previous: 'unauthorized' })
  })

  it('members see a model as down when every account is refused, with the reason', async () => {
    fake.accepted.delete(fake.accessToken)
    try {
      const s = await open(t.base, member, { model: 'web', content: 'anyone?' })
      expect(await s.last()).toMatchObject({ event: 'error', data: { code: 'UPSTREAM_UNAUTHORIZED' } })
      const models = await api(t.base, member, 'GET', '/api/models')
      expect(models.json.models.find((m: any) => m.key === 'web').pool).toMatchObject({ state: 'down' })
      expect(models.json.models.find((m: any) => m.key === 'gpt').pool).toMatchObject({ state: 'ok' })
      const status = await api(t.base, member, 'GET', '/api/status')
      expect(status.json.upstreams.find((u: any) => u.id === 'web')).toMatchObject({ healthy: false, reason: 'access token rejected (HTTP 401)' })
    }
    finally {
      fake.accepted.add(fake.accessToken)
    }
  })
})

describe('the accounts\' caps, shared by the group', () => {
  let fake: FakeUpstream
  let t: ListeningApp
  let ms: TestSession[]
  const dataDir = tempDataDir()
  let config: Record<string, unknown>

  beforeAll(async () => {
    fake = await startFakeUpstream()
    config = {
      chat: { ping_seconds: 600, queue_max_wait_seconds: 2 },
      upstreams: [{
        id: 'plus',
        type: 'chatgpt-web',
        base_url: fake.chatgptBaseUrl,
        models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o', fallback: 'mini' }, { key: 'mini', name: 'Mini', slug: 'gpt-4o-mini' }],
        accounts: [{ id: 'main', access_token: fake.accessToken, concurrency: 3, caps: { 'gpt-4o': { asks: 10, hours: 3 } } }],
      }],
    }
    t = await startApp(config, { dataDir })
    ms = await members(t.app, ['x', 'y', 'z'])
  })
  afterAll(async () => {
    await t?.close()
    await fake?.close()
  })

  it('counts what the account used whoever asked; members see what is left for the group; at the cap, the model is capped with its fallback offered', async () => {
    for (let i = 0; i < 9; i++) {
      const s = await open(t.base, ms[i % 3]!, { model: 'gpt-4o', content: `cap ${i}` })
      expect((await s.last()).event).toBe('done')
    }
    let models = await api(t.base, ms[0]!, 'GET', '/api/models')
    expect(models.json.models.find((m: any) => m.key === 'gpt-4o').pool).toMatchObject({ state: 'ok', groupCap: { remaining: 1, total: 10 }, fallback: 'mini' })
    // The tenth, then the cap is reached for everybody.
    expect((await (await open(t.base, ms[1]!, { model: 'gpt-4o', content: 'the last one' })).last()).event).toBe('done')
    models = await api(t.base, ms[2]!, 'GET', '/api/models')
    const pool = models.json.models.find((m: any) => m.key === 'gpt-4o').pool
    expect(pool).toMatchObject({ state: 'capped', groupCap: { remaining: 0, total: 10 }, fallback: 'mini' })
    expect(new Date(pool.until).getTime()).toBeGreaterThan(Date.now() + 2.9 * 3600_000)
    // An ask now waits (never a raw 429) and ends with a queue timeout; the fallback model answers.
    const waiting = await open(t.base, ms[2]!, { model: 'gpt-4o', content: 'over the cap' })
    const q = await waiting.waitFor('queued')
    expect((q.data as { etaSeconds: number }).etaSeconds).toBeGreaterThan(3600)
    expect(await waiting.last()).toMatchObject({ event: 'error', data: { code: 'QUEUE_TIMEOUT' } })
    expect((await (await open(t.base, ms[2]!, { model: 'mini', content: 'fallback' })).last()).event).toBe('done')
  })

  it('the count survives a restart (it is read back from the ask log)', async () => {
    await t.close()
    t = await startApp(config, { dataDir })
    const accounts = await api(t.base, await loginAs(t.app, ADMIN.username, ADMIN.password), 'GET', '/api/admin/upstreams/accounts')
    expect(accounts.json.items[0].caps).toEqual([expect.objectContaining({ model: 'gpt-4o', asks: 10, used: 10 })])
  })
})

describe('account-safety pacing', () => {
  it('asks on one account start at least min_gap_seconds apart, and the wait is in the ETA', async () => {
    const fake = await startFakeUpstream()
    const t = await startApp({
      chat: { ping_seconds: 600 },
      upstreams: [{ id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, concurrency: 4, pacing: { min_gap_seconds: 1 }, models: [{ key: 'gpt', name: 'GPT', slug: 'x' }] }],
    })
    try {
      const ms = await members(t.app, ['p1', 'p2', 'p3'])
      const asks = await Promise.all(ms.map((m, i) => open(t.base, m, { model: 'gpt', content: `paced ${i}` })))
      await Promise.all(asks.map(s => s.last()))
      const starts = fake.requests.filter(r => r.path.endsWith('/chat/completions')).map(r => r.seq)
      expect(starts).toHaveLength(3)
      const times = await t.app.db.ask.findMany({ orderBy: { startedAt: 'asc' }, select: { startedAt: true } })
      const gaps = times.slice(1).map((r, i) => r.startedAt!.getTime() - times[i]!.startedAt!.getTime())
      expect(gaps.every(g => g >= 950)).toBe(true)
      expect(asks.some(s => s.names.includes('queued'))).toBe(true)
    }
    finally {
      await t.close()
      await fake.close()
    }
  })
})
