import type { EventSourceMessage } from 'eventsource-parser'
import type { FinishReason, ProviderEvent } from '../types.js'
import type { DeltaOp } from './delta.js'
import { ProviderError } from '../types.js'
import { DeltaDocuments } from './delta.js'

/**
 * Turns a ChatGPT `conversation` SSE reply into provider events, in both encodings:
 * classic (each event carries the whole message, `parts[0]` cumulative) and "v1" (documents plus
 * operations). Follows only the assistant message meant for the user (`recipient:"all"`); tool
 * calls, tool results, the echoed user message, moderation and unknown events are skipped.
 */
export interface StreamOptions {
  /** Builds a safe error message from an upstream error text. */
  excerpt: (text: string) => string
  upstreamId: string
}

interface Tracked {
  id: string
  /** Text already emitted for this message. */
  emitted: string
}

export function finishReasonOf(type: unknown): FinishReason {
  switch (type) {
    case 'stop':
      return 'stop'
    case 'max_tokens':
      return 'length'
    case 'content_filter':
      return 'content_filter'
    default:
      return 'other'
  }
}

export function textOf(content: any): string | undefined {
  if (!content || typeof content !== 'object')
    return undefined
  if (content.content_type !== 'text' && content.content_type !== 'multimodal_text')
    return undefined
  if (!Array.isArray(content.parts))
    return undefined
  const strings = content.parts.filter((p: unknown) => typeof p === 'string') as string[]
  return strings.length ? strings.join('') : ''
}

export async function* conversationEvents(sse: AsyncIterable<EventSourceMessage>, opts: StreamOptions): AsyncGenerator<ProviderEvent> {
  let v1: DeltaDocuments | undefined
  let conversationId: string | undefined
  let current: Tracked | undefined
  let anyText = false
  let finish: FinishReason | undefined
  let lastContext = ''
  let sawDone = false

  function* onEvent(obj: any): Generator<ProviderEvent> {
    if (!obj || typeof obj !== 'object')
      return
    if (typeof obj.conversation_id === 'string')
      conversationId = obj.conversation_id
    if (obj.type === 'title_generation') {
      if (typeof obj.title === 'string' && obj.title.trim())
        yield { type: 'title', title: obj.title.trim() }
      return
    }
    const msg = obj.message
    if (!msg || typeof msg !== 'object') {
      if (obj.error)
        throw new ProviderError('UPSTREAM_ERROR', `upstream ${opts.upstreamId} reported an error: ${opts.excerpt(typeof obj.error === 'string' ? obj.error : JSON.stringify(obj.error))}`)
      return
    }
    if (msg.author?.role !== 'assistant' || (msg.recipient ?? 'all') !== 'all' || typeof msg.id !== 'string')
      return
    const text = textOf(msg.content)
    if (text === undefined)
      return
    if (!current || current.id !== msg.id) {
      // A new assistant message for the user (e.g. after a tool call): separate it from the previous one.
      if (current && current.emitted && text)
        yield { type: 'text', text: '\n\n' }
      current = { id: msg.id, emitted: '' }
      finish = undefined
    }
    if (text.length > current.emitted.length && text.startsWith(current.emitted)) {
      const delta = text.slice(current.emitted.length)
      current.emitted = text
      anyText = true
      yield { type: 'text', text: delta }
    }
    else if (!text.startsWith(current.emitted)) {
      // The upstream rewrote text already shown; we cannot take it back, so follow from here.
      current.emitted = text
    }
    if (conversationId && `${conversationId}/${msg.id}` !== lastContext) {
      lastContext = `${conversationId}/${msg.id}`
      yield { type: 'context', upstreamConversationId: conversationId, upstreamMessageId: msg.id }
    }
    const details = msg.metadata?.finish_details
    if (details?.type)
      finish = finishReasonOf(details.type)
    else if (msg.status === 'finished_successfully' && msg.end_turn === true)
      finish ??= 'stop'
  }

  for await (const ev of sse) {
    const data = ev.data.trim()
    if (data === '[DONE]') {
      sawDone = true
      break
    }
    let obj: unknown
    try {
      obj = JSON.parse(data)
    }
    catch {
      continue // keep-alives and other non-JSON lines
    }
    if (ev.event === 'delta_encoding') {
      v1 = new DeltaDocuments()
      continue
    }
    if (ev.event === 'delta') {
      v1 ??= new DeltaDocuments()
      if (obj && typeof obj === 'object' && !Array.isArray(obj))
        yield* onEvent(v1.apply(obj as DeltaOp))
      continue
    }
    if (ev.event && ev.event !== 'message')
      continue // unknown named events
    yield* onEvent(obj)
  }

  if (!sawDone && !finish)
    throw new ProviderError('UPSTREAM_ERROR', `upstream ${opts.upstreamId} ended the stream before the answer was complete`)
  if (!anyText && !finish)
    throw new ProviderError('UPSTREAM_ERROR', `upstream ${opts.upstreamId} sent no answer`)
  yield { type: 'done', finishReason: finish ?? 'stop' }
}
