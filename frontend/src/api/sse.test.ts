import type { ChatStreamFrame } from './sse'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { getEventStream, postEventStream, readEventStream } from './sse'

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
  'id: 1.0\nevent: accepted\ndata: {"requestId":"q1","conversationId":"c1","userMessageId":"u1","assistantMessageId":"a1"}\n\n',
  'id: 1.0\nevent: queued\ndata: {"position":2,"etaSeconds":30}\n\n',
  ': ping\n\n',
  'id: 1.0\nevent: queued\ndata: {"position":1,"etaSeconds":10}\n\n',
  'id: 2.0\nevent: started\ndata: {}\n\n',
  'id: 2.3\nevent: delta\ndata: {"text":"Hel"}\n\n',
  'id: 2.9\nevent: delta\ndata: {"text":"lo, 世界"}\n\n',
  'id: 3.9\nevent: title\ndata: {"title":"Greeting"}\n\n',
  'id: 4.9\nevent: done\ndata: {"finishReason":"stop","usage":{"promptTokens":3,"completionTokens":5,"totalTokens":8}}\n\n',
]

const textOf = (frames: ChatStreamFrame[]): string => frames.flatMap(e => (e.event === 'delta' ? [e.data.text] : [])).join('')

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('readEventStream', () => {
  it('delivers every event in order with its frame id; pings only to onPing', async () => {
    const events: ChatStreamFrame[] = []
    const onPing = vi.fn()
    const terminal = await readEventStream(streamOf(FULL), { onEvent: e => events.push(e), onPing })
    expect(events.map(e => e.event)).toEqual(['accepted', 'queued', 'queued', 'started', 'delta', 'delta', 'title', 'done'])
    expect(events[0]).toEqual({ event: 'accepted', id: '1.0', data: { requestId: 'q1', conversationId: 'c1', userMessageId: 'u1', assistantMessageId: 'a1' } })
    expect(events.map(e => e.id)).toEqual(['1.0', '1.0', '1.0', '2.0', '2.3', '2.9', '3.9', '4.9'])
    expect(textOf(events)).toBe('Hello, 世界')
    expect(onPing).toHaveBeenCalledTimes(1)
    expect(terminal).toEqual({ event: 'done', id: '4.9', data: { finishReason: 'stop', usage: { promptTokens: 3, completionTokens: 5, totalTokens: 8 } } })
  })

  it('a frame without an id has id null', async () => {
    const events: ChatStreamFrame[] = []
    await readEventStream(streamOf(['event: delta\ndata: {"text":"x"}\n\n', 'event: done\ndata: {"finishReason":"stop"}\n\n']), { onEvent: e => events.push(e) })
    expect(events.map(e => e.id)).toEqual([null, null])
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
    const events: ChatStreamFrame[] = []
    await readEventStream(stream, { onEvent: e => events.push(e) })
    expect(events).toHaveLength(8)
    expect(textOf(events)).toBe('Hello, 世界')
    expect(events.at(-1)?.id).toBe('4.9')
  })

  it('ends with an error event and skips unknown event names', async () => {
    const events: ChatStreamFrame[] = []
    const terminal = await readEventStream(streamOf([
      'event: accepted\ndata: {"requestId":"q","conversationId":"c","userMessageId":"u","assistantMessageId":"a"}\n\n',
      'event: surprise\ndata: {"x":1}\n\n',
      'event: error\ndata: {"code":"UPSTREAM_RATE_LIMITED","message":"slow down","retryAfterSeconds":60}\n\n',
    ]), { onEvent: e => events.push(e) })
    expect(events.map(e => e.event)).toEqual(['accepted', 'error'])
    expect(terminal?.event).toBe('error')
    expect(terminal?.data).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', retryAfterSeconds: 60 })
  })

  it('returns null when the stream ends before done/error', async () => {
    const terminal = await readEventStream(streamOf([FULL[0]!, 'event: delta\ndata: {"text":"par']), { onEvent: () => {} })
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

describe('getEventStream', () => {
  it('gets the stream with Last-Event-ID to resume after that frame, and says when it is open', async () => {
    const fetchMock = vi.fn(async () => new Response(streamOf(FULL.slice(5)), { status: 200, headers: { 'Content-Type': 'text/event-stream' } }))
    vi.stubGlobal('fetch', fetchMock)
    const onOpen = vi.fn()
    const frames: ChatStreamFrame[] = []
    const terminal = await getEventStream('/chat/q1/events', { lastEventId: '2.0', onOpen, onEvent: e => frames.push(e) })
    expect(terminal.event).toBe('done')
    expect(textOf(frames)).toBe('Hello, 世界')
    expect(onOpen).toHaveBeenCalledTimes(1)
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/chat/q1/events')
    expect(init.method).toBe('GET')
    expect(init.body).toBeUndefined()
    expect(init.headers).toMatchObject({ 'Accept': 'text/event-stream', 'Last-Event-ID': '2.0' })
  })

  it('without a cursor sends no Last-Event-ID (the server answers a snapshot)', async () => {
    const fetchMock = vi.fn(async () => new Response(streamOf(FULL), { status: 200 }))
    vi.stubGlobal('fetch', fetchMock)
    await getEventStream('/chat/q1/events', { onEvent: () => {} })
    const [, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    expect(Object.keys(init.headers as Record<string, string>)).not.toContain('Last-Event-ID')
  })

  it('rejects with the 404 of an unknown ask, before any event', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ code: 'NOT_FOUND', message: 'No such ask.', reqId: 'r' }), { status: 404 })))
    const onEvent = vi.fn()
    await expect(getEventStream('/chat/nope/events', { onEvent })).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 })
    expect(onEvent).not.toHaveBeenCalled()
  })

  it('a network loss mid-stream rejects with NETWORK_ERROR after the frames that arrived', async () => {
    const enc = new TextEncoder()
    vi.stubGlobal('fetch', vi.fn(async () => new Response(new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode(FULL[0]! + FULL[5]!))
        setTimeout(() => c.error(new TypeError('network error')), 0)
      },
    }), { status: 200 })))
    const frames: ChatStreamFrame[] = []
    await expect(getEventStream('/chat/q1/events', { onEvent: e => frames.push(e) })).rejects.toMatchObject({ code: 'NETWORK_ERROR' })
    expect(frames.map(f => f.id)).toEqual(['1.0', '2.3'])
  })
})
