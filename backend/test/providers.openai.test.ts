import type { OpenaiUpstreamConfig } from '../src/modules/providers/openai/openai.provider.js'
import type { FakeUpstream } from './fake-upstream/server.js'
import { describe, expect, it } from 'vitest'
import { CONTINUE_PROMPT, createOpenaiProvider } from '../src/modules/providers/openai/openai.provider.js'
import { defaultAnswer } from './fake-upstream/chatgpt.js'
import { buildTestApp } from './helper.js'
import { expectNoSecrets, runAsk, useFakeUpstream } from './providers.helpers.js'

let fake: FakeUpstream
useFakeUpstream((started) => {
  fake = started
})

function upstream(over: Partial<OpenaiUpstreamConfig> = {}): OpenaiUpstreamConfig {
  return {
    id: 'openai',
    type: 'openai',
    base_url: fake.openaiBaseUrl,
    api_key: fake.apiKey,
    timeout_seconds: 5,
    idle_timeout_seconds: 5,
    models: [{ key: 'mini', name: 'Mini', slug: 'gpt-4.1-mini' }],
    ...over,
  }
}
const provider = (over: Partial<OpenaiUpstreamConfig> = {}, now?: () => Date) => createOpenaiProvider(upstream(over), { now })
const ANSWER = defaultAnswer('Hello there', false)

describe('openai provider: answers', () => {
  it('streams delta.content, takes finish_reason from the chunk that has it and usage from the usage chunk', async () => {
    const r = await runAsk(provider(), { slug: 'gpt-4.1-mini', content: 'Hello there' })
    expect(r.error).toBeUndefined()
    expect(r.text).toBe(ANSWER)
    expect(r.events.filter(e => e.type === 'title')).toEqual([{ type: 'title', title: 'Hello there' }])
    const done = r.events.at(-1)
    expect(done).toEqual({ type: 'done', finishReason: 'stop', usage: { promptTokens: 3, completionTokens: expect.any(Number), totalTokens: expect.any(Number) } })
    const req = fake.requests[0]!
    expect(req.path).toBe('/v1/chat/completions')
    expect(req.headers.authorization).toBe(`Bearer ${fake.apiKey}`)
    expect(req.body).toEqual({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Hello there' }], stream: true, stream_options: { include_usage: true } })
  })

  it('sends the history we give it, tolerates a trailing slash, and gives no title on follow-ups', async () => {
    const history = [{ role: 'user' as const, content: 'Hi' }, { role: 'assistant' as const, content: 'Hello!' }]
    const r = await runAsk(provider({ base_url: `${fake.openaiBaseUrl}/` }), { content: 'Explain CRDTs', history })
    expect(r.text).toBe(defaultAnswer('Explain CRDTs', false))
    expect(r.events.some(e => e.type === 'title')).toBe(false)
    expect(fake.requests[0]!.path).toBe('/v1/chat/completions')
    expect(fake.requests[0]!.body.messages).toEqual([...history, { role: 'user', content: 'Explain CRDTs' }])
  })

  it('finish_reason "length" and action "continue"', async () => {
    fake.set({ finish: 'length' })
    const history = [{ role: 'user' as const, content: 'Long?' }, { role: 'assistant' as const, content: 'Part one' }]
    const r = await runAsk(provider(), { action: 'continue', content: '', history })
    expect(r.events.at(-1)).toMatchObject({ type: 'done', finishReason: 'length' })
    expect(fake.requests[0]!.body.messages.at(-1)).toEqual({ role: 'user', content: CONTINUE_PROMPT })
  })

  it('accepts a non-streamed choices[0].message answer', async () => {
    fake.set({ json: true })
    const r = await runAsk(provider(), {})
    expect(r.text).toBe(ANSWER)
    expect(r.events.at(-1)).toMatchObject({ type: 'done', finishReason: 'stop', usage: { promptTokens: 3 } })
  })

  it('survives split writes inside multi-byte characters and CRLF framing', async () => {
    fake.set({ split: true, crlf: true, answer: '多字节 😀 émoji — ✅', chunks: 4 })
    const r = await runAsk(provider(), {})
    expect(r.error).toBeUndefined()
    expect(r.text).toBe('多字节 😀 émoji — ✅')
  })
})

describe('openai provider: failures', () => {
  it('a wrong key → UPSTREAM_UNAUTHORIZED without the key or e-mail, unhealthy with a safe reason', async () => {
    const p = provider({ api_key: 'sk-wrong-key-abcdef123456' })
    const r = await runAsk(p, {})
    expect(r.error).toMatchObject({ code: 'UPSTREAM_UNAUTHORIZED', extra: { status: 401 } })
    expectNoSecrets(r.error.message, ['sk-wrong-key-abcdef123456', 'abcdef123456'])
    expect(p.health()).toMatchObject({ healthy: false, reason: 'API key rejected (HTTP 401)' })
  })

  it('429 → UPSTREAM_RATE_LIMITED with the Retry-After hint (the pool, not the provider, rests the account)', async () => {
    const p = provider()
    fake.set({ status: 429, retryAfter: 7 })
    expect((await runAsk(p, {})).error).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', extra: { retryAfterSeconds: 7 } })
    expect(fake.requests).toHaveLength(1)
  })

  it('500 → UPSTREAM_ERROR, redacted', async () => {
    fake.set({ status: 503 })
    const r = await runAsk(provider(), {})
    expect(r.error).toMatchObject({ code: 'UPSTREAM_ERROR', extra: { status: 503 } })
    expectNoSecrets(r.error.message, [fake.apiKey])
  })

  it('reset mid-stream → UPSTREAM_ERROR with the partial text kept; in-stream error object → UPSTREAM_ERROR', async () => {
    fake.set({ resetAfter: 2 })
    const r = await runAsk(provider(), {})
    expect(r.error).toMatchObject({ code: 'UPSTREAM_ERROR' })
    expect(r.text.length).toBeGreaterThan(0)
    expect(ANSWER.startsWith(r.text) && r.text !== ANSWER).toBe(true)

    fake.set({ resetAfter: -1, endAfter: 2 })
    const ended = await runAsk(provider(), {})
    expect(ended.error).toMatchObject({ code: 'UPSTREAM_ERROR', message: expect.stringContaining('before the answer was complete') })
    expect(ended.text.length).toBeGreaterThan(0)

    fake.set({ endAfter: -1, errorAfter: 1 })
    const e = await runAsk(provider(), {})
    expect(e.error).toMatchObject({ code: 'UPSTREAM_ERROR' })
    expect(e.error.message).toContain('The server had an error')
    expectNoSecrets(e.error.message, [fake.apiKey])
  })

  it('stall → UPSTREAM_TIMEOUT; abort → the upstream sees the disconnect within a second', async () => {
    fake.set({ stallAfter: 1 })
    const r = await runAsk(provider({ idle_timeout_seconds: 0.3 }), {})
    expect(r.error).toMatchObject({ code: 'UPSTREAM_TIMEOUT' })
    await fake.waitFor(() => fake.aborts === 1, 1000)

    fake.set({ stallAfter: -1, chunks: 30, gapMs: 100 })
    const ac = new AbortController()
    const a = await runAsk(provider(), { signal: ac.signal }, (e) => {
      if (e.type === 'text')
        ac.abort()
    })
    expect(a.error).toMatchObject({ name: 'AbortError' })
    await fake.waitFor(() => fake.aborts === 2, 1000)
  })
})

describe('providers plugin with real upstreams', () => {
  it('routes configured model keys to the chatgpt-web and openai providers', async () => {
    const t = await buildTestApp({
      upstreams: [
        { id: 'web', type: 'chatgpt-web', base_url: fake.chatgptBaseUrl, access_token: fake.accessToken, models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o' }] },
        { id: 'api', type: 'openai', base_url: fake.openaiBaseUrl, api_key: fake.apiKey, models: [{ key: 'mini', name: 'Mini', slug: 'gpt-4.1-mini' }] },
      ],
    })
    try {
      const webRoute = t.app.upstreams.route('gpt-4o')!
      const web = { ...webRoute, provider: webRoute.pool.accounts[0]!.provider }
      expect(web.provider.type).toBe('chatgpt-web')
      const apiRoute = t.app.upstreams.route('mini')!
      const api = { ...apiRoute, provider: apiRoute.pool.accounts[0]!.provider }
      expect(api.slug).toBe('gpt-4.1-mini')
      const r = await runAsk(api.provider, { slug: api.slug })
      expect(r.text).toBe(ANSWER)
      expect(t.app.upstreams.models().every(m => !m.demo)).toBe(true)
      expect(JSON.stringify(t.app.upstreams.models())).not.toContain(fake.apiKey)

      fake.set({ status: 401 })
      await runAsk(web.provider, {})
      const status = t.app.upstreams.list().map(u => ({ id: u.id, health: t.app.upstreams.provider(u.id)!.health() }))
      expect(status.map(s => [s.id, s.health.healthy, s.health.reason])).toEqual([['web', false, 'access token rejected (HTTP 401)'], ['api', true, undefined]])
      expect(JSON.stringify(status)).not.toContain(fake.accessToken)
      expect(JSON.stringify(status)).not.toContain(fake.url)
    }
    finally {
      await t.close()
    }
  })
})
