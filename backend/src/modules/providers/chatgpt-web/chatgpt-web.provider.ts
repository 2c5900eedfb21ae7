import type { Static } from '@sinclair/typebox'
import type { ChatgptWebUpstream } from '../../../config/schema.js'
import type { AskInput, Provider, ProviderDeps, ProviderEvent, UpstreamConversationSummary } from '../types.js'
import { randomUUID } from 'node:crypto'
import { joinUrl, UpstreamClient } from '../shared/http.js'
import { readSse } from '../shared/sse.js'
import { UpstreamState } from '../shared/state.js'
import { ProviderError } from '../types.js'
import { conversationEvents, finishReasonOf, textOf } from './stream.js'

export type ChatgptWebUpstreamConfig = Static<typeof ChatgptWebUpstream>

/** The completion request body (docs/architecture.md, "Upstream wire formats"). */
export function conversationBody(input: AskInput): Record<string, unknown> {
  const isContinue = input.action === 'continue'
  if (isContinue && (!input.upstreamConversationId || !input.upstreamParentMessageId))
    throw new ProviderError('UPSTREAM_ERROR', 'cannot continue: the conversation has no upstream ids yet')
  return {
    action: isContinue ? 'continue' : 'next',
    arkose_token: null,
    conversation_id: input.upstreamConversationId ?? null,
    conversation_mode: { kind: 'primary_assistant', gizmo_id: null, gizmo: null },
    force_paragen: false,
    force_rate_limit: false,
    history_and_training_disabled: false,
    messages: isContinue
      ? null
      : [{
          id: input.userMessageId ?? randomUUID(),
          author: { role: 'user' },
          content: { content_type: 'text', parts: [input.content] },
          metadata: {},
        }],
    model: input.slug,
    // `conversation_id` and `parent_message_id` go together; a new conversation gets a fresh parent id.
    parent_message_id: (input.upstreamConversationId && input.upstreamParentMessageId) || randomUUID(),
    plugin_ids: null,
    suggestions: [],
    timezone_offset_min: null,
  }
}

/**
 * ChatGPT's web `backend-api` behind a reverse proxy (docs/architecture.md, "Upstream wire formats"): streamed completions in the
 * classic or "v1" encoding, plus the conversation management calls.
 */
export function createChatgptWebProvider(upstream: ChatgptWebUpstreamConfig, deps: ProviderDeps = {}): Provider {
  const token = (): string => deps.credential?.() ?? upstream.access_token ?? ''
  const state = deps.state ?? new UpstreamState(deps.now)
  const client = new UpstreamClient({
    id: upstream.id,
    timeoutSeconds: upstream.timeout_seconds ?? 30,
    idleTimeoutSeconds: upstream.idle_timeout_seconds ?? 120,
    credentialName: 'access token',
    secrets: () => [token(), upstream.access_token, upstream.account_id, upstream.session_token],
    state,
    logger: deps.logger,
    dispatcher: deps.dispatcher,
  })
  const url = (path: string): string => joinUrl(upstream.base_url, path)
  const enc = encodeURIComponent

  function headers(referer = 'https://chat.openai.com/'): Record<string, string> {
    const h: Record<string, string> = {
      'authorization': `Bearer ${token()}`,
      'content-type': 'application/json',
      'accept-language': 'en-US',
      'referer': referer,
    }
    if (upstream.account_id)
      h['chatgpt-account-id'] = upstream.account_id
    return h
  }

  async function* ask(input: AskInput): AsyncGenerator<ProviderEvent> {
    const { signal } = input
    signal.throwIfAborted()
    const body = conversationBody(input)
    const referer = input.upstreamConversationId ? `https://chat.openai.com/c/${enc(input.upstreamConversationId)}` : undefined
    const res = await client.send({
      method: 'POST',
      url: url('conversation'),
      headers: { ...headers(referer), accept: 'text/event-stream' },
      body,
      signal,
    })
    try {
      const type = String(res.headers['content-type'] ?? '')
      if (type.includes('application/json')) {
        const text = await res.body.text()
        if (text.includes('"wss_url"'))
          throw new ProviderError('UPSTREAM_ERROR', `upstream ${upstream.id} answered with the obsolete websocket transport (wss_url); use a proxy that streams server-sent events`)
        throw new ProviderError('UPSTREAM_ERROR', `upstream ${upstream.id} answered without a stream: ${client.excerpt(text)}`)
      }
      yield* conversationEvents(readSse(res.body, { isLast: e => e.data.trim() === '[DONE]' }), { upstreamId: upstream.id, excerpt: t => client.excerpt(t) })
    }
    catch (err) {
      throw client.transportError(err, signal)
    }
    finally {
      // Ends the upstream request at once if the consumer stopped early (abort, error, break).
      if (!res.body.readableEnded)
        res.body.destroy()
    }
  }

  async function genTitle(conversationId: string, messageId: string, signal?: AbortSignal): Promise<string> {
    const reply = await client.json<{ title?: unknown, message?: unknown }>({
      method: 'POST',
      url: url(`conversation/gen_title/${enc(conversationId)}`),
      headers: headers(),
      body: { message_id: messageId },
      signal,
    })
    if (typeof reply?.title !== 'string' || !reply.title.trim())
      throw new ProviderError('UPSTREAM_ERROR', `upstream ${upstream.id} made no title: ${client.excerpt(String(reply?.message ?? 'no title in the reply'))}`)
    return reply.title.trim()
  }

  async function patch(conversationId: string, body: Record<string, unknown>): Promise<void> {
    await client.json({ method: 'PATCH', url: url(`conversation/${enc(conversationId)}`), headers: headers(), body })
  }

  async function listConversations(offset: number, limit: number): Promise<{ items: UpstreamConversationSummary[], total: number }> {
    const reply = await client.json<{ items?: any[], total?: number }>({
      method: 'GET',
      url: url(`conversations?offset=${Math.max(0, Math.trunc(offset))}&limit=${Math.max(1, Math.trunc(limit))}`),
      headers: headers(),
    })
    const items = (reply?.items ?? []).filter(i => typeof i?.id === 'string').map((i): UpstreamConversationSummary => ({
      id: i.id,
      title: typeof i.title === 'string' ? i.title : '',
      ...(i.create_time != null ? { createTime: String(i.create_time) } : {}),
      ...(i.update_time != null ? { updateTime: String(i.update_time) } : {}),
    }))
    return { items, total: typeof reply?.total === 'number' ? reply.total : items.length }
  }

  return {
    id: upstream.id,
    type: 'chatgpt-web',
    ask,
    health: () => state.health(),
    genTitle,
    rename: (id, title) => patch(id, { title }),
    hide: id => patch(id, { is_visible: false }),
    listConversations,
    check: async (signal) => {
      const reply = await client.json<{ accounts?: Record<string, { account?: { plan_type?: unknown } }> }>({ method: 'GET', url: url('accounts/check/v4-2023-04-27'), headers: headers(), signal })
      const plan = Object.values(reply?.accounts ?? {}).map(a => a?.account?.plan_type).find(p => typeof p === 'string')
      return plan ? { plan: plan as string } : {}
    },
    getConversation: id => client.json({ method: 'GET', url: url(`conversation/${enc(id)}`), headers: headers() }),
    finishedMessage: async (conversationId, messageId, signal) => {
      const conv = await client.json<{ mapping?: Record<string, { message?: any }> }>({ method: 'GET', url: url(`conversation/${enc(conversationId)}`), headers: headers(), signal })
      const msg = conv?.mapping?.[messageId]?.message
      const text = msg?.author?.role === 'assistant' && msg.status === 'finished_successfully' ? textOf(msg.content) : undefined
      return text ? { text, finishReason: finishReasonOf(msg.metadata?.finish_details?.type ?? 'stop') } : null
    },
    close: opts => client.close(opts),
  }
}
