import type { ChatBody, ConversationDetail, ModelPool, ModelStatus } from '@cws/backend/contracts'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { fakeChat, frame } from '../api/chat.fake'
import { ApiError } from '../api/http'
import { useChatStore } from './chat'
import { FALLBACK_STORAGE_KEY } from './chat-fallback'

vi.mock('../api/chat', async () => (await import('../api/chat.fake')).fakeChat.api)

const server = vi.hoisted(() => ({ models: [] as ModelStatus[], details: new Map<string, Partial<ConversationDetail>>() }))
vi.mock('../api/models', () => ({ listModels: async () => ({ models: server.models }) }))
vi.mock('../api/conversations', () => ({
  getConversation: async (id: string): Promise<ConversationDetail> => ({
    id,
    title: 'Old chat',
    model: 'gpt-4o',
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    activeRequestId: null,
    messages: [
      { id: 'u1', parentId: null, role: 'user', content: 'Hi', status: 'done', model: 'gpt-4o', finishReason: null, errorCode: null, createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z' },
      { id: 'a1', parentId: 'u1', role: 'assistant', content: 'Hello!', status: 'done', model: 'gpt-4o', finishReason: 'stop', errorCode: null, createdAt: '2024-01-01T00:00:01.000Z', updatedAt: '2024-01-01T00:00:01.000Z' },
    ],
    ...server.details.get(id),
  }),
  listConversations: async () => ({ items: [], nextCursor: null, total: 0 }),
}))

const OK: ModelPool = { state: 'ok', until: null, groupCap: null, share: null, fallback: null }
function model(key: string, upstreamId: string, pool: Partial<ModelPool> = {}): ModelStatus {
  return { key, name: key.toUpperCase(), upstreamId, upstreamType: 'chatgpt-web', isDemo: false, remaining: { total: -1, model: -1 }, windows: [], available: true, reason: null, nextAllowedAt: null, pool: { ...OK, ...pool } }
}
const cooling = () => model('gpt-4o', 'web', { state: 'cooling', until: new Date(Date.now() + 600_000).toISOString(), fallback: 'gpt-35' })

const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms)
const body = () => fakeChat.last().body as ChatBody

/** The page as after a reload: a fresh store over the same localStorage. */
async function reloaded() {
  setActivePinia(createPinia())
  const store = useChatStore()
  await store.loadModels()
  return store
}

beforeEach(async () => {
  vi.useFakeTimers()
  setActivePinia(createPinia())
  localStorage.clear()
  fakeChat.reset()
  server.details.clear()
  server.models = [cooling(), model('gpt-35', 'web'), model('mini', 'api')]
})
afterEach(() => {
  vi.useRealTimers()
})

describe('the fallback, remembered per conversation', () => {
  it('taken in a new conversation: asked with it, kept under the id the server gives, still chosen after a reload', async () => {
    let store = await reloaded()
    store.selectedModel = 'gpt-4o'
    await store.takeFallback()
    expect(store.selectedModel).toBe('gpt-35')
    expect(store.fallbackChoice).toMatchObject({ model: 'gpt-35', instead: 'gpt-4o' })
    const sending = store.send('Hello there')
    expect(body()).toMatchObject({ model: 'gpt-35', content: 'Hello there' })
    fakeChat.last().send(frame.accepted('1.0', { conversationId: 'c-new' }), frame.started())
    fakeChat.last().end(frame.done())
    await tick(50)
    await sending
    expect(JSON.parse(localStorage.getItem(FALLBACK_STORAGE_KEY)!)).toMatchObject({ 'c-new': { model: 'gpt-35', instead: 'gpt-4o' } })

    store = await reloaded()
    // A new chat keeps the member's usual model; the conversation keeps its fallback.
    store.newChat()
    expect(store.selectedModel).toBe('gpt-4o')
    await store.open('c-new')
    expect(store.selectedModel).toBe('gpt-35')
    // Back to the model it replaced, once it can answer again: forgotten for this conversation.
    store.backToModel()
    expect(store.selectedModel).toBe('gpt-4o')
    await tick(0)
    expect(JSON.parse(localStorage.getItem(FALLBACK_STORAGE_KEY)!)).toEqual({})
  })

  it('one conversation\'s fallback is not another\'s', async () => {
    const store = await reloaded()
    store.selectedModel = 'gpt-4o'
    await store.open('c1')
    await store.takeFallback()
    expect(store.selectedModel).toBe('gpt-35')
    await store.open('c2')
    expect(store.selectedModel).toBe('gpt-4o')
    await store.open('c1')
    expect(store.selectedModel).toBe('gpt-35')
  })

  it('an answer waiting for cooling accounts is stopped and asked again with the fallback, as another answer to the same question', async () => {
    const store = await reloaded()
    store.selectedModel = 'gpt-4o'
    void store.send('Explain entropy')
    const first = fakeChat.last()
    first.send(frame.accepted('1.0', { requestId: 'r1', conversationId: 'c9', userMessageId: 'u9', assistantMessageId: 'a9' }), { event: 'queued', id: '1.0', data: { position: 1, etaSeconds: 600, waitingFor: 'cooling' } })
    expect(store.phase).toBe('queued')
    const taking = store.takeFallback()
    await tick(0)
    expect(fakeChat.stops).toEqual(['r1'])
    first.end(frame.done('aborted'))
    await tick(50)
    expect(body()).toMatchObject({ action: 'regenerate', conversationId: 'c9', parentMessageId: 'u9', model: 'gpt-35' })
    fakeChat.last().send(frame.accepted('1.0', { requestId: 'r2', conversationId: 'c9', userMessageId: 'u9', assistantMessageId: 'a10' }))
    fakeChat.last().end(frame.done())
    await taking
    expect(store.fallbackChoice).toMatchObject({ model: 'gpt-35' })
  })
})

describe('continue in a new conversation', () => {
  it('aCCOUNT_UNAVAILABLE: the question stays in the composer until the new conversation is accepted; the old one is left as it was', async () => {
    const store = await reloaded()
    store.selectedModel = 'gpt-35'
    await store.open('c1')
    void store.send('Still there?')
    fakeChat.last().fail(new ApiError({ code: 'ACCOUNT_UNAVAILABLE', status: 503, message: 'gone', extra: { reason: 'unauthorized' } }))
    await tick(10)
    expect(store.composerError?.extra.reason).toBe('unauthorized')
    expect(store.draft).toBe('Still there?')

    const continuing = store.continueInNew('gpt-35')
    expect(body()).toEqual({ model: 'gpt-35', content: 'Still there?', continueFrom: 'c1' })
    expect(store.current.id).toBeNull()
    expect(store.draft).toBe('Still there?')
    fakeChat.last().send(frame.accepted('1.0', { conversationId: 'c2' }))
    expect(store.current.id).toBe('c2')
    expect(store.draft).toBe('')
    fakeChat.last().end(frame.done())
    await continuing
    expect(store.messages.map(m => m.role)).toEqual(['user', 'assistant'])
  })

  it('refused too: back to the old conversation, with the question in the composer', async () => {
    const store = await reloaded()
    store.selectedModel = 'gpt-35'
    await store.open('c1')
    store.draft = 'Once more'
    const continuing = store.continueInNew('gpt-35')
    fakeChat.last().fail(new ApiError({ code: 'QUEUE_FULL', status: 503, message: 'full' }))
    await continuing
    expect(store.current.id).toBe('c1')
    expect(store.draft).toBe('Once more')
    expect(store.composerError?.code).toBe('QUEUE_FULL')
  })

  it('a fallback on another upstream than the conversation continues in a new conversation with it', async () => {
    server.models = [model('gpt-4o', 'web', { state: 'down', fallback: 'mini' }), model('mini', 'api')]
    const store = await reloaded()
    store.selectedModel = 'gpt-4o'
    await store.open('c1')
    store.draft = 'Go on'
    void store.takeFallback()
    await tick(0)
    expect(body()).toEqual({ model: 'mini', content: 'Go on', continueFrom: 'c1' })
    fakeChat.last().send(frame.accepted('1.0', { conversationId: 'c3' }))
    expect(store.selectedModel).toBe('mini')
    fakeChat.last().end(frame.done())
    await tick(50)
  })
})
