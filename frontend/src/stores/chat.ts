import type { ChatAction, ChatBody, ModelStatus } from '@cws/backend/contracts'
import type { AskState } from '../composables/useAskStream'
import type { ChatMessage, ConversationState } from './chat-model'
import { branch, newestLeaf, siblingsOf as siblingsIn } from '@cws/backend/tree'
import { useLocalStorage } from '@vueuse/core'
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import * as conversationsApi from '../api/conversations'
import { ApiError, isApiError } from '../api/http'
import * as modelsApi from '../api/models'
import { useFollowedAsks } from './chat-asks'
import { useFallbackChoices } from './chat-fallback'
import { blankMessage, emptyState, isLocal, stateFromDetail } from './chat-model'
import { useModelSwitch } from './chat-switch'
import { useConversationsStore } from './conversations'

export type { ChatMessage, ConversationState } from './chat-model'
export { toChatMessage } from './chat-model'
/** The branch ending at a message (default: the newest), root first (`@cws/backend/tree`). */
export { branch as buildThread } from '@cws/backend/tree'

/** Opening a conversation being answered waits this long at most for the answer as it is now. */
export const ATTACH_WAIT_MS = 1500

/** What the answer on screen is doing: `idle` when none is being written. */
export type AskPhase = 'idle' | AskState

/**
 * The conversation on screen and the asks this page follows (docs/architecture.md, "The SPA").
 *
 * Each ask is one `useAskStream` state machine, keyed by the conversation it writes in (one answer
 * at a time per conversation; several conversations may be answering). An ask this page sends shows
 * its question and an empty answer at once; `accepted` swaps in the server's ids. A failed
 * admission (4xx before `accepted`) drops them and gives the typed question back to the composer.
 * Opening a conversation whose answer is still being written (a reload, another tab) attaches to it.
 * Leaving a conversation does not stop its answer: the stream goes on in the background.
 */
export const useChatStore = defineStore('chat', () => {
  const conversations = useConversationsStore()
  const current = shallowRef<ConversationState>(emptyState())
  const loading = ref(false)
  const loadError = ref<ApiError | null>(null)
  /** Why the last ask could not start (shown above the composer; the question stays in the draft). */
  const composerError = ref<ApiError | null>(null)
  /** The composer's text; survives route changes and failed asks. */
  const draft = ref('')

  const models = ref<ModelStatus[]>([])
  const modelsLoaded = ref(false)
  const storedModel = useLocalStorage<string>('cws.chat.model', '')
  const fallbacks = useFallbackChoices()
  // The asks this page follows: after each, the models' remaining counts change.
  const followed = useFollowedAsks(() => void loadModels())
  const asks = followed.asks

  const messages = computed(() => branch(current.value.all, current.value.leafId))
  /** The ask being written in the conversation on screen. */
  const live = computed(() => asks.get(current.value) ?? null)
  const phase = computed<AskPhase>(() => live.value?.state ?? 'idle')
  const queue = computed(() => live.value?.queue ?? null)
  /** The connection dropped; following the answer again (not an error). */
  const reconnecting = computed(() => live.value?.reconnecting ?? false)
  /** An answer is being written in the conversation on screen. */
  const busy = computed(() => live.value !== null)
  const streamingKey = computed(() => live.value?.answer?.key ?? null)
  /** The conversations this page follows an answer in. */
  const answeringIds = computed(() => new Set([...asks.keys()].flatMap(s => (s.id ? [s.id] : []))))

  watch(() => current.value.id, id => conversations.setOpen(id), { immediate: true })
  // An answer waits for the shared accounts: the models' state changed; show it in the picker too.
  watch(() => queue.value?.waitingFor, (why) => {
    if (why)
      void loadModels()
  })

  /** The fallback model taken for the conversation on screen, if any. */
  const fallbackChoice = computed(() => {
    const choice = fallbacks.get(current.value)
    return choice && models.value.some(m => m.key === choice.model) ? choice : null
  })

  /** The model of the conversation on screen: its fallback when one was taken, else the member's choice. */
  const selectedModel = computed<string>({
    get: () => {
      const key = fallbackChoice.value?.model ?? storedModel.value
      if (models.value.length === 0 || models.value.some(m => m.key === key))
        return key
      return (models.value.find(m => m.available) ?? models.value[0])!.key
    },
    set: (v) => {
      // Picking a model by hand ends a fallback taken for this conversation.
      if (fallbackChoice.value) {
        if (fallbackChoice.value.model === v)
          return
        fallbacks.clear(current.value)
      }
      storedModel.value = v
    },
  })
  const selectedModelStatus = computed(() => models.value.find(m => m.key === selectedModel.value) ?? null)

  const lastMessage = computed(() => messages.value[messages.value.length - 1] ?? null)
  const canRegenerate = computed(() => !busy.value && lastMessage.value?.role === 'assistant' && !isLocal(lastMessage.value))
  const canContinue = computed(() => canRegenerate.value && lastMessage.value?.finishReason === 'length')

  /** Answers to the same question as `m`, oldest first (for the "2 / 3" switcher). */
  function siblingsOf(m: ChatMessage): ChatMessage[] {
    return m.role === 'assistant' ? siblingsIn(current.value.all, m) : []
  }

  function showBranch(messageId: string): void {
    current.value.leafId = newestLeaf(current.value.all, messageId)
  }

  async function loadModels(): Promise<void> {
    try {
      const res = await modelsApi.listModels()
      models.value = res.models
    }
    catch {}
    modelsLoaded.value = true
  }

  /** Shows a fresh, unsent chat (route `/`). */
  function newChat(): void {
    composerError.value = null
    loadError.value = null
    current.value = emptyState(selectedModel.value)
  }

  let openToken = 0
  /** Shows conversation `id` (route `/c/:id`); attaches to its answer if one is being written. */
  async function open(id: string): Promise<void> {
    if (current.value.id === id && !loadError.value)
      return
    composerError.value = null
    loadError.value = null
    const kept = [...asks.keys()].find(s => s.id === id)
    if (kept) {
      current.value = kept
      return
    }
    const token = ++openToken
    loading.value = true
    const placeholder = emptyState()
    placeholder.id = id
    current.value = placeholder
    try {
      const detail = await conversationsApi.getConversation(id)
      if (token !== openToken)
        return
      const state = stateFromDetail(detail)
      if (detail.activeRequestId) {
        // Show the answer as it is now (the snapshot), not as last stored, unless that takes long.
        const stream = followed.attach(state, detail.activeRequestId)
        await Promise.race([stream.opened, new Promise(resolve => setTimeout(resolve, ATTACH_WAIT_MS))])
        if (token !== openToken)
          return
      }
      current.value = state
      if (!fallbacks.get(state) && detail.model && models.value.some(m => m.key === detail.model && m.available))
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

  /** Sends an ask whose messages are already shown; `rollback` restores the view if it is refused. */
  async function start(state: ConversationState, action: ChatAction, user: ChatMessage | null, answer: ChatMessage, rollback: () => void, body: ChatBody): Promise<void> {
    composerError.value = null
    const end = await followed.send(state, action, user, answer, body)
    if (end.kind === 'refused' || end.kind === 'cancelled')
      rollback()
    if (end.kind === 'refused')
      composerError.value = end.error
  }

  /** Sends `content` as a new question. Resolves when the answer ended (or failed). */
  async function send(content: string): Promise<void> {
    const text = content.replace(/\s+$/, '')
    if (!text.trim() || busy.value)
      return
    const state = current.value
    const model = selectedModel.value
    const parent = messages.value[messages.value.length - 1] ?? null
    const parentId = parent && !isLocal(parent) ? parent.id : undefined
    const user = blankMessage('user', parentId ?? null, text, model, 'done')
    const answer = blankMessage('assistant', user.id, '', model, 'streaming')
    const prevLeaf = state.leafId
    state.all = [...state.all, user, answer]
    state.leafId = null
    if (!state.model)
      state.model = model
    draft.value = ''
    await start(state, 'next', user, answer, () => {
      state.all = state.all.filter(m => m !== user && m !== answer)
      state.leafId = prevLeaf
      // Give the question back so it can be sent again.
      if (!draft.value.trim())
        draft.value = text
    }, { conversationId: state.id ?? undefined, parentMessageId: parentId, model, content: text, action: 'next' })
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
    await start(state, 'regenerate', null, answer, () => {
      state.all = state.all.filter(m => m !== answer)
      state.leafId = prevLeaf ?? (last.role === 'assistant' ? last.id : null)
    }, { conversationId: state.id, parentMessageId: question.id, model, content: '', action: 'regenerate' })
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
    await start(state, 'continue', null, last, () => Object.assign(last, before), { conversationId: state.id, parentMessageId: last.id, model: selectedModel.value, content: '', action: 'continue' })
  }

  /** Retries a failed or interrupted answer: regenerates it. */
  async function retry(): Promise<void> {
    await regenerate()
  }

  /** Stops the answer on screen, on the server too (it ends with the text the server kept). */
  async function stop(): Promise<void> {
    await live.value?.stop()
  }

  const modelSwitch = useModelSwitch({ current, messages, draft, models, selectedModel, asks, fallbacks, start, regenerate, send })
  followed.onNamed(state => modelSwitch.named(state))

  function clearComposerError(): void {
    composerError.value = null
  }

  /** Called when a conversation was deleted (sidebar): the server ended its answer; stop following it. */
  function forget(id: string): void {
    for (const [state, stream] of asks) {
      if (state.id === id)
        stream.close()
    }
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
    reconnecting,
    composerError,
    draft,
    models,
    modelsLoaded,
    selectedModel,
    selectedModelStatus,
    fallbackChoice,
    busy,
    streamingKey,
    answeringIds,
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
    continueInNew: modelSwitch.continueInNew,
    takeFallback: modelSwitch.takeFallback,
    backToModel: modelSwitch.backToModel,
    forget,
    renamed,
  }
})
