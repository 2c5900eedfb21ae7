import type { ConversationDetail, MessageStatus, MessageView } from '@cws/backend/contracts'
import { reactive } from 'vue'

/** The chat store's data: a conversation on screen and its messages (all branches). */

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

let localSeq = 0
function localId(prefix: string): string {
  localSeq += 1
  return `local-${prefix}-${Date.now().toString(36)}-${localSeq}`
}

/** Not stored yet: shown at once, swapped for the server's id on `accepted`. */
export function isLocal(m: ChatMessage): boolean {
  return m.id.startsWith('local-')
}

export function toChatMessage(m: MessageView): ChatMessage {
  return { key: m.id, id: m.id, parentId: m.parentId, role: m.role, content: m.content, status: m.status, model: m.model, finishReason: m.finishReason, errorCode: m.errorCode, createdAt: m.createdAt }
}

/** A new message shown before the server stored it (`id` given: one the server named already). */
export function blankMessage(role: 'user' | 'assistant', parentId: string | null, content: string, model: string, status: MessageStatus, id = localId(role)): ChatMessage {
  return reactive({ key: id, id, parentId, role, content, status, model, finishReason: null, errorCode: null, createdAt: new Date().toISOString() }) as ChatMessage
}

export function emptyState(model = ''): ConversationState {
  const now = new Date().toISOString()
  return reactive({ id: null, title: '', model, createdAt: now, updatedAt: now, all: [], leafId: null }) as ConversationState
}

export function stateFromDetail(d: ConversationDetail): ConversationState {
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

/** The answer still being written in `state` (the newest such), if any. */
export function streamingAnswer(state: ConversationState): ChatMessage | null {
  for (let i = state.all.length - 1; i >= 0; i--) {
    const m = state.all[i]!
    if (m.role === 'assistant' && m.status === 'streaming')
      return m
  }
  return null
}
