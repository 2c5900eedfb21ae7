/**
 * The events of an ask that is no longer in memory (it ended more than a minute ago, or before a
 * restart), rebuilt from what is stored: a snapshot, as the stream protocol defines it.
 */
import type { ChatStreamEvent } from '../../contracts/chat.js'
import type { Frame } from '../streams/channel.js'
import type { AskSnapshot } from './asks.repository.js'

const ENDED_MESSAGES: Record<string, string> = {
  interrupted: 'This answer was interrupted; the text so far is kept.',
  error: 'The upstream failed to answer.',
}

export function storedFrames(s: AskSnapshot): Frame[] {
  const events: ChatStreamEvent[] = [{ event: 'accepted', data: { requestId: s.requestId, conversationId: s.conversationId, userMessageId: s.questionId, assistantMessageId: s.messageId } }]
  if (s.started)
    events.push({ event: 'started', data: {} })
  if (s.content)
    events.push({ event: 'delta', data: { text: s.content } })
  if (s.outcome === 'done' || s.outcome === 'stopped') {
    const finishReason = s.outcome === 'stopped' ? 'aborted' : (s.finishReason ?? 'other')
    events.push({ event: 'done', data: { finishReason: finishReason as 'stop' } })
  }
  else {
    events.push({ event: 'error', data: { code: s.errorCode ?? (s.outcome === 'error' ? 'UPSTREAM_ERROR' : 'INTERRUPTED'), message: ENDED_MESSAGES[s.outcome] ?? ENDED_MESSAGES.interrupted! } })
  }
  let k = 0
  return events.map((e) => {
    if (e.event !== 'delta')
      k++
    return { event: e.event, data: e.data, id: `${k}.${e.event === 'delta' || k > 2 ? s.content.length : 0}` }
  })
}
