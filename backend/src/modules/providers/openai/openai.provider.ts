import type { Static } from '@sinclair/typebox'
import type { OpenaiUpstream } from '../../../config/schema.js'
import type { AskInput, ChatTurn, Provider, ProviderDeps, ProviderEvent } from '../types.js'
import { joinUrl, UpstreamClient } from '../shared/http.js'
import { readSse } from '../shared/sse.js'
import { UpstreamState } from '../shared/state.js'
import { shortTitle } from '../shared/title.js'
import { completionEvents, completionFromJson } from './stream.js'

export type OpenaiUpstreamConfig = Static<typeof OpenaiUpstream>

export const DEFAULT_OPENAI_BASE = 'https://api.openai.com/v1'
/** What "continue" sends as the next user turn (the API has no native continue). */
export const CONTINUE_PROMPT = 'Continue exactly where your previous answer stopped.'

export function chatMessages(input: AskInput): ChatTurn[] {
  const history = (input.history ?? []).map(t => ({ role: t.role, content: t.content }))
  return [...history, { role: 'user', content: input.action === 'continue' ? CONTINUE_PROMPT : input.content }]
}

/**
 * The OpenAI Chat Completions API, or any compatible server (docs/architecture.md, "Upstream wire formats"). History is sent by
 * us. Title: a `title` event made from the question's first words follows the first text of an ask
 * that starts a conversation (no history); no extra upstream call.
 */
export function createOpenaiProvider(upstream: OpenaiUpstreamConfig, deps: ProviderDeps = {}): Provider {
  const key = (): string => deps.credential?.() ?? upstream.api_key ?? ''
  const state = deps.state ?? new UpstreamState(deps.now)
  const client = new UpstreamClient({
    id: upstream.id,
    timeoutSeconds: upstream.timeout_seconds ?? 30,
    idleTimeoutSeconds: upstream.idle_timeout_seconds ?? 120,
    credentialName: 'API key',
    secrets: () => [key(), upstream.api_key],
    state,
    logger: deps.logger,
    dispatcher: deps.dispatcher,
  })
  const endpoint = joinUrl(upstream.base_url ?? DEFAULT_OPENAI_BASE, 'chat/completions')
  const opts = { upstreamId: upstream.id, excerpt: (t: string) => client.excerpt(t) }

  async function* answer(input: AskInput): AsyncGenerator<ProviderEvent> {
    const { signal } = input
    signal.throwIfAborted()
    const res = await client.send({
      method: 'POST',
      url: endpoint,
      headers: { 'authorization': `Bearer ${key()}`, 'content-type': 'application/json', 'accept': 'text/event-stream' },
      body: { model: input.slug, messages: chatMessages(input), stream: true, stream_options: { include_usage: true } },
      signal,
    })
    try {
      if (String(res.headers['content-type'] ?? '').includes('application/json')) {
        const text = await res.body.text()
        let body: unknown
        try {
          body = JSON.parse(text)
        }
        catch {
          body = undefined
        }
        yield* completionFromJson(body, opts)
        return
      }
      yield* completionEvents(readSse(res.body, { isLast: e => e.data.trim() === '[DONE]' }), opts)
    }
    catch (err) {
      throw client.transportError(err, signal)
    }
    finally {
      if (!res.body.readableEnded)
        res.body.destroy()
    }
  }

  async function* ask(input: AskInput): AsyncGenerator<ProviderEvent> {
    const wantsTitle = input.action !== 'continue' && !input.history?.length
    let titled = !wantsTitle
    for await (const ev of answer(input)) {
      yield ev
      if (!titled && ev.type === 'text') {
        titled = true
        yield { type: 'title', title: shortTitle(input.content) }
      }
    }
  }

  return {
    id: upstream.id,
    type: 'openai',
    ask,
    health: () => state.health(),
    check: async (signal) => {
      await client.json({ method: 'GET', url: joinUrl(upstream.base_url ?? DEFAULT_OPENAI_BASE, 'models'), headers: { authorization: `Bearer ${key()}` }, signal })
      return {}
    },
    close: opts => client.close(opts),
  }
}
