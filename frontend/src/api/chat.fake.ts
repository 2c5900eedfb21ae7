/**
 * A stand-in for `api/chat.ts` in unit tests (`vi.mock('…/api/chat', …)`): every ask or attach
 * opens a connection the test drives by hand — send frames, end it, or make it fail — and every
 * stop is recorded. Only the network is faked; the stream state machine runs for real.
 */
import type { AcceptedEvent, ChatBody, DoneEvent, StopResponse } from '@cws/backend/contracts'
import type { AskStreamOptions } from './chat'
import type { ChatStreamFrame } from './sse'

export interface FakeConnection {
  kind: 'ask' | 'attach'
  body: ChatBody | null
  requestId: string | null
  lastEventId: string | null
  readonly closed: boolean
  /** Delivers frames, as if they arrived. */
  send: (...frames: ChatStreamFrame[]) => void
  /** Delivers the terminal frame; the request resolves. */
  end: (frame: ChatStreamFrame) => void
  /** The request rejects (a network loss, a stream cut short, an HTTP error before any frame). */
  fail: (err: unknown) => void
}

export function createFakeChatApi() {
  const connections: FakeConnection[] = []
  const stops: string[] = []
  let stopAnswer: (requestId: string) => Promise<StopResponse> = async () => ({ stopped: true })

  function open(kind: FakeConnection['kind'], body: ChatBody | null, requestId: string | null, opts: AskStreamOptions & { lastEventId?: string | null }): Promise<ChatStreamFrame> {
    return new Promise((resolve, reject) => {
      let closed = false
      const conn: FakeConnection = {
        kind,
        body,
        requestId,
        lastEventId: opts.lastEventId ?? null,
        get closed() {
          return closed
        },
        send: (...frames) => {
          if (closed)
            throw new Error('This connection is closed')
          opts.onOpen?.()
          for (const f of frames) opts.onEvent(f)
        },
        end: (frame) => {
          conn.send(frame)
          closed = true
          resolve(frame)
        },
        fail: (err) => {
          closed = true
          reject(err)
        },
      }
      opts.signal?.addEventListener('abort', () => {
        if (!closed) {
          closed = true
          reject(new DOMException('The operation was aborted.', 'AbortError'))
        }
      })
      connections.push(conn)
    })
  }

  return {
    connections,
    stops,
    api: {
      ask: (body: ChatBody, opts: AskStreamOptions) => open('ask', body, null, opts),
      attach: (requestId: string, opts: AskStreamOptions & { lastEventId?: string | null }) => open('attach', null, requestId, opts),
      stopAsk: async (requestId: string): Promise<StopResponse> => {
        stops.push(requestId)
        return stopAnswer(requestId)
      },
    },
    /** The newest connection. */
    last(): FakeConnection {
      const c = connections[connections.length - 1]
      if (!c)
        throw new Error('No connection was opened')
      return c
    },
    /** How the stop endpoint answers (default: `{stopped: true}`). */
    onStop(fn: (requestId: string) => Promise<StopResponse>): void {
      stopAnswer = fn
    },
    reset(): void {
      connections.length = 0
      stops.length = 0
      stopAnswer = async () => ({ stopped: true })
    },
  }
}

/** One fake server for a test file: the mocked module and the test share it. */
export const fakeChat = createFakeChatApi()

/** Frames as the server sends them (ids are opaque cursors; any distinct strings do). */
export const frame = {
  accepted: (id = '1.0', data: Partial<AcceptedEvent> = {}): ChatStreamFrame => ({ event: 'accepted', id, data: { requestId: 'r1', conversationId: 'c1', userMessageId: 'u9', assistantMessageId: 'a9', ...data } }),
  queued: (position: number, etaSeconds: number, id = '1.0'): ChatStreamFrame => ({ event: 'queued', id, data: { position, etaSeconds } }),
  started: (id = '2.0'): ChatStreamFrame => ({ event: 'started', id, data: {} }),
  delta: (text: string, id: string): ChatStreamFrame => ({ event: 'delta', id, data: { text } }),
  title: (title: string, id = '3.0'): ChatStreamFrame => ({ event: 'title', id, data: { title } }),
  done: (finishReason: DoneEvent['finishReason'] = 'stop', id = '9.9'): ChatStreamFrame => ({ event: 'done', id, data: { finishReason } }),
  error: (code: string, id = '9.9'): ChatStreamFrame => ({ event: 'error', id, data: { code, message: code } }),
}
