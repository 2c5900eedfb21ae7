import type { ConversationState } from './chat-model'
import { useLocalStorage } from '@vueuse/core'
import { reactive } from 'vue'

/** A fallback model the member chose for one conversation, instead of `instead`. */
export interface FallbackChoice {
  model: string
  instead: string
  /** When it was chosen (ms), to forget the oldest ones. */
  at: number
}

export const FALLBACK_STORAGE_KEY = 'cws.chat.fallbacks'
/** Choices kept at most (the oldest are forgotten first). */
export const MAX_CHOICES = 200

/**
 * The fallback model taken for a conversation ("use GPT-3.5 for this conversation"), remembered
 * per conversation id in localStorage, so it survives a reload. A new conversation has no id yet:
 * its choice is held with the conversation on screen and kept under its id once the server named it
 * (`named`). Part of the chat store.
 */
export function useFallbackChoices() {
  const stored = useLocalStorage<Record<string, FallbackChoice>>(FALLBACK_STORAGE_KEY, {})
  const unnamed = reactive(new WeakMap<ConversationState, FallbackChoice>())

  function get(state: ConversationState): FallbackChoice | null {
    return (state.id ? stored.value[state.id] : undefined) ?? unnamed.get(state) ?? null
  }

  function keep(id: string, choice: FallbackChoice): void {
    const next = { ...stored.value, [id]: choice }
    const ids = Object.keys(next)
    if (ids.length > MAX_CHOICES) {
      ids.sort((a, b) => next[a]!.at - next[b]!.at)
      for (const old of ids.slice(0, ids.length - MAX_CHOICES))
        delete next[old]
    }
    stored.value = next
  }

  function choose(state: ConversationState, model: string, instead: string): void {
    const choice = { model, instead, at: Date.now() }
    if (state.id)
      keep(state.id, choice)
    else
      unnamed.set(state, choice)
  }

  function clear(state: ConversationState): void {
    unnamed.delete(state)
    if (state.id && stored.value[state.id]) {
      const { [state.id]: _, ...rest } = stored.value
      stored.value = rest
    }
  }

  /** The server named a new conversation (`accepted`): its choice is kept under that id from now on. */
  function named(state: ConversationState): void {
    const choice = unnamed.get(state)
    if (choice && state.id) {
      unnamed.delete(state)
      keep(state.id, choice)
    }
  }

  return { get, choose, clear, named }
}
