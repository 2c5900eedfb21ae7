import type { ChatAction, ChatBody, ConversationDetail, MessageStatus, MessageView, ModelStatus } from '@cws/backend/contracts'
import type { ChatStreamEvent } from '../api/sse'
import { useLocalStorage } from '@vueuse/core'
import { defineStore } from 'pinia'
import { computed, reactive, ref, shallowRef } from 'vue'
import * as chatApi from '../api/chat'
import * as conversationsApi from '../api/conversations'
import { ApiError, isApiError } from '../api/http'
import * as modelsApi from '../api/models'
import { useConversationsStore } from './conversations'

/**
 * The conversation on screen and the one ask in flight.
 *
 * Stream consumption: `accepted` gives the server ids, `queued` the position and ETA, `delta` text is
 * buffered and appended to the growing answer once per animation frame (only that message's
 * reactive `content` changes, so only it re-renders), `done`/`error` end it. Stop calls the stop
 * endpoint and aborts the fetch. A failed admission (4xx before `accepted`) drops the optimistic
 * messages and gives the typed question back to the composer; a stream cut after `accepted` keeps
 * what arrived, marks the answer `interrupted`, and offers a retry.
 */

export type AskPhase = 'idle' | 'sending' | 'queued' | 'streaming' | 'done' | 'error' | 'stopped'

export interface ChatMessage {
  /** Stable key for rendering (survives the temp id → server id swap). */
  key: string
  id: string
  parentId: string | null
  role: 'user' | 'assistant'
  content: string
  status: MessageStatus
  model: string
  finishReason: string | null
  errorCode: string | null
  createdAt: string
}

export interface ConversationState {
  /** null until the server accepted the first question of a new chat. */
  id: string | null
  title: string
  model: string
  createdAt: string
  updatedAt: string
  /** Every message of the conversation (all branches), oldest first. */
  all: ChatMessage[]
  /** The message whose branch is shown; null = the newest message. */
  leafId: string | null
}

interface ActiveAsk {
  state: ConversationState
  action: ChatAction
  controller: AbortController
  requestId: string | null
  accepted: boolean
  stopRequested: boolean
  user: ChatMessage | null
  answer: ChatMessage
  /** Restores the view when the ask fails before `accepted` (regenerate/continue). */
  rollback: () => void
  pending: string
  frame: number
}

let localSeq = 0
function localId(prefix: string): string {
  localSeq += 1
  return `local-${prefix}-${Date.now().toString(36)}-${localSeq}`
}

export function toChatMessage(m: MessageView): ChatMessage {
  return { key: m.id, id: m.id, parentId: m.parentId, role: m.role, content: m.content, status: m.status, model: m.model, finishReason: m.finishReason, errorCode: m.errorCode, createdAt: m.createdAt }
}

/** The branch ending at `leafId` (default: the newest message), root first. */
export function buildThread(all: readonly ChatMessage[], leafId: string | null): ChatMessage[] {
  if (all.length === 0)
    return []
  const byId = new Map(all.map(m => [m.id, m]))
  let leaf = leafId ? byId.get(leafId) : undefined
  leaf ??= all[all.length - 1]!
  const out: ChatMessage[] = []
  const seen = new Set<string>()
  for (let m: ChatMessage | undefined = leaf; m && !seen.has(m.id); m = m.parentId ? byId.get(m.parentId) : undefined) {
    seen.add(m.id)
    out.push(m)
  }
  return out.reverse()
}

/** The newest message in the subtree rooted at `id` (following the newest child each step). */
export function newestLeaf(all: readonly ChatMessage[], id: string): string {
  const children = new Map<string, ChatMessage[]>()
  for (const m of all) {
    if (!m.parentId)
      continue
    const list = children.get(m.parentId)
    if (list)
      list.push(m)
    else
      children.set(m.parentId, [m])
  }
  let cur = id
  for (let guard = 0; guard < all.length; guard++) {
    const kids = children.get(cur)
    if (!kids?.length)
      break
    cur = kids[kids.length - 1]!.id
  }
  return cur
}

function emptyState(model = ''): ConversationState {
  const now = new Date().toISOString()
  return reactive({ id: null, title: '', model, createdAt: now, updatedAt: now, all: [], leafId: null }) as ConversationState
}

function stateFromDetail(d: ConversationDetail): ConversationState {
  return reactive({
    id: d.id,
    title: d.title,
    model: d.model,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    all: d.messages.map(toChatMessage),
    leafId: null,
  }) as ConversationState
}

const requestFrame: (cb: () => void) => number = typeof requestAnimationFrame === 'function'
  ? cb => requestAnimationFrame(() => cb())
  : cb => setTimeout(cb, 16) as unknown as number
const cancelFrame: (id: number) => void = typeof cancelAnimationFrame === 'function'
  ? id => cancelAnimationFrame(id)
  : id => clearTimeout(id)

export const useChatStore = defineStore('chat', () => {
  const current = shallowRef<ConversationState>(emptyState())
  const loading = ref(false)
  const loadError = ref<ApiError | null>(null)

  const phase = ref<AskPhase>('idle')
  const queue = ref<{ position: number, etaSeconds: number | null } | null>(null)
  /** Why the last ask could not start (shown above the composer; the question stays in the draft). */
  const composerError = ref<ApiError | null>(null)
  /** The composer's text; survives route changes and failed asks. */
  const draft = ref('')

  const models = ref<ModelStatus[]>([])
  const modelsLoaded = ref(false)
  const storedModel = useLocalStorage<string>('cws.chat.model', '')
  const active = shallowRef<ActiveAsk | null>(null)

  const messages = computed(() => buildThread(current.value.all, current.value.leafId))
  const busy = computed(() => active.value !== null)
  /** The ask in flight belongs to the conversation on screen. */
  const busyHere = computed(() => active.value !== null && active.value.state === current.value)
  const streamingKey = computed(() => (busyHere.value ? active.value!.answer.key : null))

  const selectedModel = computed<string>({
    get: () => {
      const key = storedModel.value
      if (models.value.length === 0 || models.value.some(m => m.key === key))
        return key
      return (models.value.find(m => m.available) ?? models.value[0])!.key
    },
    set: (v) => {
      storedModel.value = v
    },
  })
  const selectedModelStatus = computed(() => models.value.find(m => m.key === selectedModel.value) ?? null)

  const lastMessage = computed(() => messages.value[messages.value.length - 1] ?? null)
  const canRegenerate = computed(() => !busy.value && lastMessage.value?.role === 'assistant' && !lastMessage.value.id.startsWith('local-'))
  const canContinue = computed(() => !busy.value && lastMessage.value?.role === 'assistant' && lastMessage.value.finishReason === 'length' && !lastMessage.value.id.startsWith('local-'))

  /** Answers to the same question as `m`, oldest first (for the "2 / 3" switcher). */
  function siblingsOf(m: ChatMessage): ChatMessage[] {
    if (m.role !== 'assistant')
      return []
    return current.value.all.filter(x => x.role === 'assistant' && x.parentId === m.parentId)
  }

  function showBranch(messageId: string): void {
    current.value.leafId = newestLeaf(current.value.all, messageId)
  }

  async function loadModels(): Promise<void> {
    try {
      const res = await modelsApi.listModels()
      models.value = res.models
      modelsLoaded.value = true
    }
    catch {
      modelsLoaded.value = true
    }
  }

  /** Shows a fresh, unsent chat (route `/`). */
  function newChat(): void {
    composerError.value = null
    loadError.value = null
    phaseIfIdle()
    current.value = emptyState(selectedModel.value)
  }

  function phaseIfIdle(): void {
    if (!active.value) {
      phase.value = 'idle'
      queue.value = null
    }
  }

  let openToken = 0
  /** Shows conversation `id` (route `/c/:id`). Re-uses the live state when its answer is streaming. */
  async function open(id: string): Promise<void> {
    if (current.value.id === id && !loadError.value)
      return
    composerError.value = null
    loadError.value = null
    if (active.value && active.value.state.id === id) {
      current.value = active.value.state
      return
    }
    phaseIfIdle()
    const token = ++openToken
    loading.value = true
    const placeholder = emptyState()
    placeholder.id = id
    current.value = placeholder
    try {
      const detail = await conversationsApi.getConversation(id)
      if (token !== openToken)
        return
      current.value = stateFromDetail(detail)
      if (detail.model && models.value.some(m => m.key === detail.model && m.available))
        selectedModel.value = detail.model
    }
    catch (err) {
      if (token !== openToken)
        return
      loadError.value = isApiError(err) ? err : new ApiError({ code: 'UNKNOWN', status: 0, message: String(err) })
    }
    finally {
      if (token === openToken)
        loading.value = false
    }
  }

  function flush(ask: ActiveAsk): void {
    if (ask.frame) {
      cancelFrame(ask.frame)
      ask.frame = 0
    }
    if (ask.pending) {
      ask.answer.content += ask.pending
      ask.pending = ''
    }
  }

  function onEvent(ask: ActiveAsk, e: ChatStreamEvent): void {
    const conversations = useConversationsStore()
    switch (e.event) {
      case 'accepted': {
        ask.accepted = true
        ask.requestId = e.data.requestId
        const state = ask.state
        const isNew = state.id === null
        state.id = e.data.conversationId
        if (ask.user) {
          ask.user.id = e.data.userMessageId
          ask.answer.parentId = e.data.userMessageId
        }
        else if (ask.action === 'regenerate') {
          ask.answer.parentId = e.data.userMessageId
        }
        ask.answer.id = e.data.assistantMessageId
        if (isNew && !state.title && e.data.title)
          state.title = e.data.title
        state.updatedAt = new Date().toISOString()
        if (isNew)
          conversations.upsert({ id: state.id, title: state.title, model: state.model, createdAt: state.createdAt, updatedAt: state.updatedAt })
        else
          conversations.touch(state.id)
        break
      }
      case 'queued':
        if (phase.value !== 'streaming') {
          phase.value = 'queued'
          queue.value = { position: e.data.position, etaSeconds: e.data.etaSeconds ?? null }
        }
        break
      case 'started':
        phase.value = 'streaming'
        queue.value = null
        break
      case 'delta':
        if (phase.value !== 'streaming') {
          phase.value = 'streaming'
          queue.value = null
        }
        ask.pending += e.data.text
        if (!ask.frame) {
          ask.frame = requestFrame(() => {
            ask.frame = 0
            flush(ask)
          })
        }
        break
      case 'title':
        ask.state.title = e.data.title
        if (ask.state.id)
          conversations.setTitle(ask.state.id, e.data.title)
        break
      case 'done':
      case 'error':
        flush(ask)
        break
    }
  }

  async function run(ask: ActiveAsk, body: ChatBody): Promise<void> {
    active.value = ask
    phase.value = 'sending'
    queue.value = null
    composerError.value = null
    try {
      const terminal = await chatApi.ask(body, { signal: ask.controller.signal, onEvent: e => onEvent(ask, e) })
      flush(ask)
      if (terminal.event === 'done') {
        const stopped = terminal.data.finishReason === 'aborted'
        ask.answer.status = stopped ? 'stopped' : 'done'
        ask.answer.finishReason = terminal.data.finishReason
        phase.value = stopped ? 'stopped' : 'done'
      }
      else if (terminal.event === 'error') {
        ask.answer.status = 'error'
        ask.answer.errorCode = terminal.data.code
        phase.value = 'error'
      }
    }
    catch (err) {
      flush(ask)
      const aborted = ask.controller.signal.aborted || (err instanceof DOMException && err.name === 'AbortError')
      if (!ask.accepted) {
        ask.rollback()
        if (aborted) {
          phase.value = 'stopped'
        }
        else {
          composerError.value = isApiError(err) ? err : new ApiError({ code: 'UNKNOWN', status: 0, message: String(err) })
          phase.value = 'error'
        }
      }
      else if (aborted) {
        ask.answer.status = 'stopped'
        ask.answer.finishReason = 'aborted'
        phase.value = 'stopped'
      }
      else {
        // Network loss mid-stream: keep what arrived, say so, offer a retry.
        ask.answer.status = 'interrupted'
        ask.answer.errorCode = isApiError(err) ? err.code : 'STREAM_INTERRUPTED'
        phase.value = 'error'
      }
    }
    finally {
      queue.value = null
      if (active.value === ask)
        active.value = null
      if (ask.state !== current.value && phase.value !== 'error')
        phase.value = 'idle'
      void loadModels()
    }
  }

  function newAsk(state: ConversationState, action: ChatAction, user: ChatMessage | null, answer: ChatMessage, rollback: () => void): ActiveAsk {
    return { state, action, controller: new AbortController(), requestId: null, accepted: false, stopRequested: false, user, answer, rollback, pending: '', frame: 0 }
  }

  function blankMessage(role: 'user' | 'assistant', parentId: string | null, content: string, model: string, status: MessageStatus): ChatMessage {
    const id = localId(role)
    return reactive({ key: id, id, parentId, role, content, status, model, finishReason: null, errorCode: null, createdAt: new Date().toISOString() }) as ChatMessage
  }

  /** Sends `content` as a new question. Resolves when the answer ended (or failed). */
  async function send(content: string): Promise<void> {
    const text = content.replace(/\s+$/, '')
    if (!text.trim() || busy.value)
      return
    const state = current.value
    const model = selectedModel.value
    const parent = messages.value[messages.value.length - 1] ?? null
    const parentId = parent && !parent.id.startsWith('local-') ? parent.id : undefined
    const user = blankMessage('user', parentId ?? null, text, model, 'done')
    const answer = blankMessage('assistant', user.id, '', model, 'streaming')
    const prevLeaf = state.leafId
    state.all = [...state.all, user, answer]
    state.leafId = null
    if (!state.model)
      state.model = model
    draft.value = ''
    const ask = newAsk(state, 'next', user, answer, () => {
      state.all = state.all.filter(m => m !== user && m !== answer)
      state.leafId = prevLeaf
      // Give the question back so it can be sent again.
      if (!draft.value.trim())
        draft.value = text
    })
    await run(ask, { conversationId: state.id ?? undefined, parentMessageId: parentId, model, content: text, action: 'next' })
  }

  /** Answers the last question again (the old answer stays reachable as a sibling). */
  async function regenerate(): Promise<void> {
    const state = current.value
    const last = lastMessage.value
    if (busy.value || !state.id || !last)
      return
    const question = last.role === 'assistant' ? messages.value[messages.value.length - 2] : last
    if (!question || question.role !== 'user')
      return
    const model = selectedModel.value
    const answer = blankMessage('assistant', question.id, '', model, 'streaming')
    const prevLeaf = state.leafId
    state.all = [...state.all, answer]
    state.leafId = null
    const ask = newAsk(state, 'regenerate', null, answer, () => {
      state.all = state.all.filter(m => m !== answer)
      state.leafId = prevLeaf ?? (last.role === 'assistant' ? last.id : null)
    })
    await run(ask, { conversationId: state.id, parentMessageId: question.id, model, content: '', action: 'regenerate' })
  }

  /** Goes on with the last answer after it was cut by the length limit. */
  async function continueAnswer(): Promise<void> {
    const state = current.value
    const last = lastMessage.value
    if (busy.value || !state.id || !last || last.role !== 'assistant')
      return
    const before = { status: last.status, finishReason: last.finishReason, errorCode: last.errorCode }
    last.status = 'streaming'
    last.finishReason = null
    last.errorCode = null
    const ask = newAsk(state, 'continue', null, last, () => Object.assign(last, before))
    await run(ask, { conversationId: state.id, parentMessageId: last.id, model: selectedModel.value, content: '', action: 'continue' })
  }

  /** Retries a failed or interrupted answer: regenerates it. */
  async function retry(): Promise<void> {
    await regenerate()
  }

  /** Stops the ask in flight: tells the server (so the upstream stops too) and aborts the stream. */
  async function stop(): Promise<void> {
    const ask = active.value
    if (!ask || ask.stopRequested)
      return
    ask.stopRequested = true
    const requestId = ask.requestId
    let stopCall: Promise<unknown> = Promise.resolve()
    if (requestId)
      stopCall = chatApi.stopAsk(requestId).catch(() => {})
    ask.controller.abort()
    await stopCall
  }

  function clearComposerError(): void {
    composerError.value = null
  }

  /** Called when a conversation was deleted elsewhere (sidebar). */
  function forget(id: string): void {
    if (active.value?.state.id === id)
      void stop()
    if (current.value.id === id)
      newChat()
  }

  function renamed(id: string, title: string): void {
    if (current.value.id === id)
      current.value.title = title
  }

  return {
    current,
    messages,
    loading,
    loadError,
    phase,
    queue,
    composerError,
    draft,
    models,
    modelsLoaded,
    selectedModel,
    selectedModelStatus,
    busy,
    busyHere,
    streamingKey,
    canRegenerate,
    canContinue,
    siblingsOf,
    showBranch,
    loadModels,
    newChat,
    open,
    send,
    regenerate,
    continueAnswer,
    retry,
    stop,
    clearComposerError,
    forget,
    renamed,
  }
})
