import type { ChatStreamEvent } from './sse'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { postEventStream, readEventStream } from './sse'

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder()
  return new ReadableStream({
    start(controller) {
      for (const c of chunks)
        controller.enqueue(enc.encode(c))
      controller.close()
    },
  })
}

const FULL = [
  'event: accepted\ndata: {"requestId":"q1","conversationId":"c1","userMessageId":"u1","assistantMessageId":"a1"}\n\n',
  'event: queued\ndata: {"position":2,"etaSeconds":30}\n\n',
  ': ping\n\n',
  'event: queued\ndata: {"position":1,"etaSeconds":10}\n\n',
  'event: started\ndata: {}\n\n',
  'event: delta\ndata: {"text":"Hel"}\n\n',
  'event: delta\ndata: {"text":"lo, 世界"}\n\n',
  'event: title\ndata: {"title":"Greeting"}\n\n',
  'event: done\ndata: {"finishReason":"stop"}\n\n',
]

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('readEventStream', () => {
  it('delivers every event in order and ignores comment pings', async () => {
    const events: ChatStreamEvent[] = []
    const terminal = await readEventStream(streamOf(FULL), e => events.push(e))
    expect(events.map(e => e.event)).toEqual(['accepted', 'queued', 'queued', 'started', 'delta', 'delta', 'title', 'done'])
    expect(events[0]).toEqual({ event: 'accepted', data: { requestId: 'q1', conversationId: 'c1', userMessageId: 'u1', assistantMessageId: 'a1' } })
    const text = events.flatMap(e => (e.event === 'delta' ? [e.data.text] : [])).join('')
    expect(text).toBe('Hello, 世界')
    expect(terminal).toEqual({ event: 'done', data: { finishReason: 'stop' } })
  })

  it('reassembles events split at arbitrary byte boundaries, even inside a UTF-8 character', async () => {
    const bytes = new TextEncoder().encode(FULL.join(''))
    const chunks: Uint8Array[] = []
    for (let i = 0; i < bytes.length; i += 7)
      chunks.push(bytes.slice(i, i + 7))
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        chunks.forEach(ch => c.enqueue(ch))
        c.close()
      },
    })
    const events: ChatStreamEvent[] = []
    await readEventStream(stream, e => events.push(e))
    expect(events).toHaveLength(8)
    expect(events.flatMap(e => (e.event === 'delta' ? [e.data.text] : [])).join('')).toBe('Hello, 世界')
  })

  it('ends with an error event and skips unknown event names', async () => {
    const events: ChatStreamEvent[] = []
    const terminal = await readEventStream(streamOf([
      'event: accepted\ndata: {"requestId":"q","conversationId":"c","userMessageId":"u","assistantMessageId":"a"}\n\n',
      'event: surprise\ndata: {"x":1}\n\n',
      'event: error\ndata: {"code":"UPSTREAM_RATE_LIMITED","message":"slow down","retryAfterSeconds":60}\n\n',
    ]), e => events.push(e))
    expect(events.map(e => e.event)).toEqual(['accepted', 'error'])
    expect(terminal?.event).toBe('error')
    expect(terminal?.data).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', retryAfterSeconds: 60 })
  })

  it('returns null when the stream ends before done/error', async () => {
    const terminal = await readEventStream(streamOf([FULL[0]!, 'event: delta\ndata: {"text":"par']), () => {})
    expect(terminal).toBeNull()
  })
})

describe('postEventStream', () => {
  it('posts JSON and resolves with the terminal event', async () => {
    const fetchMock = vi.fn(async () => new Response(streamOf(FULL), { status: 200, headers: { 'Content-Type': 'text/event-stream' } }))
    vi.stubGlobal('fetch', fetchMock)
    const seen: string[] = []
    const terminal = await postEventStream('/chat', { model: 'm', content: 'hi' }, { onEvent: e => seen.push(e.event) })
    expect(terminal.event).toBe('done')
    expect(seen).toHaveLength(8)
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/chat')
    expect(init.method).toBe('POST')
    expect((init.headers as Record<string, string>).Accept).toBe('text/event-stream')
  })

  it('rejects with the ApiError of a JSON error answered before the stream', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ code: 'MODEL_ASKS_EXHAUSTED', message: 'x', reqId: 'r' }), { status: 403 })))
    await expect(postEventStream('/chat', {}, { onEvent: () => {} })).rejects.toMatchObject({ code: 'MODEL_ASKS_EXHAUSTED', status: 403 })
  })

  it('rejects with STREAM_INTERRUPTED when the stream is cut short', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(streamOf([FULL[0]!]), { status: 200 })))
    await expect(postEventStream('/chat', {}, { onEvent: () => {} })).rejects.toMatchObject({ code: 'STREAM_INTERRUPTED' })
  })

  it('rejects with the AbortError when the caller aborts mid-stream', async () => {
    const enc = new TextEncoder()
    const controller = new AbortController()
    vi.stubGlobal('fetch', vi.fn(async (_url: string, init: RequestInit) => {
      // Like a real fetch: aborting errors the body stream.
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(enc.encode(FULL[0]!))
          init.signal?.addEventListener('abort', () => c.error(new DOMException('aborted', 'AbortError')))
        },
      })
      return new Response(body, { status: 200 })
    }))
    const seen: string[] = []
    const p = postEventStream('/chat', {}, {
      signal: controller.signal,
      onEvent: (e) => {
        seen.push(e.event)
        controller.abort()
      },
    })
    await expect(p).rejects.toMatchObject({ name: 'AbortError' })
    expect(seen).toEqual(['accepted'])
  })
})
