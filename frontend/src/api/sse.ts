import type { EventSourceMessage } from 'eventsource-parser'
import { createParser } from 'eventsource-parser'
import { ApiError, networkError, rawRequest } from './http'

/** Events of `POST /api/chat` (DESIGN.md, "Chat stream events"), in the order the server sends them. */
export interface ChatStreamEventMap {
  accepted: { requestId: string, conversationId: string, userMessageId: string, assistantMessageId: string, title?: string }
  queued: { position: number, etaSeconds: number | null }
  started: Record<string, never>
  delta: { text: string }
  title: { title: string }
  done: { finishReason: string, usage?: { inputTokens?: number, outputTokens?: number } & Record<string, unknown> }
  error: { code: string, message: string, retryAfterSeconds?: number }
}

export type ChatStreamEventName = keyof ChatStreamEventMap

export type ChatStreamEvent = {
  [K in ChatStreamEventName]: { event: K, data: ChatStreamEventMap[K] }
}[ChatStreamEventName]

const KNOWN_EVENTS = new Set<string>(['accepted', 'queued', 'started', 'delta', 'title', 'done', 'error'])
const TERMINAL_EVENTS = new Set<string>(['done', 'error'])

/**
 * Reads a `text/event-stream` body and calls `onEvent` for every known event with its JSON data.
 * Comment lines (`: ping`) and unknown event names are ignored. Resolves with the terminal event
 * (`done` or `error`) or `null` when the stream ended without one.
 */
export async function readEventStream(
  stream: ReadableStream<Uint8Array>,
  onEvent: (event: ChatStreamEvent) => void,
): Promise<ChatStreamEvent | null> {
  let terminal: ChatStreamEvent | null = null
  let parseFailure: Error | null = null
  const parser = createParser({
    onEvent(msg: EventSourceMessage) {
      const name = msg.event ?? 'message'
      if (!KNOWN_EVENTS.has(name) || terminal)
        return
      let data: unknown
      try {
        data = msg.data ? JSON.parse(msg.data) : {}
      }
      catch {
        parseFailure ??= new Error(`Malformed "${name}" event data`)
        return
      }
      const event = { event: name, data } as ChatStreamEvent
      if (TERMINAL_EVENTS.has(name))
        terminal = event
      onEvent(event)
    },
    // `: ping` keep-alives carry nothing for us.
    onComment() {},
  })

  const reader = stream.getReader()
  const decoder = new TextDecoder()
  try {
    while (true) {
      const { value, done } = await reader.read()
      if (done) {
        parser.feed(decoder.decode())
        break
      }
      parser.feed(decoder.decode(value, { stream: true }))
      if (terminal)
        break
    }
  }
  finally {
    reader.releaseLock()
  }
  if (parseFailure && !terminal)
    throw parseFailure
  return terminal
}

export interface PostEventStreamOptions {
  signal?: AbortSignal
  onEvent: (event: ChatStreamEvent) => void
}

/**
 * POSTs JSON and consumes the `text/event-stream` answer. A non-2xx answer (e.g. a quota error
 * before the stream begins) throws ApiError; an `error` event is delivered through `onEvent` and
 * returned; a stream cut before `done`/`error` throws ApiError STREAM_INTERRUPTED. Aborting the
 * signal (the stop button) rejects with the AbortError — the caller also tells the server to stop.
 */
export async function postEventStream(path: string, body: unknown, opts: PostEventStreamOptions): Promise<ChatStreamEvent> {
  const res = await rawRequest('POST', path, { body, signal: opts.signal, headers: { Accept: 'text/event-stream' } })
  if (!res.body)
    throw new ApiError({ code: 'STREAM_INTERRUPTED', status: res.status, message: 'The response has no body' })
  let terminal: ChatStreamEvent | null
  try {
    terminal = await readEventStream(res.body, opts.onEvent)
  }
  catch (err) {
    if (opts.signal?.aborted || (err instanceof DOMException && err.name === 'AbortError'))
      throw err
    if (err instanceof TypeError)
      throw networkError(err)
    throw err
  }
  if (!terminal)
    throw new ApiError({ code: 'STREAM_INTERRUPTED', status: res.status, message: 'The answer stream ended early' })
  return terminal
}
