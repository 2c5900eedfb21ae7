import type { ChatAction, ChatBody, ModelStatus } from '@cws/backend/contracts'
import type { ComputedRef, Ref, ShallowRef, WritableComputedRef } from 'vue'
import type { AskStream } from '../composables/useAskStream'
import type { useFallbackChoices } from './chat-fallback'
import type { ChatMessage, ConversationState } from './chat-model'
import { watch } from 'vue'
import { fallbackFor, fallbackMode } from '../views/chat/composables/poolNotes'
import { blankMessage, emptyState } from './chat-model'

export interface ModelSwitchDeps {
  current: ShallowRef<ConversationState>
  messages: ComputedRef<ChatMessage[]>
  draft: Ref<string>
  models: Ref<ModelStatus[]>
  selectedModel: WritableComputedRef<string>
  asks: ReadonlyMap<ConversationState, AskStream<ChatMessage>>
  fallbacks: ReturnType<typeof useFallbackChoices>
  start: (state: ConversationState, action: ChatAction, user: ChatMessage | null, answer: ChatMessage, rollback: () => void, body: ChatBody) => Promise<void>
  regenerate: () => Promise<void>
  send: (content: string) => Promise<void>
}

/**
 * Going on with another model or account: the fallback offered when a model's shared accounts
 * cannot answer ("use GPT-3.5 for this conversation", remembered for it), and "continue in a new
 * conversation" (`continueFrom`: the new one carries the earlier turns) when the account holding a
 * conversation is gone or the fallback lives on another upstream. Part of the chat store.
 */
export function useModelSwitch(d: ModelSwitchDeps) {
  /** A new conversation that carries the composer's text: cleared from it once the server accepted it. */
  let continuing: { state: ConversationState, text: string } | null = null

  /** The server named a new conversation this page started (its `accepted`). */
  function named(state: ConversationState): void {
    d.fallbacks.named(state)
    if (continuing?.state === state && d.draft.value === continuing.text)
      d.draft.value = ''
  }

  /** Resolves once no answer is being written in `state` (after a stop). */
  function idle(state: ConversationState): Promise<void> {
    return new Promise((resolve) => {
      const stopWatch = watch(() => d.asks.get(state), (stream) => {
        if (!stream) {
          queueMicrotask(() => stopWatch())
          resolve()
        }
      }, { immediate: true })
    })
  }

  /**
   * Starts a new conversation with `model` that carries the one on screen, asking `question` (default:
   * the composer's text, which stays there until the server accepted it), and shows it. Refused, the
   * old conversation is shown again with the question in the composer.
   */
  async function continueInNew(model: string, question?: string): Promise<void> {
    const from = d.current.value
    const text = (question ?? d.draft.value).replace(/\s+$/, '')
    if (!from.id || !text.trim() || d.asks.get(from))
      return
    const state = emptyState(model)
    state.title = from.title
    const user = blankMessage('user', null, text, model, 'done')
    const answer = blankMessage('assistant', user.id, '', model, 'streaming')
    state.all = [user, answer]
    // The member's usual model is unchanged: this conversation alone goes on with `model`.
    const usual = d.selectedModel.value
    if (model !== usual)
      d.fallbacks.choose(state, model, usual)
    if (question === undefined)
      continuing = { state, text }
    d.current.value = state
    await d.start(state, 'next', user, answer, () => {
      if (d.current.value === state)
        d.current.value = from
      if (!d.draft.value.trim())
        d.draft.value = text
    }, { model, content: text, continueFrom: from.id })
  }

  /**
   * Takes the fallback of the selected model (or `key`) for the conversation on screen. An answer
   * waiting in line for the model's accounts is stopped (nothing was written yet) and asked again
   * with the fallback; with `send`, the composer's question is sent with it. A fallback on another
   * upstream goes on in a new conversation.
   */
  async function takeFallback(opts: { key?: string, send?: boolean } = {}): Promise<void> {
    const state = d.current.value
    const from = d.models.value.find(m => m.key === d.selectedModel.value)
    const fallback = opts.key ? d.models.value.find(m => m.key === opts.key && m.available) : fallbackFor(from, d.models.value)
    if (!from || !fallback)
      return
    const waiting = d.asks.get(state)
    if (waiting && waiting.state !== 'queued')
      return
    const question = waiting ? [...d.messages.value].reverse().find(m => m.role === 'user')?.content : undefined
    if (waiting) {
      await waiting.stop()
      await idle(state)
    }
    if (fallbackMode(state, fallback, d.models.value) === 'new') {
      await continueInNew(fallback.key, question)
      return
    }
    d.fallbacks.choose(state, fallback.key, from.key)
    if (waiting)
      await d.regenerate()
    else if (opts.send && d.draft.value.trim())
      await d.send(d.draft.value)
  }

  /** Ends the fallback taken for the conversation on screen: back to the model it replaced. */
  function backToModel(): void {
    const choice = d.fallbacks.get(d.current.value)
    if (!choice)
      return
    d.fallbacks.clear(d.current.value)
    d.selectedModel.value = choice.instead
  }

  return { named, continueInNew, takeFallback, backToModel }
}
