import type { ChatStreamEvent, ChatStreamEvents } from '@cws/backend/contracts'
import type { EventSourceMessage } from 'eventsource-parser'
import type { HttpMethod } from './http'
import { createParser } from 'eventsource-parser'
import { ApiError, networkError, rawRequest } from './http'

export type { ChatStreamEvent, ChatStreamEvents }

/** One event of an ask's stream with the `id:` of its frame (the cursor to resume after it; null if the frame had none). */
export type ChatStreamFrame = ChatStreamEvent & { id: string | null }

const KNOWN_EVENTS = new Set<string>(['accepted', 'queued', 'started', 'delta', 'title', 'done', 'error'] satisfies Array<keyof ChatStreamEvents>)
const TERMINAL_EVENTS = new Set<string>(['done', 'error'] satisfies Array<keyof ChatStreamEvents>)

export interface ReadEventStreamOptions {
  onEvent: (frame: ChatStreamFrame) => void
  /** A `: ping` keep-alive arrived (the connection is alive even when nothing happens). */
  onPing?: () => void
}

/**
 * Reads a `text/event-stream` body and calls `onEvent` for every known event with its JSON data and
 * its frame's id. Unknown event names are ignored. Resolves with the terminal event (`done` or
 * `error`) or `null` when the stream ended without one.
 */
export async function readEventStream(stream: ReadableStream<Uint8Array>, opts: ReadEventStreamOptions): Promise<ChatStreamFrame | null> {
  let terminal: ChatStreamFrame | null = null
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
      const frame = { event: name, data, id: msg.id ?? null } as ChatStreamFrame
      if (TERMINAL_EVENTS.has(name))
        terminal = frame
      opts.onEvent(frame)
    },
    onComment() {
      opts.onPing?.()
    },
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

export interface EventStreamOptions extends ReadEventStreamOptions {
  signal?: AbortSignal
  /** The server answered 200 and the stream is open (nothing may come for a while). */
  onOpen?: () => void
}

/**
 * Sends the request and consumes the `text/event-stream` answer. A non-2xx answer throws ApiError
 * (the JSON `{code}` of a refused ask, 404 for an unknown ask); a network loss throws ApiError
 * NETWORK_ERROR; a stream cut before `done`/`error` throws ApiError STREAM_INTERRUPTED. Aborting the
 * signal rejects with the AbortError. Resolves with the terminal event (also delivered to `onEvent`).
 */
async function eventStream(method: HttpMethod, path: string, body: unknown, headers: Record<string, string>, opts: EventStreamOptions): Promise<ChatStreamFrame> {
  const res = await rawRequest(method, path, { body, signal: opts.signal, headers: { ...headers, Accept: 'text/event-stream' } })
  if (!res.body)
    throw new ApiError({ code: 'STREAM_INTERRUPTED', status: res.status, message: 'The response has no body' })
  opts.onOpen?.()
  let terminal: ChatStreamFrame | null
  try {
    terminal = await readEventStream(res.body, opts)
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

/** POSTs JSON and consumes the event stream it answers (`POST /api/chat`). */
export function postEventStream(path: string, body: unknown, opts: EventStreamOptions): Promise<ChatStreamFrame> {
  return eventStream('POST', path, body, {}, opts)
}

/** GETs an event stream (`GET /api/chat/:id/events`); `lastEventId` resumes right after that frame. */
export function getEventStream(path: string, opts: EventStreamOptions & { lastEventId?: string | null }): Promise<ChatStreamFrame> {
  return eventStream('GET', path, undefined, opts.lastEventId ? { 'Last-Event-ID': opts.lastEventId } : {}, opts)
}
