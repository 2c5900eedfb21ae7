import type { ChatgptWebUpstreamConfig } from '../src/modules/providers/chatgpt-web/chatgpt-web.provider.js'
import type { FakeUpstream } from './fake-upstream/server.js'
import { describe, expect, it } from 'vitest'
import { createChatgptWebProvider } from '../src/modules/providers/chatgpt-web/chatgpt-web.provider.js'
import { ProviderError } from '../src/modules/providers/types.js'
import { defaultAnswer } from './fake-upstream/chatgpt.js'
import { expectNoSecrets, runAsk, useFakeUpstream } from './providers.helpers.js'

let fake: FakeUpstream
useFakeUpstream((started) => {
  fake = started
})

function upstream(over: Partial<ChatgptWebUpstreamConfig> = {}): ChatgptWebUpstreamConfig {
  return {
    id: 'chatgpt',
    type: 'chatgpt-web',
    base_url: fake.chatgptBaseUrl,
    access_token: fake.accessToken,
    timeout_seconds: 5,
    idle_timeout_seconds: 5,
    models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o' }],
    ...over,
  }
}
const provider = (over: Partial<ChatgptWebUpstreamConfig> = {}, now?: () => Date) => createChatgptWebProvider(upstream(over), { now })
const secrets = () => [fake.accessToken]
const ANSWER = defaultAnswer('Hello there', false)

describe('chatgpt-web provider: answers', () => {
  it('streams deltas of the assistant message for the user, skipping tool calls, echoes and moderation', async () => {
    const p = provider({ account_id: 'team-123' })
    const r = await runAsk(p, { content: 'Hello there', userMessageId: 'user-msg-1', slug: 'gpt-4o-mapped' })
    expect(r.error).toBeUndefined()
    expect(r.text).toBe(ANSWER)
    expect(r.text).not.toContain('search(')
    expect(r.text).not.toContain('quoted page')
    expect(r.events.filter(e => e.type === 'text').length).toBe(6)
    expect(r.events.filter(e => e.type === 'title')).toEqual([{ type: 'title', title: 'Fake title' }])
    const conv = [...fake.conversations.values()][0]!
    expect(r.events.filter(e => e.type === 'context').at(-1)).toEqual({ type: 'context', upstreamConversationId: conv.id, upstreamMessageId: conv.current_node })
    expect(r.events.at(-1)).toEqual({ type: 'done', finishReason: 'stop' })

    const req = fake.requests[0]!
    expect(req.method).toBe('POST')
    expect(req.path).toBe('/backend-api/conversation')
    expect(req.headers.authorization).toBe(`Bearer ${fake.accessToken}`)
    expect(req.headers['chatgpt-account-id']).toBe('team-123')
    expect(req.headers['accept-language']).toBe('en-US')
    expect(req.headers.referer).toBe('https://chat.openai.com/')
    expect(req.body).toMatchObject({
      action: 'next',
      conversation_id: null,
      model: 'gpt-4o-mapped',
      messages: [{ id: 'user-msg-1', author: { role: 'user' }, content: { content_type: 'text', parts: ['Hello there'] } }],
    })
    expect(req.body.parent_message_id).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('chains follow-ups with the upstream conversation id and the previous assistant message id', async () => {
    const p = provider({ base_url: fake.chatgptBaseUrl.replace(/\/$/, '') }) // no trailing slash either
    const first = await runAsk(p, { content: 'first question' })
    const ctx = first.events.filter(e => e.type === 'context').at(-1)
    if (ctx?.type !== 'context')
      throw new Error('no context event')
    const second = await runAsk(p, { content: 'and a follow-up', upstreamConversationId: ctx.upstreamConversationId, upstreamParentMessageId: ctx.upstreamMessageId })
    expect(second.error).toBeUndefined()
    expect(second.text).toBe(defaultAnswer('and a follow-up', false))
    expect(second.events.some(e => e.type === 'title')).toBe(false)
    const body = fake.requests[1]!.body
    expect(body.conversation_id).toBe(ctx.upstreamConversationId)
    expect(body.parent_message_id).toBe(ctx.upstreamMessageId)
    expect(fake.requests[1]!.headers.referer).toBe(`https://chat.openai.com/c/${ctx.upstreamConversationId}`)
    expect(Object.keys(fake.conversations.get(ctx.upstreamConversationId)!.mapping)).toHaveLength(4)
  })

  it('parses the v1 delta encoding (add, append, bare {v}, patch with replace/add/remove/truncate)', async () => {
    fake.set({ encoding: 'v1', chunks: 9 })
    const r = await runAsk(provider(), { content: 'Hello there' })
    expect(r.error).toBeUndefined()
    expect(r.text).toBe(ANSWER)
    expect(r.events.filter(e => e.type === 'title')).toHaveLength(1)
    expect(r.events.at(-1)).toEqual({ type: 'done', finishReason: 'stop' })
  })

  it.each([
    ['classic', { encoding: 'classic' as const }],
    ['v1', { encoding: 'v1' as const }],
  ])('survives events split across TCP writes (inside multi-byte characters) with CRLF line endings: %s', async (_, knobs) => {
    fake.set({ ...knobs, split: true, crlf: true, answer: '多字节 😀 émoji — ünïcödé ✅ ok', chunks: 5 })
    const r = await runAsk(provider(), {})
    expect(r.error).toBeUndefined()
    expect(r.text).toBe('多字节 😀 émoji — ünïcödé ✅ ok')
    expect(r.events.at(-1)).toMatchObject({ type: 'done' })
  })

  it('reports max_tokens as finish reason "length" and sends action "continue" without messages', async () => {
    fake.set({ finish: 'max_tokens' })
    const p = provider()
    const first = await runAsk(p, {})
    expect(first.events.at(-1)).toEqual({ type: 'done', finishReason: 'length' })
    const ctx = first.events.filter(e => e.type === 'context').at(-1)!
    if (ctx.type !== 'context')
      throw new Error('no context')
    fake.set({ finish: 'stop' })
    const cont = await runAsk(p, { action: 'continue', content: '', upstreamConversationId: ctx.upstreamConversationId, upstreamParentMessageId: ctx.upstreamMessageId })
    expect(cont.text).toBe(defaultAnswer('', true))
    expect(fake.requests[1]!.body).toMatchObject({ action: 'continue', messages: null, conversation_id: ctx.upstreamConversationId, parent_message_id: ctx.upstreamMessageId })
  })

  it('steers the fake by the prompt text (for end-to-end tests through our server)', async () => {
    const r = await runAsk(provider(), { content: 'please fail [[fake: status=500]]' })
    expect(r.error).toMatchObject({ code: 'UPSTREAM_ERROR' })
  })
})

describe('chatgpt-web provider: failures', () => {
  it('401 → UPSTREAM_UNAUTHORIZED, unhealthy with a safe reason, healthy again after a success', async () => {
    const logged: string[] = []
    const logger = { info: (o: object, m?: string) => logged.push(JSON.stringify([o, m])), warn: (o: object, m?: string) => logged.push(JSON.stringify([o, m])) }
    const p = createChatgptWebProvider(upstream({ access_token: 'eyJwrong.token.value-123456' }), { logger })
    const r = await runAsk(p, {})
    expect(logged.join('\n')).toContain('access token rejected (HTTP 401)')
    expectNoSecrets(logged.join('\n'), ['eyJwrong', 'value-123456'])
    expect(r.error).toBeInstanceOf(ProviderError)
    expect(r.error.code).toBe('UPSTREAM_UNAUTHORIZED')
    expect(r.error.extra.status).toBe(401)
    expectNoSecrets(r.error.message, ['eyJwrong', 'value-123456'])
    expect(p.health()).toMatchObject({ healthy: false, reason: 'access token rejected (HTTP 401)' })

    const ok = provider()
    fake.set({ status: 403 })
    const r403 = await runAsk(ok, {})
    expect(r403.error.code).toBe('UPSTREAM_UNAUTHORIZED')
    expectNoSecrets(r403.error.message, secrets())
    expect(ok.health()).toMatchObject({ healthy: false, reason: 'access token rejected (HTTP 403)' })
    fake.set({ status: 0 })
    expect((await runAsk(ok, {})).error).toBeUndefined()
    expect(ok.health().healthy).toBe(true)
    expect(ok.health().reason).toBeUndefined()
  })

  it('429 with Retry-After → UPSTREAM_RATE_LIMITED with the hint; the provider holds nothing back itself (its pool does)', async () => {
    const p = provider()
    fake.set({ status: 429, retryAfter: 120 })
    const r = await runAsk(p, {})
    expect(r.error).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', extra: { status: 429, retryAfterSeconds: 120 } })
    expectNoSecrets(r.error.message, secrets())
    expect(p.health().healthy).toBe(true)
    fake.set({ status: 0 })
    expect((await runAsk(p, {})).error).toBeUndefined()
    expect(fake.requests).toHaveLength(2)
  })

  it('429 with clears_in in the body gives that hint', async () => {
    const p = provider()
    fake.set({ status: 429, clearsIn: 42 })
    const r = await runAsk(p, {})
    expect(r.error).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', extra: { retryAfterSeconds: 42 } })
    expect(fake.requests).toHaveLength(1)
  })

  it('500 → UPSTREAM_ERROR with a short redacted excerpt', async () => {
    fake.set({ status: 500 })
    const r = await runAsk(provider(), {})
    expect(r.error).toMatchObject({ code: 'UPSTREAM_ERROR', extra: { status: 500 } })
    expect(r.error.message).toContain('HTTP 500')
    expect(r.error.message).toContain('500 Internal Server Error')
    expect(r.error.message.length).toBeLessThan(300)
    expectNoSecrets(r.error.message, secrets())
  })

  it('a connection reset mid-stream → UPSTREAM_ERROR, with the partial text already yielded', async () => {
    fake.set({ resetAfter: 3, chunks: 6 })
    const r = await runAsk(provider(), {})
    expect(r.error).toMatchObject({ code: 'UPSTREAM_ERROR' })
    expect(r.text.length).toBeGreaterThan(0)
    expect(ANSWER.startsWith(r.text)).toBe(true)
    expect(r.text).not.toBe(ANSWER)
  })

  it('a stream that ends without [DONE] or a finished message → UPSTREAM_ERROR, partial text kept', async () => {
    fake.set({ endAfter: 3 })
    const r = await runAsk(provider(), {})
    expect(r.error).toMatchObject({ code: 'UPSTREAM_ERROR', message: expect.stringContaining('before the answer was complete') })
    expect(r.text.length).toBeGreaterThan(0)
    expect(r.events.some(e => e.type === 'done')).toBe(false)
  })

  it('an in-stream error event → UPSTREAM_ERROR, redacted', async () => {
    fake.set({ errorAfter: 2 })
    const r = await runAsk(provider(), {})
    expect(r.error).toMatchObject({ code: 'UPSTREAM_ERROR' })
    expect(r.error.message).toContain('Something went wrong')
    expectNoSecrets(r.error.message, secrets())
    expect(r.text.length).toBeGreaterThan(0)
  })

  it('a stalled stream → UPSTREAM_TIMEOUT after the idle timeout, and the upstream sees the disconnect', async () => {
    fake.set({ stallAfter: 2 })
    const t0 = Date.now()
    const r = await runAsk(provider({ idle_timeout_seconds: 0.3 }), {})
    expect(r.error).toMatchObject({ code: 'UPSTREAM_TIMEOUT' })
    expect(Date.now() - t0).toBeLessThan(3000)
    expect(ANSWER.startsWith(r.text) && r.text.length > 0).toBe(true)
    await fake.waitFor(() => fake.aborts === 1, 1000)
  })

  it('no reply within timeout_seconds → UPSTREAM_TIMEOUT', async () => {
    fake.set({ firstTokenMs: 5000 })
    const t0 = Date.now()
    const r = await runAsk(provider({ timeout_seconds: 0.3 }), {})
    expect(r.error).toMatchObject({ code: 'UPSTREAM_TIMEOUT' })
    expect(Date.now() - t0).toBeLessThan(3000)
    await fake.waitFor(() => fake.aborts === 1, 1000)
  })

  it('an unreachable upstream → UPSTREAM_UNAVAILABLE and unhealthy', async () => {
    const p = provider({ base_url: 'http://127.0.0.1:1/backend-api/' })
    const r = await runAsk(p, {})
    expect(r.error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' })
    expect(p.health()).toMatchObject({ healthy: false, reason: 'cannot reach the upstream (ECONNREFUSED)' })
  })

  it('abort closes the upstream connection at once (the fake sees the disconnect)', async () => {
    fake.set({ chunks: 40, gapMs: 100 })
    const ac = new AbortController()
    const reason = new DOMException('stopped by the member', 'AbortError')
    const r = await runAsk(provider(), { signal: ac.signal }, (e, events) => {
      if (e.type === 'text' && events.filter(x => x.type === 'text').length === 2)
        ac.abort(reason)
    })
    expect(r.error).toBe(reason)
    expect(r.events.filter(e => e.type === 'text')).toHaveLength(2)
    await fake.waitFor(() => fake.aborts === 1, 1000)
    expect(fake.requests[0]!.aborted).toBe(true)
  })

  it('the obsolete wss_url reply → a clear UPSTREAM_ERROR without the token', async () => {
    fake.set({ json: true })
    const r = await runAsk(provider(), {})
    expect(r.error).toMatchObject({ code: 'UPSTREAM_ERROR' })
    expect(r.error.message).toContain('wss_url')
    expectNoSecrets(r.error.message, secrets())
  })
})

describe('chatgpt-web provider: conversation management', () => {
  it('generates a title, renames, lists, reads and hides upstream conversations', async () => {
    const p = provider()
    const first = await runAsk(p, { content: 'manage me' })
    const ctx = first.events.find(e => e.type === 'context')
    if (ctx?.type !== 'context')
      throw new Error('no context')
    const id = ctx.upstreamConversationId
    expect(await p.genTitle!(id, ctx.upstreamMessageId)).toBe('Fake title')
    expect(fake.requests.at(-1)).toMatchObject({ method: 'POST', path: `/backend-api/conversation/gen_title/${id}`, body: { message_id: ctx.upstreamMessageId } })
    await expect(p.genTitle!(id, 'no-such-message')).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' })

    await p.rename!(id, 'Renamed')
    expect(fake.requests.at(-1)).toMatchObject({ method: 'PATCH', body: { title: 'Renamed' } })
    const list = await p.listConversations!(0, 20)
    expect(list.total).toBe(1)
    expect(list.items[0]).toMatchObject({ id, title: 'Renamed' })
    expect(fake.requests.at(-1)!.path).toBe('/backend-api/conversations?offset=0&limit=20')
    const full = await p.getConversation!(id) as any
    expect(full.current_node).toBe(ctx.upstreamMessageId)

    await p.hide!(id)
    expect(fake.requests.at(-1)).toMatchObject({ method: 'PATCH', body: { is_visible: false } })
    expect((await p.listConversations!(0, 20)).total).toBe(0)
    await expect(p.getConversation!(id)).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', extra: { status: 404 } })
  })
})
