import type { EventSourceMessage } from 'eventsource-parser'
import type { FinishReason, ProviderEvent, Usage } from '../types.js'
import { ProviderError } from '../types.js'

export function finishReasonOf(reason: unknown): FinishReason {
  switch (reason) {
    case 'stop':
      return 'stop'
    case 'length':
      return 'length'
    case 'content_filter':
      return 'content_filter'
    default:
      return 'other'
  }
}

export function usageOf(u: any): Usage | undefined {
  if (!u || typeof u !== 'object')
    return undefined
  const usage: Usage = {}
  if (typeof u.prompt_tokens === 'number')
    usage.promptTokens = u.prompt_tokens
  if (typeof u.completion_tokens === 'number')
    usage.completionTokens = u.completion_tokens
  if (typeof u.total_tokens === 'number')
    usage.totalTokens = u.total_tokens
  return Object.keys(usage).length ? usage : undefined
}

/**
 * Chat Completions chunks → provider events. `finish_reason` is taken from whichever chunk carries
 * it (not only the first), `usage` from the final usage chunk (`stream_options.include_usage`).
 */
export async function* completionEvents(sse: AsyncIterable<EventSourceMessage>, opts: { upstreamId: string, excerpt: (t: string) => string }): AsyncGenerator<ProviderEvent> {
  let finish: FinishReason | undefined
  let usage: Usage | undefined
  let sawDone = false
  for await (const ev of sse) {
    const data = ev.data.trim()
    if (data === '[DONE]') {
      sawDone = true
      break
    }
    let chunk: any
    try {
      chunk = JSON.parse(data)
    }
    catch {
      continue
    }
    if (chunk?.error)
      throw new ProviderError('UPSTREAM_ERROR', `upstream ${opts.upstreamId} reported an error: ${opts.excerpt(JSON.stringify(chunk.error))}`)
    const choice = Array.isArray(chunk?.choices) ? chunk.choices[0] : undefined
    const text = choice?.delta?.content
    if (typeof text === 'string' && text)
      yield { type: 'text', text }
    if (choice?.finish_reason)
      finish = finishReasonOf(choice.finish_reason)
    usage = usageOf(chunk?.usage) ?? usage
  }
  if (!sawDone && !finish)
    throw new ProviderError('UPSTREAM_ERROR', `upstream ${opts.upstreamId} ended the stream before the answer was complete`)
  yield usage ? { type: 'done', finishReason: finish ?? 'stop', usage } : { type: 'done', finishReason: finish ?? 'stop' }
}

/** A non-streamed answer (`choices[0].message`), accepted from servers that ignore `stream:true`. */
export function* completionFromJson(body: any, opts: { upstreamId: string, excerpt: (t: string) => string }): Generator<ProviderEvent> {
  if (body?.error)
    throw new ProviderError('UPSTREAM_ERROR', `upstream ${opts.upstreamId} reported an error: ${opts.excerpt(JSON.stringify(body.error))}`)
  const choice = Array.isArray(body?.choices) ? body.choices[0] : undefined
  const text = choice?.message?.content
  if (typeof text !== 'string')
    throw new ProviderError('UPSTREAM_ERROR', `upstream ${opts.upstreamId} sent no answer`)
  if (text)
    yield { type: 'text', text }
  const usage = usageOf(body?.usage)
  const finishReason = finishReasonOf(choice?.finish_reason ?? 'stop')
  yield usage ? { type: 'done', finishReason, usage } : { type: 'done', finishReason }
}
