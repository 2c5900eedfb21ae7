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
import { api, chat, eventually, members, open, startApp } from './chat.helpers.js'
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
        // First come, first served here; the split is tested below.
        cap_share: { mode: 'off' },
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

describe('the last part of a cap, split among the members active in the window', () => {
  let fake: FakeUpstream
  let t: ListeningApp
  let x: TestSession, y: TestSession, z: TestSession

  const poolOf = async (s: TestSession) => {
    const models = await api(t.base, s, 'GET', '/api/models')
    return models.json.models.find((m: any) => m.key === 'gpt-4o')
  }
  const ask = async (s: TestSession, content: string) => {
    const res = await chat(t.base, s, { model: 'gpt-4o', content })
    if (res.stream)
      expect((await res.stream.last()).event).toBe('done')
    return res
  }

  beforeAll(async () => {
    fake = await startFakeUpstream()
    t = await startApp({
      chat: { ping_seconds: 600 },
      upstreams: [{
        id: 'plus',
        type: 'chatgpt-web',
        base_url: fake.chatgptBaseUrl,
        models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o', fallback: 'mini' }, { key: 'mini', name: 'Mini', slug: 'gpt-4o-mini' }],
        accounts: [{ id: 'main', access_token: fake.accessToken, concurrency: 3, caps: { 'gpt-4o': { asks: 10, hours: 3 } } }],
        cap_share: { mode: 'equal', below_percent: 50 },
      }],
    })
    ;[x, y, z] = await members(t.app, ['sx', 'sy', 'sz']) as [TestSession, TestSession, TestSession]
  })
  afterAll(async () => {
    await t?.close()
    await fake?.close()
  })

  it('3 members against a cap of 10: at half left, the 5 left are split 1 / 2 / 2 (the odd ones to who used least); a used share answers CAP_SHARE_USED with the fallback; the others still ask', async () => {
    // x uses the first half alone: no split yet.
    for (let i = 0; i < 4; i++) expect((await ask(x, `x ${i}`)).status).toBe(200)
    expect((await poolOf(x)).pool.share).toBeNull()
    expect((await ask(x, 'x 4')).status).toBe(200)
    // 5 used, 5 left (= 50 %): split among the members active in the window — x, and whoever looks.
    const seenByY = await poolOf(y)
    expect(seenByY.pool).toMatchObject({ state: 'ok', groupCap: { remaining: 5, total: 10 }, share: { members: 2 } })
    // y and z ask once each: three members now share the 5 left; the two odd asks go to y and z, who used the window least.
    expect((await ask(y, 'y 0')).status).toBe(200)
    expect((await ask(z, 'z 0')).status).toBe(200)
    let shares = await Promise.all([x, y, z].map(poolOf))
    expect(shares.map(m => m.pool.share)).toEqual([
      { remaining: 1, of: 1, members: 3 },
      { remaining: 1, of: 2, members: 3 },
      { remaining: 1, of: 2, members: 3 },
    ])
    expect((await ask(z, 'z 1')).status).toBe(200)
    shares = await Promise.all([x, z].map(poolOf))
    expect(shares[1]).toMatchObject({ reason: 'CAP_SHARE_USED', pool: { share: { remaining: 0, of: 2 } } })
    expect(shares[0].reason).toBeNull()
    // z has used their part: refused before anything is stored, told when it comes back and what else to use.
    const before = await t.app.db.message.count()
    const refused = await ask(z, 'z over')
    expect(refused.status).toBe(429)
    expect(refused.json).toMatchObject({ code: 'CAP_SHARE_USED', share: { of: 2, members: 3 }, fallback: 'mini' })
    expect(new Date(refused.json.nextAllowedAt).getTime()).toBeGreaterThan(Date.now() + 2.9 * 3600_000)
    expect(refused.json.retryAfterSeconds).toBeGreaterThan(2.9 * 3600)
    expect(await t.app.db.message.count()).toBe(before)
    // The fallback is open to z; x and y use what is theirs.
    expect((await (await open(t.base, z, { model: 'mini', content: 'fallback' })).last()).event).toBe('done')
    expect((await ask(x, 'x 5')).status).toBe(200)
    expect((await ask(x, 'x 6')).json).toMatchObject({ code: 'CAP_SHARE_USED' })
    expect((await ask(y, 'y 1')).status).toBe(200)
    // All 10 used: the cap itself now holds everybody back.
    expect((await poolOf(y)).pool).toMatchObject({ state: 'capped', groupCap: { remaining: 0 } })
  })

  it('concurrent asks cannot take more than the share (the check is inside the admission transaction)', async () => {
    const t2 = await startApp({
      chat: { ping_seconds: 600 },
      upstreams: [{
        id: 'plus',
        type: 'chatgpt-web',
        base_url: fake.chatgptBaseUrl,
        models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o' }],
        accounts: [{ id: 'main', access_token: fake.accessToken, concurrency: 8, caps: { 'gpt-4o': { asks: 10, hours: 3 } } }],
        cap_share: { mode: 'equal', below_percent: 100 },
      }],
    })
    try {
      const [p, q] = await members(t2.app, ['race-p', 'race-q']) as [TestSession, TestSession]
      await t2.app.limits.patch(p.user.id, { maxInFlight: 10 })
      // q asked once (active in the window): the 10 are split by 2, so p may take 5.
      const first = await open(t2.base, q, { model: 'gpt-4o', content: 'q first' })
      expect((await first.last()).event).toBe('done')
      const tries = await Promise.all(Array.from({ length: 10 }, (_, i) => chat(t2.base, p, { model: 'gpt-4o', content: `race ${i}` })))
      const admitted = tries.filter(r => r.status === 200)
      expect(admitted).toHaveLength(5)
      expect(tries.filter(r => r.status !== 200).map(r => r.json.code)).toEqual(Array.from({ length: 5 }).fill('CAP_SHARE_USED'))
      await Promise.all(admitted.map(r => r.stream!.last()))
    }
    finally {
      await t2.close()
    }
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
