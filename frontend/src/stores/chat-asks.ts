import type { ChatAction, ChatBody } from '@cws/backend/contracts'
import type { AskEnd, AskStream } from '../composables/useAskStream'
import type { ChatMessage, ConversationState } from './chat-model'
import { shallowReactive } from 'vue'
import { useAskStream } from '../composables/useAskStream'
import { blankMessage, streamingAnswer } from './chat-model'
import { useConversationsStore } from './conversations'

/**
 * The asks this page follows, one per conversation (several conversations may be answering): each
 * a `useAskStream` state machine wired to its conversation's messages and to its sidebar entry.
 * Part of the chat store, called in its setup; `onEnd` runs after each ask ended.
 */
export function useFollowedAsks(onEnd: () => void) {
  const conversations = useConversationsStore()
  const asks = shallowReactive(new Map<ConversationState, AskStream<ChatMessage>>())
  let namedHook: (state: ConversationState) => void = () => {}

  function retitle(state: ConversationState, title: string): void {
    state.title = title
    if (state.id)
      conversations.setTitle(state.id, title)
  }

  /** Follows `stream` until it ends; the conversation's mark in the sidebar follows too. */
  async function follow(state: ConversationState, stream: AskStream<ChatMessage>, run: Promise<AskEnd>): Promise<AskEnd> {
    asks.set(state, stream)
    const end = await run
    if (asks.get(state) === stream)
      asks.delete(state)
    if (state.id && end.kind !== 'refused' && end.kind !== 'cancelled' && end.kind !== 'detached')
      conversations.finished(state.id)
    onEnd()
    return end
  }

  /** Follows the answer `requestId` being written in `state` (opened after a reload, or in another tab). */
  function attach(state: ConversationState, requestId: string): AskStream<ChatMessage> {
    const stream = useAskStream<ChatMessage>(streamingAnswer(state), {
      accepted: (e) => {
        let answer = state.all.find(m => m.id === e.assistantMessageId)
        if (!answer) {
          answer = blankMessage('assistant', e.userMessageId, '', state.model, 'streaming', e.assistantMessageId)
          state.all = [...state.all, answer]
        }
        answer.status = 'streaming'
        conversations.setActive(e.conversationId, e.requestId)
        return answer
      },
      title: title => retitle(state, title),
    })
    void follow(state, stream, stream.attach(requestId))
    return stream
  }

  /** Sends an ask whose messages are already shown (`user`: its new question, if any; `answer`: where the text goes). */
  function send(state: ConversationState, action: ChatAction, user: ChatMessage | null, answer: ChatMessage, body: ChatBody): Promise<AskEnd> {
    let named = false
    const stream = useAskStream<ChatMessage>(answer, {
      accepted: (e) => {
        // Again at each snapshot after a reconnect: nothing new then.
        if (named)
          return answer
        named = true
        const isNew = state.id === null
        state.id = e.conversationId
        if (user)
          user.id = e.userMessageId
        if (user || action === 'regenerate')
          answer.parentId = e.userMessageId
        answer.id = e.assistantMessageId
        if (isNew && !state.title && e.title)
          state.title = e.title
        state.updatedAt = new Date().toISOString()
        if (isNew) {
          conversations.upsert({ id: state.id, title: state.title, model: state.model, createdAt: state.createdAt, updatedAt: state.updatedAt, activeRequestId: e.requestId })
          namedHook(state)
        }
        else {
          conversations.touch(state.id)
          conversations.setActive(state.id, e.requestId)
        }
        return answer
      },
      title: title => retitle(state, title),
    })
    return follow(state, stream, stream.send(body))
  }

  /** Runs `hook` whenever the server named a new conversation this page started (its `accepted`). */
  function onNamed(hook: (state: ConversationState) => void): void {
    namedHook = hook
  }

  return { asks, attach, send, onNamed }
}
