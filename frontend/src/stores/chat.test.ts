import type { ChatBody } from '@cws/backend/contracts'
import type { ChatStreamEvent } from '../api/sse'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../api/http'
import { buildThread, newestLeaf, useChatStore } from './chat'
import { useConversationsStore } from './conversations'

type Script = (emit: (e: ChatStreamEvent) => void, signal: AbortSignal, body: ChatBody) => Promise<ChatStreamEvent>

const chatApi = vi.hoisted(() => ({
  script: null as null | Script,
  bodies: [] as unknown[],
  stopped: [] as string[],
}))

vi.mock('../api/chat', () => ({
  ask: (body: ChatBody, opts: { signal?: AbortSignal, onEvent: (e: ChatStreamEvent) => void }) => {
    chatApi.bodies.push(body)
    return chatApi.script!(opts.onEvent, opts.signal!, body)
  },
  stopAsk: async (id: string) => {
    chatApi.stopped.push(id)
    return { stopped: true }
  },
}))
vi.mock('../api/models', () => ({
  listModels: async () => ({ models: [
    { key: 'demo', name: 'Demo', upstreamId: 'demo', upstreamType: 'demo', isDemo: true, remaining: { total: -1, model: -1 }, windows: [], available: true, reason: null, nextAllowedAt: null },
  ] }),
}))
vi.mock('../api/conversations', () => ({
  getConversation: async (id: string) => ({
    id,
    title: 'Old chat',
    model: 'demo',
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    messages: [
      { id: 'u1', parentId: null, role: 'user', content: 'Hi', status: 'done', model: 'demo', finishReason: null, errorCode: null, createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z' },
      { id: 'a1', parentId: 'u1', role: 'assistant', content: 'Hello!', status: 'done', model: 'demo', finishReason: 'length', errorCode: null, createdAt: '2024-01-01T00:00:01.000Z', updatedAt: '2024-01-01T00:00:01.000Z' },
    ],
  }),
  listConversations: async () => ({ items: [], nextCursor: null, total: 0 }),
  renameConversation: async () => ({}),
  deleteConversation: async () => undefined,
}))

const accepted = (conv = 'c1', user = 'u9', answer = 'a9'): ChatStreamEvent => ({ event: 'accepted', data: { requestId: 'r1', conversationId: conv, userMessageId: user, assistantMessageId: answer } })
const delta = (text: string): ChatStreamEvent => ({ event: 'delta', data: { text } })
const done = (finishReason: 'stop' | 'length' | 'aborted' = 'stop'): ChatStreamEvent => ({ event: 'done', data: { finishReason } })

function abortError(): DOMException {
  return new DOMException('The operation was aborted.', 'AbortError')
}

/** Resolves when `signal` aborts, rejecting like fetch does. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted)
      reject(abortError())
    signal.addEventListener('abort', () => reject(abortError()))
  })
}

beforeEach(() => {
  setActivePinia(createPinia())
  localStorage.clear()
  chatApi.script = null
  chatApi.bodies = []
  chatApi.stopped = []
})

describe('chat stream consumer', () => {
  it('appends deltas to the growing answer and ends done', async () => {
    const store = useChatStore()
    const seen: string[] = []
    chatApi.script = async (emit) => {
      emit(accepted())
      emit({ event: 'started', data: {} })
      emit(delta('Hel'))
      emit(delta('lo, '))
      emit(delta('world'))
      seen.push(store.phase)
      emit(done())
      return done()
    }
    store.selectedModel = 'demo'
    await store.send('Say hi')
    expect(seen).toEqual(['streaming'])
    expect(store.messages.map(m => [m.role, m.content, m.status])).toEqual([
      ['user', 'Say hi', 'done'],
      ['assistant', 'Hello, world', 'done'],
    ])
    expect(store.messages.map(m => m.id)).toEqual(['u9', 'a9'])
    expect(store.current.id).toBe('c1')
    expect(store.phase).toBe('done')
    expect(store.busy).toBe(false)
    expect(chatApi.bodies[0]).toMatchObject({ model: 'demo', content: 'Say hi', action: 'next' })
    expect((chatApi.bodies[0] as ChatBody).conversationId).toBeUndefined()
  })

  it('batches deltas: the message content changes once per frame, not per delta', async () => {
    const store = useChatStore()
    let contentDuringStream = ''
    chatApi.script = async (emit) => {
      emit(accepted())
      for (let i = 0; i < 50; i++)
        emit(delta('x'))
      contentDuringStream = store.messages[1]!.content
      await new Promise(r => setTimeout(r, 40))
      const afterFrame = store.messages[1]!.content
      emit(delta('y'))
      emit(done())
      expect(afterFrame).toBe('x'.repeat(50))
      return done()
    }
    await store.send('q')
    expect(contentDuringStream).toBe('')
    expect(store.messages[1]!.content).toBe(`${'x'.repeat(50)}y`)
  })

  it('shows the queue position and ETA while queued, then streams', async () => {
    const store = useChatStore()
    const states: unknown[] = []
    chatApi.script = async (emit) => {
      emit(accepted())
      emit({ event: 'queued', data: { position: 3, etaSeconds: 40 } })
      states.push([store.phase, { ...store.queue }])
      emit({ event: 'queued', data: { position: 1, etaSeconds: 8 } })
      states.push([store.phase, { ...store.queue }])
      emit({ event: 'started', data: {} })
      states.push([store.phase, store.queue])
      emit(delta('ok'))
      return done()
    }
    await store.send('q')
    expect(states).toEqual([
      ['queued', { position: 3, etaSeconds: 40 }],
      ['queued', { position: 1, etaSeconds: 8 }],
      ['streaming', null],
    ])
    expect(store.queue).toBeNull()
  })

  it('an error event marks the answer with its code and keeps partial text', async () => {
    const store = useChatStore()
    chatApi.script = async (emit) => {
      emit(accepted())
      emit(delta('Partial'))
      const e: ChatStreamEvent = { event: 'error', data: { code: 'UPSTREAM_RATE_LIMITED', message: 'slow down' } }
      emit(e)
      return e
    }
    await store.send('q')
    const answer = store.messages[1]!
    expect(answer.status).toBe('error')
    expect(answer.errorCode).toBe('UPSTREAM_RATE_LIMITED')
    expect(answer.content).toBe('Partial')
    expect(store.phase).toBe('error')
    expect(store.composerError).toBeNull()
  })

  it('an admission failure drops the optimistic messages and gives the question back', async () => {
    const store = useChatStore()
    chatApi.script = async () => {
      throw new ApiError({ code: 'MODEL_ASKS_EXHAUSTED', status: 429, message: 'no more' })
    }
    store.draft = 'My long question'
    await store.send(store.draft)
    expect(store.messages).toEqual([])
    expect(store.draft).toBe('My long question')
    expect(store.composerError?.code).toBe('MODEL_ASKS_EXHAUSTED')
    expect(store.current.id).toBeNull()
  })

  it('network loss mid-stream keeps what arrived and marks it interrupted', async () => {
    const store = useChatStore()
    chatApi.script = async (emit) => {
      emit(accepted())
      emit(delta('Half an ans'))
      throw new ApiError({ code: 'STREAM_INTERRUPTED', status: 200, message: 'cut' })
    }
    await store.send('q')
    const answer = store.messages[1]!
    expect(answer.content).toBe('Half an ans')
    expect(answer.status).toBe('interrupted')
    expect(answer.errorCode).toBe('STREAM_INTERRUPTED')
    expect(store.canRegenerate).toBe(true)
  })

  it('stop while streaming calls the stop endpoint, aborts, and keeps the partial answer', async () => {
    const store = useChatStore()
    let signalAborted = false
    chatApi.script = async (emit, signal) => {
      emit(accepted())
      emit(delta('Some text'))
      try {
        return await untilAborted(signal)
      }
      finally {
        signalAborted = signal.aborted
      }
    }
    const sending = store.send('q')
    await Promise.resolve()
    expect(store.busy).toBe(true)
    await store.stop()
    await sending
    expect(chatApi.stopped).toEqual(['r1'])
    expect(signalAborted).toBe(true)
    expect(store.messages[1]!.content).toBe('Some text')
    expect(store.messages[1]!.status).toBe('stopped')
    expect(store.phase).toBe('stopped')
    expect(store.busy).toBe(false)
  })

  it('stop while queued (before any text) also reaches the server', async () => {
    const store = useChatStore()
    chatApi.script = async (emit, signal) => {
      emit(accepted())
      emit({ event: 'queued', data: { position: 2, etaSeconds: 30 } })
      return untilAborted(signal)
    }
    const sending = store.send('q')
    await Promise.resolve()
    expect(store.phase).toBe('queued')
    await store.stop()
    await sending
    expect(chatApi.stopped).toEqual(['r1'])
    expect(store.messages[1]!.status).toBe('stopped')
  })

  it('stop before the server accepted: nothing to stop server-side, the question returns to the composer', async () => {
    const store = useChatStore()
    chatApi.script = async (_emit, signal) => untilAborted(signal)
    const sending = store.send('never mind')
    await Promise.resolve()
    await store.stop()
    await sending
    expect(chatApi.stopped).toEqual([])
    expect(store.messages).toEqual([])
    expect(store.draft).toBe('never mind')
  })

  it('the server ending with finishReason aborted marks the answer stopped', async () => {
    const store = useChatStore()
    chatApi.script = async (emit) => {
      emit(accepted())
      emit(delta('abc'))
      return done('aborted')
    }
    await store.send('q')
    expect(store.messages[1]!.status).toBe('stopped')
  })

  it('a title event renames the conversation in the sidebar', async () => {
    const store = useChatStore()
    const list = useConversationsStore()
    chatApi.script = async (emit) => {
      emit(accepted('c42'))
      emit({ event: 'title', data: { title: 'Greetings' } })
      return done()
    }
    await store.send('q')
    expect(store.current.title).toBe('Greetings')
    expect(list.items[0]).toMatchObject({ id: 'c42', title: 'Greetings' })
  })

  it('follow-ups send the conversation id and the last message as parent', async () => {
    const store = useChatStore()
    await store.open('c7')
    chatApi.script = async (emit) => {
      emit(accepted('c7', 'u2', 'a2'))
      return done()
    }
    await store.send('And then?')
    expect(chatApi.bodies[0]).toMatchObject({ conversationId: 'c7', parentMessageId: 'a1', action: 'next' })
    expect(store.messages.map(m => m.id)).toEqual(['u1', 'a1', 'u2', 'a2'])
  })

  it('regenerate answers the last question again; the old answer stays as a sibling', async () => {
    const store = useChatStore()
    await store.open('c7')
    chatApi.script = async (emit) => {
      emit({ event: 'accepted', data: { requestId: 'r2', conversationId: 'c7', userMessageId: 'u1', assistantMessageId: 'a1b' } })
      emit(delta('Hi again'))
      return done()
    }
    await store.regenerate()
    expect(chatApi.bodies[0]).toMatchObject({ conversationId: 'c7', parentMessageId: 'u1', action: 'regenerate' })
    expect(store.messages.map(m => m.id)).toEqual(['u1', 'a1b'])
    const answer = store.messages[1]!
    expect(store.siblingsOf(answer).map(m => m.id)).toEqual(['a1', 'a1b'])
    store.showBranch('a1')
    expect(store.messages.map(m => m.content)).toEqual(['Hi', 'Hello!'])
  })

  it('continue appends to the answer cut by length', async () => {
    const store = useChatStore()
    await store.open('c7')
    expect(store.canContinue).toBe(true)
    chatApi.script = async (emit) => {
      emit({ event: 'accepted', data: { requestId: 'r3', conversationId: 'c7', userMessageId: 'u1', assistantMessageId: 'a1' } })
      emit(delta(' And more.'))
      return done()
    }
    await store.continueAnswer()
    expect(chatApi.bodies[0]).toMatchObject({ parentMessageId: 'a1', action: 'continue' })
    expect(store.messages[1]!.content).toBe('Hello! And more.')
    expect(store.messages[1]!.finishReason).toBe('stop')
    expect(store.canContinue).toBe(false)
  })
})

describe('threads', () => {
  const m = (id: string, parentId: string | null) => ({ key: id, id, parentId, role: (parentId && id.startsWith('a') ? 'assistant' : 'user') as 'user' | 'assistant', content: id, status: 'done' as const, model: 'x', finishReason: null, errorCode: null, createdAt: '' })
  const all = [m('u1', null), m('a1', 'u1'), m('u2', 'a1'), m('a2', 'u2'), m('a1b', 'u1'), m('u3', 'a1b'), m('a3', 'u3')]

  it('shows the newest branch by default', () => {
    expect(buildThread(all, null).map(x => x.id)).toEqual(['u1', 'a1b', 'u3', 'a3'])
  })

  it('switching to an older answer shows its newest continuation', () => {
    expect(newestLeaf(all, 'a1')).toBe('a2')
    expect(buildThread(all, newestLeaf(all, 'a1')).map(x => x.id)).toEqual(['u1', 'a1', 'u2', 'a2'])
  })
})
