import type { ChatBody, ConversationDetail, MessageView } from '@cws/backend/contracts'
import { newestLeaf } from '@cws/backend/tree'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { fakeChat, frame } from '../api/chat.fake'
import { ApiError } from '../api/http'
import { reconnectDelay } from '../composables/retryWait'
import { ATTACH_WAIT_MS, buildThread, useChatStore } from './chat'
import { useConversationsStore } from './conversations'

vi.mock('../api/chat', async () => (await import('../api/chat.fake')).fakeChat.api)

const server = vi.hoisted(() => ({
  /** What `GET /api/conversations/:id` answers, by id (default: a two-message chat). */
  details: new Map<string, Partial<ConversationDetail>>(),
}))

vi.mock('../api/models', () => ({
  listModels: async () => ({ models: [
    { key: 'demo', name: 'Demo', upstreamId: 'demo', upstreamType: 'demo', isDemo: true, remaining: { total: -1, model: -1 }, windows: [], available: true, reason: null, nextAllowedAt: null },
  ] }),
}))
vi.mock('../api/conversations', () => ({
  getConversation: async (id: string): Promise<ConversationDetail> => ({
    id,
    title: 'Old chat',
    model: 'demo',
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    activeRequestId: null,
    messages: [
      { id: 'u1', parentId: null, role: 'user', content: 'Hi', status: 'done', model: 'demo', finishReason: null, errorCode: null, createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z' },
      { id: 'a1', parentId: 'u1', role: 'assistant', content: 'Hello!', status: 'done', model: 'demo', finishReason: 'length', errorCode: null, createdAt: '2024-01-01T00:00:01.000Z', updatedAt: '2024-01-01T00:00:01.000Z' },
    ],
    ...server.details.get(id),
  }),
  listConversations: async () => ({ items: [], nextCursor: null, total: 0 }),
  renameConversation: async () => ({}),
  deleteConversation: async () => undefined,
}))

const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms)
const nextFrame = () => tick(20)

function message(id: string, parentId: string | null, role: 'user' | 'assistant', content: string, status: MessageView['status'] = 'done'): MessageView {
  return { id, parentId, role, content, status, model: 'demo', finishReason: status === 'done' ? 'stop' : null, errorCode: null, createdAt: '2024-01-02T00:00:00.000Z', updatedAt: '2024-01-02T00:00:00.000Z' }
}

/** Conversation `id` as stored while its answer `r7` is being written (another tab's, or before a reload). */
function answering(id: string, content = 'Once') {
  server.details.set(id, {
    activeRequestId: 'r7',
    messages: [message('u1', null, 'user', 'Tell me a story'), message('a1', 'u1', 'assistant', content, 'streaming')],
  })
}
const acceptedR7 = (conversationId: string) => frame.accepted('1.0', { requestId: 'r7', conversationId, userMessageId: 'u1', assistantMessageId: 'a1' })

beforeEach(() => {
  vi.useFakeTimers()
  setActivePinia(createPinia())
  localStorage.clear()
  fakeChat.reset()
  server.details.clear()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('asking', () => {
  it('shows the question at once, streams the answer into it and ends done', async () => {
    const store = useChatStore()
    store.selectedModel = 'demo'
    const sending = store.send('Say hi')
    expect(store.messages.map(m => [m.role, m.content])).toEqual([['user', 'Say hi'], ['assistant', '']])
    expect([store.phase, store.busy]).toEqual(['sending', true])
    const post = fakeChat.last()
    expect(post.body).toMatchObject({ model: 'demo', content: 'Say hi', action: 'next' })
    expect((post.body as ChatBody).conversationId).toBeUndefined()
    post.send(frame.accepted(), frame.started(), frame.delta('Hel', '2.3'), frame.delta('lo, world', '2.12'))
    expect(store.phase).toBe('streaming')
    await nextFrame()
    expect(store.messages[1]!.content).toBe('Hello, world')
    post.end(frame.done())
    await sending
    expect(store.messages.map(m => [m.id, m.content, m.status])).toEqual([['u9', 'Say hi', 'done'], ['a9', 'Hello, world', 'done']])
    expect([store.current.id, store.phase, store.busy]).toEqual(['c1', 'idle', false])
  })

  it('writes the growing answer once per frame, not once per delta', async () => {
    const store = useChatStore()
    const sending = store.send('q')
    fakeChat.last().send(frame.accepted())
    for (let i = 0; i < 50; i++)
      fakeChat.last().send(frame.delta('x', `2.${i}`))
    expect(store.messages[1]!.content).toBe('')
    await nextFrame()
    expect(store.messages[1]!.content).toBe('x'.repeat(50))
    fakeChat.last().end(frame.done())
    await sending
  })

  it('shows the queue position and ETA while queued, then streams', async () => {
    const store = useChatStore()
    const sending = store.send('q')
    fakeChat.last().send(frame.accepted(), frame.queued(3, 40))
    expect([store.phase, store.queue]).toEqual(['queued', { position: 3, etaSeconds: 40 }])
    fakeChat.last().send(frame.queued(1, 8))
    expect(store.queue).toEqual({ position: 1, etaSeconds: 8 })
    fakeChat.last().send(frame.started())
    expect([store.phase, store.queue]).toEqual(['started', null])
    fakeChat.last().end(frame.done())
    await sending
    expect(store.queue).toBeNull()
  })

  it('an error event marks the answer with its code and keeps the partial text', async () => {
    const store = useChatStore()
    const sending = store.send('q')
    fakeChat.last().send(frame.accepted(), frame.delta('Partial', '1.7'))
    fakeChat.last().end(frame.error('UPSTREAM_RATE_LIMITED'))
    await sending
    expect([store.messages[1]!.status, store.messages[1]!.errorCode, store.messages[1]!.content]).toEqual(['error', 'UPSTREAM_RATE_LIMITED', 'Partial'])
    expect(store.composerError).toBeNull()
  })

  it('an admission failure drops the optimistic messages and gives the question back', async () => {
    const store = useChatStore()
    store.draft = 'My long question'
    const sending = store.send(store.draft)
    fakeChat.last().fail(new ApiError({ code: 'MODEL_ASKS_EXHAUSTED', status: 403, message: 'no more' }))
    await sending
    expect(store.messages).toEqual([])
    expect(store.draft).toBe('My long question')
    expect(store.composerError?.code).toBe('MODEL_ASKS_EXHAUSTED')
    expect(store.current.id).toBeNull()
  })

  it('a dropped connection shows "reconnecting", not an error, and the answer ends complete', async () => {
    const store = useChatStore()
    const sending = store.send('q')
    fakeChat.last().send(frame.accepted(), frame.delta('Half an ans', '1.11'))
    fakeChat.last().fail(new ApiError({ code: 'NETWORK_ERROR', status: 0, message: 'Failed to fetch' }))
    await tick()
    expect([store.reconnecting, store.busy, store.composerError, store.messages[1]!.status]).toEqual([true, true, null, 'streaming'])
    await tick(reconnectDelay(0))
    expect(fakeChat.last().lastEventId).toBe('1.11')
    fakeChat.last().send(frame.delta('wer', '1.14'))
    expect(store.reconnecting).toBe(false)
    fakeChat.last().end(frame.done())
    await sending
    expect([store.messages[1]!.content, store.messages[1]!.status]).toEqual(['Half an answer', 'done'])
  })

  it('stop while streaming tells the server and ends with the answer the server kept', async () => {
    const store = useChatStore()
    const sending = store.send('q')
    fakeChat.last().send(frame.accepted(), frame.delta('Some text', '1.9'))
    await store.stop()
    expect(fakeChat.stops).toEqual(['r1'])
    fakeChat.last().end(frame.done('aborted'))
    await sending
    expect([store.messages[1]!.content, store.messages[1]!.status, store.busy]).toEqual(['Some text', 'stopped', false])
  })

  it('stop while queued (before any text) also reaches the server', async () => {
    const store = useChatStore()
    const sending = store.send('q')
    fakeChat.last().send(frame.accepted(), frame.queued(2, 30))
    await store.stop()
    expect(fakeChat.stops).toEqual(['r1'])
    fakeChat.last().end(frame.done('aborted'))
    await sending
    expect(store.messages[1]!.status).toBe('stopped')
  })

  it('stop before the server accepted: stopped on the server once accepted, never left running', async () => {
    const store = useChatStore()
    const sending = store.send('never mind')
    await store.stop()
    expect(fakeChat.stops).toEqual([])
    fakeChat.last().send(frame.accepted())
    await tick()
    expect(fakeChat.stops).toEqual(['r1'])
    fakeChat.last().end(frame.done('aborted'))
    await sending
    expect(store.messages.map(m => [m.content, m.status])).toEqual([['never mind', 'done'], ['', 'stopped']])
  })

  it('a title event renames the conversation in the sidebar', async () => {
    const store = useChatStore()
    const list = useConversationsStore()
    const sending = store.send('q')
    fakeChat.last().send(frame.accepted('1.0', { conversationId: 'c42' }), frame.title('Greetings'))
    fakeChat.last().end(frame.done())
    await sending
    expect(store.current.title).toBe('Greetings')
    expect(list.items[0]).toMatchObject({ id: 'c42', title: 'Greetings', activeRequestId: null })
  })

  it('follow-ups send the conversation id and the last message as parent', async () => {
    const store = useChatStore()
    await store.open('c7')
    const sending = store.send('And then?')
    expect(fakeChat.last().body).toMatchObject({ conversationId: 'c7', parentMessageId: 'a1', action: 'next' })
    fakeChat.last().send(frame.accepted('1.0', { conversationId: 'c7', userMessageId: 'u2', assistantMessageId: 'a2' }))
    fakeChat.last().end(frame.done())
    await sending
    expect(store.messages.map(m => m.id)).toEqual(['u1', 'a1', 'u2', 'a2'])
  })

  it('regenerate answers the last question again; the old answer stays as a sibling', async () => {
    const store = useChatStore()
    await store.open('c7')
    const sending = store.regenerate()
    expect(fakeChat.last().body).toMatchObject({ conversationId: 'c7', parentMessageId: 'u1', action: 'regenerate' })
    fakeChat.last().send(frame.accepted('1.0', { requestId: 'r2', conversationId: 'c7', userMessageId: 'u1', assistantMessageId: 'a1b' }), frame.delta('Hi again', '1.8'))
    fakeChat.last().end(frame.done())
    await sending
    expect(store.messages.map(m => m.id)).toEqual(['u1', 'a1b'])
    expect(store.siblingsOf(store.messages[1]!).map(m => m.id)).toEqual(['a1', 'a1b'])
    store.showBranch('a1')
    expect(store.messages.map(m => m.content)).toEqual(['Hi', 'Hello!'])
  })

  it('continue appends to the answer cut by length', async () => {
    const store = useChatStore()
    await store.open('c7')
    expect(store.canContinue).toBe(true)
    const sending = store.continueAnswer()
    expect(fakeChat.last().body).toMatchObject({ parentMessageId: 'a1', action: 'continue' })
    fakeChat.last().send(frame.accepted('1.0', { requestId: 'r3', conversationId: 'c7', userMessageId: 'u1', assistantMessageId: 'a1' }), frame.delta(' And more.', '1.16'))
    fakeChat.last().end(frame.done())
    await sending
    expect([store.messages[1]!.content, store.messages[1]!.finishReason, store.canContinue]).toEqual(['Hello! And more.', 'stop', false])
  })
})

describe('opening a conversation whose answer is being written', () => {
  /** Opens `id`; the attach connection sends `frames` (its snapshot) before the page shows it. */
  async function openWith(store: ReturnType<typeof useChatStore>, id: string, ...frames: ReturnType<typeof frame.delta>[]) {
    const opening = store.open(id)
    await tick()
    const conn = fakeChat.last()
    expect(store.loading).toBe(true)
    conn.send(...frames)
    await opening
    return conn
  }

  it('attaches to it and shows it as it is now: the queue place, then the growing text, then done', async () => {
    answering('c5', 'Onc')
    const store = useChatStore()
    const conn = await openWith(store, 'c5', acceptedR7('c5'), frame.queued(3, 45))
    expect([conn.kind, conn.requestId, conn.lastEventId]).toEqual(['attach', 'r7', null])
    expect([store.loading, store.busy, store.streamingKey]).toEqual([false, true, 'a1'])
    expect([store.phase, store.queue]).toEqual(['queued', { position: 3, etaSeconds: 45 }])
    conn.send(frame.started(), frame.delta('Once upon', '2.9'))
    await nextFrame()
    expect(store.messages[1]!.content).toBe('Once upon')
    conn.end(frame.done())
    await tick()
    expect([store.messages[1]!.status, store.busy, store.canRegenerate]).toEqual(['done', false, true])
  })

  it('after a reload, the snapshot\'s text is in place when the conversation shows (not the older stored text)', async () => {
    answering('c5', 'Once')
    const store = useChatStore()
    await openWith(store, 'c5', acceptedR7('c5'), frame.started(), frame.delta('Once upon a time, there', '2.22'))
    expect(store.messages[1]!.content).toBe('Once upon a time, there')
    fakeChat.last().end(frame.done())
    await tick()
  })

  it('a server slow to answer the attach: the stored state shows after a moment, the text follows', async () => {
    answering('c5', 'Once')
    const store = useChatStore()
    const opening = store.open('c5')
    await tick(ATTACH_WAIT_MS)
    await opening
    expect([store.loading, store.messages[1]!.content, store.busy]).toEqual([false, 'Once', true])
    fakeChat.last().send(acceptedR7('c5'), frame.delta('Once upon', '2.9'))
    await nextFrame()
    expect(store.messages[1]!.content).toBe('Once upon')
    fakeChat.last().end(frame.done())
    await tick()
  })

  it('a 404 on attach ends cleanly: no error, not busy, the stored text kept', async () => {
    answering('c5', 'Stored text')
    const store = useChatStore()
    const opening = store.open('c5')
    await tick()
    fakeChat.last().fail(new ApiError({ code: 'NOT_FOUND', status: 404, message: 'No such ask.' }))
    await opening
    expect([store.busy, store.reconnecting, store.composerError, store.loadError]).toEqual([false, false, null, null])
    expect([store.messages[1]!.content, store.messages[1]!.status]).toEqual(['Stored text', 'interrupted'])
    await tick(30_000)
    expect(fakeChat.connections).toHaveLength(1)
  })

  it('stop during attach calls the stop endpoint', async () => {
    answering('c5')
    const store = useChatStore()
    await openWith(store, 'c5', acceptedR7('c5'), frame.started(), frame.delta('Once', '2.4'))
    await store.stop()
    expect(fakeChat.stops).toEqual(['r7'])
    fakeChat.last().end(frame.done('aborted'))
    await tick()
    expect(store.messages[1]!.status).toBe('stopped')
  })

  it('leaving it does not stop it; coming back shows the same live answer', async () => {
    answering('c5')
    const store = useChatStore()
    const conn = await openWith(store, 'c5', acceptedR7('c5'), frame.started(), frame.delta('Once', '2.4'))
    store.newChat()
    expect(store.busy).toBe(false)
    conn.send(frame.delta(' upon', '2.9'))
    await store.open('c5')
    await nextFrame()
    expect([fakeChat.connections.length, conn.closed, store.busy, store.messages[1]!.content]).toEqual([1, false, true, 'Once upon'])
    conn.end(frame.done())
    await tick()
  })

  it('deleting it stops following its answer (the server ended it)', async () => {
    answering('c5')
    const store = useChatStore()
    await openWith(store, 'c5', acceptedR7('c5'))
    store.forget('c5')
    await tick()
    expect([fakeChat.last().closed, fakeChat.stops, store.busy, store.current.id]).toEqual([true, [], false, null])
  })
})

describe('the sidebar follows the answers', () => {
  it('marks the conversation answering from accepted to the end', async () => {
    const store = useChatStore()
    const list = useConversationsStore()
    const sending = store.send('q')
    fakeChat.last().send(frame.accepted('1.0', { requestId: 'r3', conversationId: 'c3' }))
    expect(list.items[0]).toMatchObject({ id: 'c3', activeRequestId: 'r3' })
    expect(store.answeringIds.has('c3')).toBe(true)
    fakeChat.last().end(frame.done())
    await sending
    expect([list.items[0]!.activeRequestId, store.answeringIds.has('c3'), list.unread.has('c3')]).toEqual([null, false, false])

    list.upsert({ id: 'c7', title: 'Old chat', model: 'demo', createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z', activeRequestId: null })
    await store.open('c7')
    const followUp = store.send('And then?')
    fakeChat.last().send(frame.accepted('1.0', { requestId: 'r4', conversationId: 'c7', userMessageId: 'u2', assistantMessageId: 'a2' }))
    expect(list.items.find(c => c.id === 'c7')?.activeRequestId).toBe('r4')
    fakeChat.last().end(frame.done())
    await followUp
    expect(list.items.find(c => c.id === 'c7')?.activeRequestId).toBeNull()
  })

  it('an answer that ends while another conversation is open marks its conversation unread, until opened', async () => {
    const store = useChatStore()
    const list = useConversationsStore()
    const sending = store.send('q')
    fakeChat.last().send(frame.accepted('1.0', { conversationId: 'c3' }), frame.delta('Hi', '1.2'))
    await store.open('c7')
    fakeChat.last().end(frame.done())
    await sending
    expect(list.unread.has('c3')).toBe(true)
    expect(JSON.parse(localStorage.getItem('cws.chat.unread')!)).toEqual(['c3'])
    await store.open('c3')
    expect(list.unread.has('c3')).toBe(false)
  })
})

describe('threads (the shared message tree)', () => {
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
