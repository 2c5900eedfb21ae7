import type { Static } from '@sinclair/typebox'
import type { DemoUpstream } from '../../../config/schema.js'
import type { AskInput, Provider, ProviderEvent, UpstreamHealth } from '../types.js'
import { sleep, yieldToEventLoop } from '../shared/sleep.js'
import { shortTitle } from '../shared/title.js'
import { demoAnswer, demoContinuation } from './demo.answer.js'

export type DemoUpstreamConfig = Static<typeof DemoUpstream>

/** Splits text into chunks of 2–7 code points (deterministic), never inside a surrogate pair. */
export function demoChunks(text: string): string[] {
  const chars = [...text]
  const out: string[] = []
  let i = 0
  let n = 0
  while (i < chars.length) {
    const size = 2 + ((n * 7 + 3) % 6)
    out.push(chars.slice(i, i + size).join(''))
    i += size
    n++
  }
  return out
}

const estimateTokens = (s: string): number => Math.ceil([...s].length / 4)

/**
 * The offline demo upstream: a canned, deterministic Markdown answer streamed at `speed` characters
 * per second after `first_token_ms`. Abort rejects with the signal's reason at once.
 *
 * Title: a `title` event (from the question's first words) follows the first text chunk when the ask
 * starts a conversation (no history, action "next").
 */
export function createDemoProvider(upstream: DemoUpstreamConfig): Provider {
  const speed = upstream.speed ?? 400
  const firstTokenMs = upstream.first_token_ms ?? 400
  const health: UpstreamHealth = { healthy: true }

  async function* ask(input: AskInput): AsyncGenerator<ProviderEvent> {
    const { signal } = input
    signal.throwIfAborted()
    const isContinue = input.action === 'continue'
    const text = isContinue ? demoContinuation() : demoAnswer(input.content)
    const wantsTitle = !isContinue && !input.history?.length && !input.upstreamConversationId
    const start = performance.now()
    await sleep(firstTokenMs, signal)
    let sent = 0
    let sinceYield = 0
    const chunks = demoChunks(text)
    for (const [i, chunk] of chunks.entries()) {
      signal.throwIfAborted()
      yield { type: 'text', text: chunk }
      if (i === 0 && wantsTitle)
        yield { type: 'title', title: shortTitle(input.content) }
      sent += [...chunk].length
      const due = start + firstTokenMs + (sent / speed) * 1000
      const wait = due - performance.now()
      if (wait >= 1) {
        await sleep(wait, signal)
        sinceYield = 0
      }
      else if (++sinceYield >= 32) {
        await yieldToEventLoop()
        sinceYield = 0
      }
    }
    signal.throwIfAborted()
    const promptTokens = estimateTokens(input.content) + (input.history ?? []).reduce((n, t) => n + estimateTokens(t.content), 0)
    const completionTokens = estimateTokens(text)
    yield { type: 'done', finishReason: 'stop', usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens } }
  }

  return {
    id: upstream.id,
    type: 'demo',
    ask,
    health: () => ({ ...health, checkedAt: new Date() }),
  }
}
